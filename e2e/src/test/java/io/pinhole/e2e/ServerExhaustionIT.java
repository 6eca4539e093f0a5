package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import io.pinhole.e2e.tools.RegisterLoad;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The rendezvous server cannot be exhausted (issue 9, item 4). A load generator on the server's
 * host ({@link RegisterLoad}, the real protocol from 127.0.0.0/8 source addresses) has one source
 * try to fill the table (it stops at its quota), fills the rest with unpaired registrations of
 * 14 more sources that keep refreshing, then floods Diffie-Hellman-costing REGISTERs (valid
 * cookies, wrong MACs) from 80 addresses at 4,000 a second; two seconds into the flood two
 * newcomers from fresh addresses register wanting each other. They must pair within 5 s, the
 * Diffie-Hellmans stay within the global budget, the incumbents' refreshes are answered, the
 * tunnel between A and B (established before) keeps passing pings, and the server logs a few
 * lines about thousands of refusals. On the old server the newcomers never got in (0 of 200, a
 * full table was first come, never evicted), and it had no quotas or budgets to set.
 */
@ExtendWith(LabExtension.class)
class ServerExhaustionIT {
    static final int TABLE = 300;
    static final int PER_SOURCE = 32;
    static final int DH_RATE = 200;
    static final int ONE_SOURCE_KEYS = 50;
    static final int FILL_SOURCES = 14;
    static final int FILL_KEYS = (TABLE - 2 - PER_SOURCE) / FILL_SOURCES; // 19: with A and B, the table is full
    static final int FLOOD_SOURCES = 80;
    static final int FLOOD_RATE = 4000;
    static final int FLOOD_SECONDS = 15;

    @Test
    void oneSourceAndAFloodFromManyAddressesCannotKeepANewPairOut(Pinhole pinhole) {
        Lab lab = pinhole.lab();
        Lab.Proc server = pinhole.startServer("--stats-interval", "1", "--max-registrations", String.valueOf(TABLE),
            "--max-per-source", String.valueOf(PER_SOURCE), "--dh-rate", String.valueOf(DH_RATE));
        Lab.Proc a = pinhole.startClient(Peer.A);
        Lab.Proc b = pinhole.startClient(Peer.B);
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel", a, b);
        pinhole.assertPings(Peer.A, 3);

        say("A pings B every 200 ms for 30 s while the load runs on the server's host.");
        Lab.Proc ping = lab.start("a", "ping-during-load", "ping", "-n", "-c", "150", "-i", "0.2", "-W", "2",
            Peer.A.remote);
        Lab.Result load = lab.exec("rdv", Duration.ofSeconds(90), pinhole.protocolTool(RegisterLoad.class,
            String.valueOf(Pinhole.RDV_PORT), String.valueOf(ONE_SOURCE_KEYS), String.valueOf(FILL_SOURCES),
            String.valueOf(FILL_KEYS), String.valueOf(FLOOD_SOURCES), String.valueOf(FLOOD_RATE),
            String.valueOf(FLOOD_SECONDS)));
        say("load generator: " + load.output().strip());
        assertTrue(load.ok(), "the load generator failed: " + load);
        assertTrue(Lab.await(Duration.ofSeconds(40), Duration.ofMillis(200), () -> !ping.isAlive()), "ping did not end");
        int[] pings = ForgedPacketsIT.pingCounts(ping);
        say("ping A->B during the load: " + pings[0] + " sent, " + pings[1] + " answered");
        String stats = ForgedPacketsIT.lastStats(server);
        say("server: " + stats);

        String out = load.output();
        long paired = number(out, "newcomers: paired in (\\d+) ms");
        long dh = number(out, "answered after a Diffie-Hellman");
        long forged = number(out, "flood: (\\d+) forged");
        long refreshes = number(out, "incumbents: (\\d+) of");
        long refreshesSent = number(out, "incumbents: \\d+ of (\\d+)");
        long refusalLines = server.logText().lines().filter(l -> l.matches(".*dropped (a|[0-9,]+) (REGISTER|RELAY).*"))
            .count();
        long dropped = number(stats, "(\\d+) dropped");
        say("newcomers paired after " + paired + " ms; " + dh + " Diffie-Hellmans for " + forged + " forged REGISTERs; "
            + refusalLines + " log lines about " + dropped + " drops");
        assertAll("the server under load",
            () -> assertTrue(out.contains("one-source: " + PER_SOURCE + " of " + ONE_SOURCE_KEYS + " registered"),
                "one source was not held to its quota of " + PER_SOURCE + ": " + out),
            () -> assertTrue(out.contains("fill: " + FILL_SOURCES * FILL_KEYS + " of " + FILL_SOURCES * FILL_KEYS),
                "the table was not filled: " + out),
            () -> assertTrue(paired >= 0 && paired <= 5000, "the newcomers did not pair within 5 s: " + out),
            () -> assertTrue(forged >= FLOOD_RATE * FLOOD_SECONDS / 2, "the flood did not happen: " + out),
            () -> assertTrue(dh <= (long) DH_RATE * (FLOOD_SECONDS + 1), dh + " Diffie-Hellmans for the flood in "
                + FLOOD_SECONDS + " s, beyond the budget of " + DH_RATE + " a second"),
            () -> assertTrue(refreshesSent > 0 && refreshes >= refreshesSent * 99 / 100,
                "the incumbents' refreshes went unanswered: " + out),
            () -> assertTrue(stats.contains(" " + TABLE + " registrations"), "the table is not full: " + stats),
            () -> assertTrue(stats.contains("source_full") && stats.contains("evicted")
                && (stats.contains("dh_share") || stats.contains("dh_budget")), "refusals not counted by reason: " + stats),
            () -> assertTrue(pings[1] >= pings[0] - 2, "the tunnel lost pings during the load: " + pings[1] + " of "
                + pings[0]),
            () -> assertTrue(dropped > 10_000 && refusalLines <= 12, refusalLines + " log lines about refusals for "
                + dropped + " drops: not throttled"),
            () -> assertTrue(server.isAlive(), "the server died"));
        pinhole.assertPings(Peer.A, 5);
        pinhole.assertPings(Peer.B, 5);
    }

    /** The first group of {@code regex} in {@code text} (or the number before it, with no group); -1 if absent. */
    private static long number(String text, String regex) {
        Matcher m = Pattern.compile(regex.contains("(") ? regex : "(\\d+) " + regex).matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }
}
