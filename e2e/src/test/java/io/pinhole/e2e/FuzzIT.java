package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.pinhole.e2e.Pinhole.Peer;
import io.pinhole.e2e.tools.UdpFuzz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Millions of random and mutated datagrams (mutations of real captured pinhole and WireGuard
 * traffic, shaped random messages, plain noise) from an attacker host on the public side, at the
 * rendezvous server's port and at client B's port, paced so most reach the socket. The programs
 * keep running, the server counts what it dropped, the tunnel keeps passing pings during (some
 * loss allowed) and after (none), and no process's memory keeps growing (VmRSS: at most +64 MB over the
 * second half of the flood, once the JVMs have sized their heaps; before/after numbers are printed too).
 *
 * <p>Count and rate: {@code -Dpinhole.fuzz.count} (default 2,000,000 per target) and
 * {@code -Dpinhole.fuzz.rate} (datagrams per second, default 30,000: about 67 s per target).
 */
@ExtendWith(LabExtension.class)
class FuzzIT {

    static final long COUNT = Long.getLong("pinhole.fuzz.count", 2_000_000L);
    static final long RATE = Long.getLong("pinhole.fuzz.rate", 30_000L);
    /** How much a process's resident memory may grow over the second half of a flood (see Flood#rssWarm). */
    static final long RSS_BOUND_KB = 64 * 1024;
    static final Pattern STATS = Pattern.compile(
        "stats: (\\d+) datagrams, \\d+ registrations, \\d+ pairings, (\\d+) challenges, (\\d+) dropped"
            + "( \\([a-z_]+ \\d+(, [a-z_]+ \\d+)*\\))?, relayed");

    @Test
    void rendezvousServerSurvivesTheFlood(Pinhole pinhole) throws Exception {
        Setup s = setUp(pinhole);
        long[] before = stats(s.server);
        Flood f = flood(s, "rdv", Pinhole.RDV_IP, Pinhole.RDV_PORT, List.of(Attacker.OWN, Attacker.OWN + 1, Attacker.OWN + 2,
            Attacker.OWN + 3));

        say("The server logs a stats line every second when something changed: wait for the one after the flood.");
        Thread.sleep(2500);
        long[] after = stats(s.server);
        long datagrams = after[0] - before[0];
        long challenges = after[1] - before[1];
        long dropped = after[2] - before[2];
        say("server during the flood: " + datagrams + " datagrams, " + dropped + " dropped, " + challenges
            + " challenges; last line: " + lastStats(s.server));
        assertAll("the rendezvous server under the flood",
            () -> assertTrue(datagrams >= COUNT / 2, "only " + datagrams + " of " + COUNT + " datagrams reached the server"),
            () -> assertTrue(dropped + challenges >= datagrams - 50, "the server acted on fuzz: of " + datagrams
                + " datagrams only " + dropped + " were dropped and " + challenges + " challenged"),
            () -> assertTrue(dropped >= datagrams / 2, "the stats line does not count the drops: " + lastStats(s.server)));
        f.assertSurvived(pinhole, s);
    }

    @Test
    void clientSurvivesTheFlood(Pinhole pinhole) throws Exception {
        Setup s = setUp(pinhole);
        say("B is reached from the attacker's own address (NAT B's port forward), and spoofed as the rendezvous server"
            + " and as A (through NAT B's existing mappings).");
        s.attacker.spoof(Attacker.AS_A, s.regA.ip(), s.regA.port());
        s.attacker.spoof(Attacker.AS_RDV, Pinhole.RDV_IP, Pinhole.RDV_PORT);
        Attacker.forwardToB(pinhole.lab(), s.regB.port(), ForgedPacketsIT.localPort(s.b));
        Flood f = flood(s, "b", s.regB.ip(), s.regB.port(), List.of(Attacker.OWN, Attacker.AS_RDV, Attacker.OWN + 1,
            Attacker.AS_A));
        assertTrue(f.delivered >= COUNT / 2, "only " + f.delivered + " of " + COUNT + " datagrams reached B's namespace");
        f.assertSurvived(pinhole, s);
    }

    // ------------------------------------------------------------------ the flood

    record Setup(Lab lab, Attacker attacker, Lab.Proc server, Lab.Proc a, Lab.Proc b, Attacker.Registration regA,
                 Attacker.Registration regB, Path seeds) {}

