package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A tunnel that can only be relayed (NAT A lets UDP out to the rendezvous host alone) loses its
 * path when the server restarts: the new server knows nobody and drops the frames. The peers
 * notice within about a second (a probe through the relay goes unanswered) and re-register, so the
 * tunnel is back a few seconds after the server, not after the 15 s dead-peer rule (issue 8, trap 5).
 */
@ExtendWith(LabExtension.class)
@Nat(a = "blocked", b = "home")
class RelayedServerRestartIT {
    private static final Pattern REPLY = Pattern.compile("^\\[(\\d+\\.\\d+)\\] \\d+ bytes from ", Pattern.MULTILINE);

    @Test
    void theRelayedTunnelIsBackSoonAfterTheServerRestarts(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        long started = System.nanoTime();
        Pinhole.Running run = pinhole.startAll();
        assertTrue(pinhole.awaitPath("relayed", Duration.ofSeconds(15)), "relayed: " + pinhole.status(Peer.A));
        // Registrations are refreshed 5 s after they pair, then every 20 s: start between the two,
        // so that no refresh happens to find the new server by chance.
        Thread.sleep(Math.max(0, 7_000 - (System.nanoTime() - started) / 1_000_000));

        say("Pings every 200 ms for 20 s; 2 s in, the server stops and a new one starts 2.5 s later.");
        Lab.Proc ping = lab.start("a", "ping-a", "ping", "-n", "-D", "-i", "0.2", "-c", "100", "-W", "1",
            Peer.A.remote);
        Thread.sleep(2_000);
        long stoppedAt = System.currentTimeMillis();
        lab.stop(run.server());
        Thread.sleep(2_500);
        Lab.Proc server2 = pinhole.startServer(); // returns once it listens
        long backAt = System.currentTimeMillis();
        assertTrue(Lab.await(Duration.ofSeconds(30), Duration.ofMillis(200), () -> !ping.isAlive()), "ping ended");

        List<Double> replies = new ArrayList<>();
        Matcher m = REPLY.matcher(ping.logText());
        while (m.find()) {
            replies.add(Double.parseDouble(m.group(1)));
        }
        double longest = 0;
        double gapEnd = 0;
        for (int i = 1; i < replies.size(); i++) {
            if (replies.get(i) - replies.get(i - 1) > longest) {
                longest = replies.get(i) - replies.get(i - 1);
                gapEnd = replies.get(i);
            }
        }
        long afterServer = Math.round(gapEnd * 1000) - backAt;
        say("server down " + (backAt - stoppedAt) + " ms (stop to listening); " + replies.size()
            + " of 100 pings answered; longest gap " + Math.round(longest * 1000) + " ms, the tunnel back "
            + afterServer + " ms after the new server listened");
        assertTrue(server2.isAlive() && run.a().isAlive() && run.b().isAlive());
        assertTrue(afterServer <= 4_000, "the relayed tunnel came back " + afterServer
            + " ms after the server (the dead-peer rule alone takes 15 s)");
        assertTrue(pinhole.awaitPath("relayed", Duration.ofSeconds(5)));
        pinhole.assertPings(Peer.B, 3);
    }
}
