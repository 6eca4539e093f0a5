package io.pinhole.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PathKind;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * ServerRestartSimTest: the rendezvous server restarts (its table lost, its key kept, as
 * {@code pinhole-rendezvous} keeps it) and comes back 2.5 s later (issue 8, trap 5). A relayed
 * tunnel, whose path is the server, must resume within a few seconds of the server's return, not
 * after the 15 s dead-peer rule; a direct tunnel keeps flowing and both peers are registered again
 * within one 8 s backoff step. A server that comes back with a new key (its key file lost) is
 * refused by clients that trusted the old one (issue 9, item 3): the direct tunnel goes on, the
 * clients never register there, and restarting a client is what makes it trust the new key.
 */
class ServerRestartSimTest {
    private static final Duration DOWN = Duration.ofMillis(2_500);


    @Test
    void aRelayedTunnelResumesSoonAfterTheServerComesBack() {
        SimLab lab = SimLab.of(3, 0, SimLab.Mode.BLOCKED, SimLab.Mode.HOME);
        assertTrue(lab.startAndConnect(Duration.ofSeconds(5)), lab::describe);
        lab.net.runFor(Duration.ofSeconds(15)); // the punching round ends: the pair stays on the relay
        assertEquals(PathKind.RELAYED, lab.a.machine().path());

        long gap = lab.longestGap(lab.a, lab.b, Duration.ofSeconds(20), Duration.ofMillis(100), () -> {
            lab.server.stop();
            lab.net.schedule(DOWN, lab.server::start);
        });

        // Down 2.5 s; each side notices within about 1 s (a probe through the relay unanswered) and
        // re-registers with a backoff of 1 s, then 2 s: out 5.1 s in all, over seeds 1-5 (the
        // dead-peer rule alone took 15 s and more).
        assertTrue(gap <= 6_000, "the relayed tunnel was out for " + gap + " ms");
        assertEquals(PathKind.RELAYED, lab.a.machine().path());
        assertEquals(2, lab.server.core().registrations());
    }

    @Test
    void aDirectTunnelKeepsFlowingAndBothPeersRegisterAgainWithinOneBackoffStep() {
        SimLab lab = SimLab.homeRouters();
        assertTrue(lab.startAndConnect(Duration.ofSeconds(3)));
        assertTrue(lab.bothDirect(Duration.ofSeconds(5)));

        long gap = lab.longestGap(lab.a, lab.b, Duration.ofSeconds(5), Duration.ofMillis(100), () -> {
            lab.server.stop();
            lab.net.schedule(Duration.ofSeconds(30), lab.server::start);
        });
        assertTrue(gap <= 200, "the direct path does not need the server: gap " + gap + " ms");
        lab.net.runFor(Duration.ofSeconds(26)); // the server is back
        assertTrue(lab.net.runUntil(() -> lab.server.core().registrations() == 2, Duration.ofSeconds(31)),
                "both registered again within the 30 s backoff of a direct path");
    }

    @Test
    void aServerBackWithANewKeyIsRefusedTheDirectTunnelGoesOnAndARestartedClientTrustsIt() {
        SimLab lab = SimLab.homeRouters();
        assertTrue(lab.startAndConnect(Duration.ofSeconds(3)));
        assertTrue(lab.bothDirect(Duration.ofSeconds(5)));

        lab.server.stop();
        lab.server.startWithNewKey();
        long gap = lab.longestGap(lab.a, lab.b, Duration.ofSeconds(60), Duration.ofMillis(100), () -> { });

        assertTrue(gap <= 200, "the direct path does not need the server: gap " + gap + " ms");
        assertEquals(0, lab.server.core().registrations(), "neither client registered under the new key");
        for (SimPeer peer : java.util.List.of(lab.a, lab.b)) {
            assertTrue(peer.machine().drops().getOrDefault(io.pinhole.peer.PeerDrop.SERVER_KEY_MISMATCH, 0L) > 0,
                    peer.machine().drops().toString());
        }

        lab.b.restart(40001); // the operator restarts b: a new run learns the new key
        assertTrue(lab.net.runUntil(() -> lab.server.core().registrations() == 1, Duration.ofSeconds(5)),
                "the restarted client registered with the new key");
        lab.net.runFor(Duration.ofSeconds(20));
        assertEquals(1, lab.server.core().registrations(), "a, which trusts the old key, still does not");
    }
}