    /** Server (stats every second), both clients, the tunnel, the attacker host, and seeds captured on NAT A's WAN. */
    static Setup setUp(Pinhole pinhole) throws Exception {
        Prerequisites.requireTools("nstat", "iproute2", "tcpdump", "tcpdump");
        Lab lab = pinhole.lab();
        Attacker attacker = Attacker.add(lab);
        say("Capture NAT A's WAN while the tunnel comes up: the real datagrams the fuzzer mutates.");
        Capture cap = Capture.start(lab, "nata", "wan", "nata-wan-seeds", "udp");
        Lab.Proc server = pinhole.startServer("--stats-interval", "1");
        Lab.Proc a = pinhole.startClient(Peer.A);
        Lab.Proc b = pinhole.startClient(Peer.B);
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel", a, b);
        Net.assertPings(lab, "a", Peer.A.remote, 3);
        Net.assertPings(lab, "b", Peer.B.remote, 3);
        List<Pcap.Packet> packets = cap.stop();
        Set<String> seeds = new LinkedHashSet<>();
        for (Pcap.Packet p : packets) {
            if (p.isUdp() && p.payload().length > 0) {
                seeds.add(HexFormat.of().formatHex(p.payload()));
            }
        }
        Path file = lab.logDir().resolve("fuzz-seeds.txt");
        Files.write(file, seeds);
        say(seeds.size() + " distinct seed datagrams: " + ForgedPacketsIT.describe(seeds.stream().map(HexFormat.of()::parseHex).toList()));
        Attacker.Registration regA = Attacker.registration(server, Pinhole.shortId(pinhole.publicKey(Peer.A)));
        Attacker.Registration regB = Attacker.registration(server, Pinhole.shortId(pinhole.publicKey(Peer.B)));
        assertNotNull(regA, "no registration of A in the server's log");
        assertNotNull(regB, "no registration of B in the server's log");
        return new Setup(lab, attacker, server, a, b, regA, regB, file);
    }

    /** What one flood did. */
    static final class Flood {
        long[] rssBefore;
        /** Half-way through the flood: the JVMs have sized their heaps by then (see assertSurvived). */
        long[] rssWarm;
        long[] rssAfter;
        long delivered;
        long bufferErrors;
        int[] duringPing;

        void assertSurvived(Pinhole pinhole, Setup s) {
            Lab lab = pinhole.lab();
            say("Every program still runs, the tunnel passes every ping now, and no process grew by "
                + RSS_BOUND_KB / 1024 + " MB or more over the second half of the flood.");
            Lab.Proc[] procs = {s.server, s.a, s.b};
            assertAll("after the flood",
                () -> assertTrue(s.server.isAlive(), "the server died: " + s.server.exitCode().orElse(null)),
                () -> assertTrue(s.a.isAlive(), "client A died: " + s.a.exitCode().orElse(null)),
                () -> assertTrue(s.b.isAlive(), "client B died: " + s.b.exitCode().orElse(null)),
                () -> assertTrue(duringPing[1] > 0, "not one ping crossed the tunnel during the flood"),
                () -> {
                    // A JVM under a high allocation rate first grows its young generation (its RSS jumps by up to
                    // a few hundred MB, then stays flat: the heap's initial size here is 1/64 of RAM); a leak
                    // keeps growing with every datagram. So the bound applies to the second half of the flood.
                    for (int i = 0; i < procs.length; i++) {
                        long grew = rssAfter[i] - rssWarm[i];
                        assertTrue(grew < RSS_BOUND_KB, procs[i] + " grew by " + grew + " kB over the second half of the"
                            + " flood (from " + rssWarm[i] + " kB; " + rssBefore[i] + " kB before it)");
                    }
                },
                () -> Net.assertPings(lab, "a", Peer.A.remote, 10),
                () -> Net.assertPings(lab, "b", Peer.B.remote, 10));
            for (Lab.Proc p : procs) {
                assertTrue(!p.logText().contains("[ERROR]") && !p.logText().contains("Exception"), p + " logged an error:\n"
                    + p.logText());
            }
        }
    }

