package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.PEER;
import static io.pinhole.peer.PeerHarness.PEER_KEY;
import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER_ROAMED;
import static io.pinhole.peer.PeerHarness.PEER_SESSION;
import static io.pinhole.peer.PeerHarness.SELF;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.SESSION;
import static io.pinhole.peer.PeerHarness.MS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ProbesTest: our probes are provable only by their own ack from their own address; the partner's are answered once. */
class ProbesTest {
    private static final long T0 = -5 * MS; // time has any origin
    private final byte[] punchKey = ControlKeys.peerPeer(SELF_KEY, PEER);
    private final Probes probes = new Probes(SELF, PEER, SESSION, punchKey);

    private long sendTo(InetSocketAddress target, long now) {
        probes.next(PEER_SESSION);
        probes.note(target, now, null);
        return probes.last();
    }

    @Test
    void eachProbeHasItsOwnCounterNamingBothSessionsAndIsSealedForThePartner() throws MalformedMessageException {
        var datagram = probes.next(PEER_SESSION);
        assertTrue(ControlMessage.macValid(datagram.duplicate(), ControlKeys.peerPeer(PEER_KEY, SELF)));
        Punch first = (Punch) ControlMessage.decode(datagram);
        Punch second = (Punch) ControlMessage.decode(probes.next(PEER_SESSION));
        assertEquals(1, first.counter());
        assertEquals(2, second.counter());
        assertEquals(2, probes.last());
        assertEquals(SESSION, first.senderSession());
        assertEquals(PEER_SESSION, first.receiverSession());
        assertFalse(first.ack());
    }

    @Test
    void anAckCountsOnceAndOnlyFromTheAddressItsProbeWentTo() {
        long lan = sendTo(PEER_LAN, T0);
        long pub = sendTo(PEER_PUBLIC, T0 + MS);
        assertEquals(-1, probes.ack(PEER_PUBLIC, lan, T0 + 10 * MS), "the LAN probe's counter from elsewhere");
        assertEquals(-1, probes.ack(PEER_ROAMED, pub, T0 + 10 * MS), "never probed there");
        assertEquals(10 * MS, probes.ack(PEER_LAN, lan, T0 + 10 * MS), "the elapsed time: the RTT");
        assertEquals(-1, probes.ack(PEER_LAN, lan, T0 + 11 * MS), "acked once only");
        assertEquals(9 * MS, probes.ack(PEER_PUBLIC, pub, T0 + 10 * MS));
        assertEquals(-1, probes.ack(PEER_LAN, 0, T0 + 10 * MS), "counter 0 is never ours");
    }

    @Test
    void onlyTheRecentEightProbesToAnAddressAreRemembered() {
        long oldest = sendTo(PEER_LAN, T0);
        long[] recent = new long[8];
        for (int i = 0; i < 8; i++) {
            recent[i] = sendTo(PEER_LAN, T0 + i);
        }
        assertEquals(-1, probes.ack(PEER_LAN, oldest, T0 + MS));
        for (long counter : recent) {
            assertTrue(probes.ack(PEER_LAN, counter, T0 + MS) >= 0);
        }
    }

    @Test
    void retainOnlyForgetsOtherAddressesButThePath() {
        long lan = sendTo(PEER_LAN, T0);
        long pub = sendTo(PEER_PUBLIC, T0);
        long roamed = sendTo(PEER_ROAMED, T0);
        probes.retainOnly(List.of(PEER_LAN), PEER_ROAMED);
        assertEquals(-1, probes.ack(PEER_PUBLIC, pub, T0));
        assertEquals(0, probes.ack(PEER_LAN, lan, T0));
        assertEquals(0, probes.ack(PEER_ROAMED, roamed, T0));
    }

    @Test
    void pastThirtyTwoAddressesAllButThePathAreForgotten() {
        long path = sendTo(PEER_PUBLIC, T0);
        long first = 0;
        for (int i = 0; i < Probes.MAX_PROBED - 1; i++) {
            long c = sendTo(WireSamples.endpoint("192.0.2.9", 1000 + i), T0);
            first = i == 0 ? c : first;
        }
        probes.next(PEER_SESSION);
        probes.note(WireSamples.endpoint("192.0.2.9", 999), T0, PEER_PUBLIC); // the 33rd address
        assertEquals(-1, probes.ack(WireSamples.endpoint("192.0.2.9", 1000), first, T0));
        assertEquals(0, probes.ack(PEER_PUBLIC, path, T0), "the path's probes stay");
        assertEquals(0, probes.ack(WireSamples.endpoint("192.0.2.9", 999), probes.last(), T0));
    }

    @Test
    void thePartnersProbesAreFreshOnceInAnyOrderUntilItRestarts() throws MalformedMessageException {
        assertTrue(probes.fresh(5));
        assertTrue(probes.fresh(3));
        assertFalse(probes.fresh(5), "a replay");
        assertFalse(probes.fresh(3));
        probes.partnerRestarted();
        assertTrue(probes.fresh(5), "a new session counts from the start");

        Punch probe = new Punch(PEER, SELF, PEER_SESSION, SESSION, 5, false);
        var answer = probes.answer(probe);
        assertTrue(ControlMessage.macValid(answer.duplicate(), ControlKeys.peerPeer(PEER_KEY, SELF)));
        Punch ack = (Punch) ControlMessage.decode(answer);
        assertTrue(ack.ack());
        assertEquals(5, ack.counter());
        assertEquals(SESSION, ack.senderSession());
        assertEquals(PEER_SESSION, ack.receiverSession());
        assertEquals(SELF, ack.sender());
        assertEquals(PEER, ack.receiver());
    }
}
