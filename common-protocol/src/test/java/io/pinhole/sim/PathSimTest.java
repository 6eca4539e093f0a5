package io.pinhole.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PathKind;
import io.pinhole.peer.PeerStatus;
import java.net.InetAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * PathSimTest: how the tunnel's path moves, told as scripts in the simulated network: it starts
 * on the relay, goes direct without losing a packet, falls back to the relay when the direct
 * path goes silent (instead of blackholing), and goes direct again once it can.
 */
class PathSimTest {

    @Test
    void theTunnelStartsOnTheRelayAndMovesDirectWithoutLosingAPacket() {
        SimLab lab = SimLab.homeRouters();
        lab.a.start();
        lab.b.start();
        assertTrue(lab.net.runUntil(() -> lab.a.machine().path() == PathKind.RELAYED, Duration.ofSeconds(3)),
                "a's tunnel starts on the relay as soon as the partner is known");

        // packets every 10 ms while the path moves from the relay to the direct one
        int sent = 0;
        while (sent < 300) {
            lab.a.sendIp(SimLab.packet(sent++));
            lab.net.runFor(Duration.ofMillis(10));
        }
        lab.net.runFor(Duration.ofSeconds(1));
        assertEquals(PathKind.DIRECT, lab.a.machine().path());
        assertEquals(PathKind.DIRECT, lab.b.machine().path());
        assertEquals(sent, lab.b.delivered().size(), "every packet arrived: staged, relayed or direct");
        for (int i = 0; i < sent; i++) {
            assertEquals(SimLab.packet(i).length, lab.b.delivered().get(i).length);
        }
        PeerStatus status = lab.a.machine().status();
        assertTrue(status.rttNanos() > 0, "the direct path's RTT is measured: " + status);
        assertEquals(lab.publicNatB().publicAddress(), status.endpoint().getAddress());
    }

    @Test
    void aDirectPathThatGoesSilentFallsBackToTheRelayAndComesBackWhenItWorksAgain() throws Exception {
        SimLab lab = SimLab.homeRouters();
        assertTrue(lab.startAndConnect(Duration.ofSeconds(3)));
        assertTrue(lab.bothDirect(Duration.ofSeconds(2)));
        InetAddress natA = lab.publicNatA().publicAddress();
        InetAddress natB = lab.publicNatB().publicAddress();

        // the internet between the two NATs drops everything; the rendezvous host still answers
        lab.net.cut(natA, natB, true);
        long cutAt = lab.net.now();
        assertTrue(lab.net.runUntil(() -> lab.a.machine().path() == PathKind.RELAYED
                && lab.b.machine().path() == PathKind.RELAYED, Duration.ofSeconds(12)), lab::describe);
        long fallbackMillis = (lab.net.now() - cutAt) / 1_000_000;
        assertTrue(fallbackMillis >= 7_900 && fallbackMillis <= 10_500,
                "after the 8 s without a packet on the direct path: " + fallbackMillis + " ms");
        assertTrue(lab.pingBothWays(Duration.ofSeconds(1)), "the tunnel works on the relay");

        // the direct path stays broken for two minutes: the tunnel stays up on the relay
        lab.net.runFor(Duration.ofMinutes(2));
        assertTrue(lab.a.connected() && lab.b.connected());
        assertEquals(PathKind.RELAYED, lab.a.machine().path());
        assertTrue(lab.pingBothWays(Duration.ofSeconds(1)));

        // mended: the next try for a direct path (every 60 s, plus up to 10%) finds it
        lab.net.cut(natA, natB, false);
        long mendedAt = lab.net.now();
        assertTrue(lab.bothDirect(Duration.ofSeconds(80)), lab::describe);
        long upgradeMillis = (lab.net.now() - mendedAt) / 1_000_000;
        assertTrue(upgradeMillis <= 77_000, "within one retry interval and a round: " + upgradeMillis + " ms");
        assertTrue(lab.pingBothWays(Duration.ofSeconds(1)));
    }

    @Test
    void withoutTheRelayADeadPathMeansPunchingAgainAsBefore() {
        SimLab lab = SimLab.homeRouters();
        lab.a.withTraversal(io.pinhole.peer.Traversal.defaults().withRelay(false));
        lab.b.withTraversal(io.pinhole.peer.Traversal.defaults().withRelay(false));
        assertTrue(lab.startAndConnect(Duration.ofSeconds(3)));
        assertEquals(PathKind.DIRECT, lab.a.machine().path(), "no relay: the first path is direct");

        lab.net.cut(lab.publicNatA().publicAddress(), lab.publicNatB().publicAddress(), true);
        lab.net.runFor(Duration.ofSeconds(16));
        assertEquals(PathKind.NONE, lab.a.machine().path(), "dead after 15 s, and nothing to fall back to");
        lab.net.cut(lab.publicNatA().publicAddress(), lab.publicNatB().publicAddress(), false);
        assertTrue(lab.bothConnected(Duration.ofSeconds(30)));
        assertTrue(lab.pingBothWays(Duration.ofSeconds(1)));
    }
}