    /** Pings A->B throughout a flood from the attacker at {@code host:port} (in namespace {@code node}). */
    static Flood flood(Setup s, String node, String host, int port, List<Integer> localPorts) throws Exception {
        Lab lab = s.lab();
        Flood f = new Flood();
        Lab.Proc[] procs = {s.server, s.a, s.b};
        f.rssBefore = rss(procs);
        long inBefore = Net.nstat(lab, node, "UdpInDatagrams");
        long bufBefore = Net.nstat(lab, node, "UdpRcvbufErrors");
        long errBefore = Net.nstat(lab, node, "UdpInErrors");

        Lab.Proc ping = lab.start("a", "ping-during-flood", "ping", "-n", "-c", "100000", "-i", "0.2", "-W", "2", Peer.A.remote);
        long seed = System.nanoTime();
        say("Flood " + host + ":" + port + " (" + node + ") with " + COUNT + " datagrams at " + RATE + "/s (seed " + seed
            + "), while A pings B every 200 ms.");
        Lab.Proc fuzzer = lab.start(Attacker.NODE, "fuzzer-" + node, Pinhole.javaTool(UdpFuzz.class, host, String.valueOf(port),
            String.valueOf(COUNT), String.valueOf(RATE), String.valueOf(seed), s.seeds().toString(),
            String.join(",", localPorts.stream().map(String::valueOf).toList())));
        long deadline = System.nanoTime() + Duration.ofSeconds(COUNT / Math.max(1, RATE) * 3 + 120).toNanos();
        List<String> trajectory = new java.util.ArrayList<>();
        long t0 = System.nanoTime();
        long warmUpAt = COUNT * 1000 / Math.max(1, RATE) / 2; // ms: half-way through the flood
        long nextSample = 0;
        while (fuzzer.isAlive() && System.nanoTime() < deadline) {
            long ms = (System.nanoTime() - t0) / 1_000_000L;
            if (f.rssWarm == null && ms >= warmUpAt) {
                f.rssWarm = rss(procs);
                trajectory.add((ms / 1000) + " s (half-way): " + describe(procs, f.rssWarm));
            }
            if (ms >= nextSample) {
                nextSample = ms + 10_000;
                trajectory.add((ms / 1000) + " s: " + describe(procs, rss(procs)));
            }
            Thread.sleep(200);
        }
        if (fuzzer.isAlive()) {
            lab.stop(fuzzer);
        }
        say("fuzzer: " + fuzzer.logText().strip());
        say("VmRSS while flooding: " + String.join("; ", trajectory));
        lab.interrupt(ping);
        assertTrue(fuzzer.exitCode().orElse(-1) == 0 && fuzzer.logText().contains("sent " + COUNT + " datagrams"),
            "the fuzzer failed or did not finish: " + fuzzer.logText());
        assertTrue(Lab.await(Duration.ofSeconds(10), Duration.ofMillis(100), () -> !ping.isAlive()), "ping did not stop");
        f.duringPing = ForgedPacketsIT.pingCounts(ping);
        say("ping A->B during the flood: " + f.duringPing[0] + " sent, " + f.duringPing[1] + " answered");

        f.delivered = Net.nstat(lab, node, "UdpInDatagrams") - inBefore;
        f.bufferErrors = Net.nstat(lab, node, "UdpRcvbufErrors") - bufBefore;
        long inErrors = Net.nstat(lab, node, "UdpInErrors") - errBefore;
        say("UDP in " + node + " during the flood: " + f.delivered + " delivered to sockets, UdpRcvbufErrors " + f.bufferErrors
            + ", UdpInErrors " + inErrors);
        Thread.sleep(1000); // let the receivers drain their buffers before measuring memory
        f.rssAfter = rss(procs);
        assertNotNull(f.rssWarm, "the flood ended before half-way: no sample there");
        for (int i = 0; i < procs.length; i++) {
            say("VmRSS of " + procs[i].name() + ": " + f.rssBefore[i] + " kB before, " + f.rssWarm[i] + " kB half-way ("
                + signed(f.rssWarm[i] - f.rssBefore[i]) + " kB), " + f.rssAfter[i] + " kB after (" + signed(f.rssAfter[i] - f.rssWarm[i])
                + " kB over the second half, " + signed(f.rssAfter[i] - f.rssBefore[i]) + " kB in all)");
        }
        return f;
    }

    static long[] rss(Lab.Proc[] procs) {
        long[] out = new long[procs.length];
        for (int i = 0; i < procs.length; i++) {
            assertTrue(procs[i].isAlive(), procs[i] + " died during the flood: " + procs[i].exitCode().orElse(null));
            out[i] = Net.rssKb(procs[i]);
        }
        return out;
    }

    static String describe(Lab.Proc[] procs, long[] kb) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < procs.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(procs[i].name()).append(' ').append(kb[i] / 1024).append(" MB");
        }
        return sb.toString();
    }

    static String signed(long n) {
        return (n >= 0 ? "+" : "") + n;
    }

    /** {datagrams, challenges, dropped} of the server's last stats line (zeros before the first). */
    static long[] stats(Lab.Proc server) {
        Matcher m = STATS.matcher(lastStats(server));
        return m.find() ? new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))}
            : new long[3];
    }

    static String lastStats(Lab.Proc server) {
        return ForgedPacketsIT.lastStats(server);
    }
}
