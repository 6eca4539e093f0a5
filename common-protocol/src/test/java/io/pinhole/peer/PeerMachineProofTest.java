package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.ATTACKER;
import static io.pinhole.peer.PeerHarness.PEER;
import static io.pinhole.peer.PeerHarness.PEER_KEY;
import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER_SESSION;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.SESSION;
import static io.pinhole.peer.PeerHarness.packet;
import static io.pinhole.wire.WireSamples.endpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PeerHarness.Sent;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.WireSamples;
import io.pinhole.wireguard.SessionTimers;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PeerMachineProofTest: a path opens or moves only on proof that the partner answers there now
 * (issue 9, item 2): an ack to a fresh probe of ours, from the address it went to, or an
 * authenticated WireGuard packet (WireGuard's own roaming rule). A PUNCH probe is authenticated but
 * not fresh to us: captured on its way to anywhere (a dead opener, an unreachable LAN candidate, a
 * random-port birthday probe) and replayed from a third address, it gets at most one ack of its own
 * size and moves nothing.
 */
class PeerMachineProofTest {
    private static PeerHarness onTheRelay() {
        PeerHarness h = new PeerHarness(7 * PeerHarness.SECOND, PeerHarness.config(SELF_KEY, null,
                SessionTimers.defaults()).withTraversal(Traversal.defaults().withOpenerTtl(0).withBirthday(false)));
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        assertEquals(PathKind.RELAYED, h.machine.path());
        h.advanceMillis(500);
        return h;
    }

    /** A probe the partner sent to {@code to} (any counter of its own), captured on its way: authentic bytes. */
    private static byte[] capturedProbe(long counter) {
        return WireSamples.bytes(new Punch(PEER, SELF_KEY.publicKey(), PEER_SESSION, SESSION, counter, false)
                .encode(ControlKeys.peerPeer(PEER_KEY, SELF_KEY.publicKey())));
    }

    @Test
    void capturedProbesReplayedFromAThirdAddressDoNotMoveTheTunnelOffTheRelay() {
        PeerHarness h = onTheRelay();
        h.takeSent();
        for (long counter = 500; counter < 520; counter++) {
            h.receive(ATTACKER, capturedProbe(counter));
        }
        h.advance(Duration.ofSeconds(3));
        assertEquals(PathKind.RELAYED, h.machine.path(), "the path did not move");
        List<Sent> toAttacker = h.sentTo(ATTACKER);
        assertEquals(20, toAttacker.size(), "one ack per fresh probe, nothing else: " + toAttacker);
        assertTrue(toAttacker.stream().allMatch(s -> s.type() == MessageType.PUNCH && ((Punch) s.message()).ack()));
        assertEquals(0, h.drops(PeerDrop.STALE_PUNCH));
    }

    @Test
    void capturedProbesReplayedFromAThirdAddressMoveNothingAndSendTheAttackerNoTunnelDatagram() {
        PeerHarness h = new PeerHarness();
        h.connected(); // direct at the partner's public endpoint
        h.takeSent();
        // the direct path is cut: the partner's probes to our candidates never arrived; an attacker
        // captured them (openers, probes to LAN addresses, random-port probes) and replays them
        int probes = 0;
        for (long counter = 500; counter < 520; counter++) {
            h.receive(ATTACKER, capturedProbe(counter));
            h.tun(packet(1)); // a ping goes out meanwhile
            probes++;
        }
        h.advance(Duration.ofSeconds(3));

        assertEquals(PEER_PUBLIC, h.machine.endpoint(), "the path did not move");
        List<Sent> toAttacker = h.sentTo(ATTACKER);
        assertEquals(probes, toAttacker.size(), "one ack per fresh probe, nothing else: " + toAttacker);
        assertTrue(toAttacker.stream().allMatch(s -> s.type() == MessageType.PUNCH && ((Punch) s.message()).ack()
                && s.bytes().length == capturedProbe(1).length), "acks of the probe's own size");
        assertEquals(List.of(), toAttacker.stream().filter(s -> s.type().isWireGuard()).toList(), "no tunnel datagram");
        assertTrue(h.partnerDelivered.size() >= probes, "every packet reached the partner on the real path");

        for (long counter = 500; counter < 520; counter++) { // and replayed again: not even acked
            h.receive(endpoint("203.0.113.67", 7), capturedProbe(counter));
        }
        assertEquals(List.of(), h.sentTo(endpoint("203.0.113.67", 7)));
    }

    @Test
    void aProbeForAnEarlierRunOfOursOrFromAnEarlierRunOfThePartnerIsDropped() {
        PeerHarness h = onTheRelay();
        h.takeSent();
        byte[] forOurEarlierRun = WireSamples.bytes(new Punch(PEER, SELF_KEY.publicKey(), PEER_SESSION, SESSION - 1,
                900, false).encode(ControlKeys.peerPeer(PEER_KEY, SELF_KEY.publicKey())));
        byte[] fromItsEarlierRun = WireSamples.bytes(new Punch(PEER, SELF_KEY.publicKey(), PEER_SESSION - 1, SESSION,
                901, false).encode(ControlKeys.peerPeer(PEER_KEY, SELF_KEY.publicKey())));
        h.receive(PEER_PUBLIC, forOurEarlierRun);
        h.receive(PEER_LAN, fromItsEarlierRun);

        assertEquals(List.of(), h.sent(), "not even acked");
        assertEquals(2, h.drops(PeerDrop.WRONG_SESSION));
        assertEquals(PathKind.RELAYED, h.machine.path());
    }

    @Test
    void anAckMovesThePathOnlyFromTheAddressItsProbeWentTo() {
        PeerHarness h = onTheRelay();
        long toPublic = h.ourLatestProbe(PEER_PUBLIC);
        h.receive(ATTACKER, h.ackFromPeer(toPublic)); // a captured ack, replayed from elsewhere
        assertEquals(PathKind.RELAYED, h.machine.path());
        assertEquals(1, h.drops(PeerDrop.STALE_PUNCH));

        h.receive(PEER_PUBLIC, h.ackFromPeer(toPublic)); // the same ack from where the probe went: proof
        assertEquals(PathKind.DIRECT, h.machine.path());
        assertEquals(PEER_PUBLIC, h.machine.endpoint());
        List<Sent> after = h.sentTo(PEER_PUBLIC);
        assertEquals(MessageType.WG_TRANSPORT_DATA, after.get(after.size() - 1).type(),
                "a keepalive over the proven path tells the partner by WireGuard's own rule");
    }

    @Test
    void aProbeFromTheAddressOfTheRelayedPartnerStillGetsItsAckSoThePartnerCanMove() {
        PeerHarness h = onTheRelay();
        h.takeSent();
        h.probeFromPeer(PEER_PUBLIC);
        List<Sent> acks = h.sentTo(PEER_PUBLIC);
        assertEquals(1, acks.size());
        assertTrue(((Punch) acks.get(0).message()).ack());
        assertEquals(PathKind.RELAYED, h.machine.path(), "we move on our own proof, not the partner's");
        InetSocketAddress unused = PEER_LAN; // (the LAN candidate is probed too; nothing answered there)
        assertTrue(h.ourLatestProbe(unused) > 0);
    }
}
