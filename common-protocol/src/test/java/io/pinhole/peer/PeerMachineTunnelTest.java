package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.RENDEZVOUS;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.packet;
import static io.pinhole.peer.PeerHarness.peerPacket;
import static io.pinhole.wire.WireSamples.endpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PeerHarness.Sent;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.MessageType;
import io.pinhole.wireguard.SessionTimers;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PeerMachineTunnelTest: the tunnel never carries itself (issue 8's blocker). An address the
 * edge reports as inside our own tunnel (a network routed through the TUN device, the partner's
 * tunnel address) is never probed, never answered and never a path; our own datagrams that the
 * routing table sends into the TUN device are dropped, not encrypted; and a path that moves more
 * than a few times within seconds is held, on the relay where there is one.
 */
class PeerMachineTunnelTest {
    /** The partner's tunnel address: a probe "from" it came through our own tunnel. */
    private static final InetSocketAddress PEER_TUNNEL = endpoint("10.10.0.2", 51820);
    /** A network behind the partner that we route through the tunnel (192.168.50.0/24 dev tun0). */
    private static final InetSocketAddress ROUTED_LAN = endpoint("192.168.50.1", 51820);

    private static PeerHarness relayed() {
        return new PeerHarness(7 * PeerHarness.SECOND, PeerHarness.config(SELF_KEY, null, SessionTimers.defaults())
                .withTraversal(Traversal.defaults().withOpenerTtl(0).withBirthday(false)));
    }

    private static List<Sent> probesTo(PeerHarness h, InetSocketAddress to) {
        return h.sentTo(to).stream().filter(s -> s.type() == MessageType.PUNCH).toList();
    }

    @Test
    void aCandidateRoutedThroughOurTunnelIsNeverProbed() {
        PeerHarness h = new PeerHarness();
        h.insideTunnel.add(ROUTED_LAN);
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo(PeerHarness.PEER_SESSION, PEER_PUBLIC, List.of(ROUTED_LAN, PEER_LAN));
        h.advance(Duration.ofSeconds(3));

        assertEquals(List.of(), probesTo(h, ROUTED_LAN), "no probe into our own tunnel");
        assertTrue(probesTo(h, PEER_LAN).size() >= 5, "the other candidates are probed");
        assertTrue(probesTo(h, PEER_PUBLIC).size() >= 5);
    }

    @Test
    void aProbeFromInsideOurTunnelIsNotAnsweredAndOpensNoPath() {
        PeerHarness h = new PeerHarness();
        h.insideTunnel.add(PEER_TUNNEL);
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        h.takeSent();

        h.probeFromPeer(PEER_TUNNEL);

        assertEquals(List.of(), h.sentTo(PEER_TUNNEL), "no ack into the tunnel");
        assertEquals(PeerState.PUNCHING, h.machine.state());
        assertEquals(1, h.drops(PeerDrop.THROUGH_TUNNEL));

        h.ackFromPeer(PEER_PUBLIC); // the real path still opens
        assertEquals(PathKind.DIRECT, h.machine.path());
        assertEquals(PEER_PUBLIC, h.machine.endpoint());
    }

    @Test
    void anAuthenticatedPacketFromInsideOurTunnelDoesNotMoveThePath() {
        PeerHarness h = new PeerHarness();
        h.insideTunnel.add(PEER_TUNNEL);
        h.connected();

        h.partnerAt = PEER_TUNNEL;
        h.partnerSends(peerPacket(10));

        assertEquals(PEER_PUBLIC, h.machine.endpoint(), "the path stays outside the tunnel");
        assertEquals(1, h.drops(PeerDrop.THROUGH_TUNNEL));
    }

    @Test
    void ourOwnDatagramToThePathOrTheServerReadFromTheTunIsDroppedNotEncrypted() {
        PeerHarness h = new PeerHarness();
        h.connected();
        int before = h.sentCount();

        h.tun(udpPacket(PEER_PUBLIC));
        h.tun(udpPacket(RENDEZVOUS));

        assertEquals(before, h.sentCount(), "nothing went into the tunnel: " + h.sentSince(before));
        assertEquals(2, h.drops(PeerDrop.TUNNEL_LOOP));

        h.tun(udpPacket(endpoint("192.0.2.2", 53))); // the same host on another port is ordinary traffic
        h.tun(packet(40));
        assertEquals(before + 2, h.sentCount());
        assertTrue(h.sentSince(before).stream().allMatch(s -> s.type() == MessageType.WG_TRANSPORT_DATA));
        assertEquals(2, h.drops(PeerDrop.TUNNEL_LOOP));
    }

    @Test
    void aPathThatMovesMoreThanFourTimesWithinSecondsFallsBackToTheRelayAndStaysThere() {
        PeerHarness h = relayed();
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        assertEquals(PathKind.RELAYED, h.machine.path());
        h.advanceMillis(1_050);
        h.ackFromPeer(PEER_PUBLIC); // relay -> direct: move 1
        assertEquals(PathKind.DIRECT, h.machine.path());
        h.advanceMillis(200);

        for (int port = 40_010; port < 40_013; port++) { // moves 2, 3, 4: a roaming partner, within the brake
            h.partnerAt = endpoint("192.0.2.2", port);
            h.partnerSends(peerPacket(1));
            assertEquals(h.partnerAt, h.machine.endpoint());
            h.advanceMillis(100);
        }
        h.partnerAt = endpoint("192.0.2.2", 40_020); // move 5 within 5 s: a loop, not a path
        h.partnerSends(peerPacket(1));

        assertEquals(PathKind.RELAYED, h.machine.path());
        assertEquals(1, h.drops(PeerDrop.PATH_MOVES_HELD));
        h.partnerAt = endpoint("192.0.2.2", 40_021);
        h.partnerSends(peerPacket(1));
        h.advanceMillis(300);
        h.ackFromPeer(PEER_PUBLIC);
        assertEquals(PathKind.RELAYED, h.machine.path(), "held for a minute");

        h.advance(Duration.ofSeconds(61)); // the hold is over: a proven direct path is taken again
        h.partnerAt = PEER_PUBLIC;
        h.ackFromPeer(PEER_PUBLIC);
        assertEquals(PathKind.DIRECT, h.machine.path());
    }

    @Test
    void aDirectPathThatLaterLeadsIntoTheTunnelFallsBackToTheRelay() {
        PeerHarness h = relayed();
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        h.advanceMillis(1_050);
        h.ackFromPeer(PEER_PUBLIC);
        assertEquals(PathKind.DIRECT, h.machine.path());

        h.insideTunnel.add(PEER_PUBLIC); // someone routed the partner's public address through tun0
        h.advance(Duration.ofSeconds(6)); // the next path probe checks the route

        assertEquals(PathKind.RELAYED, h.machine.path());
        List<Sent> probes = probesTo(h, PEER_PUBLIC).stream().filter(s -> ((Punch) s.message()).ack()).toList();
        assertEquals(List.of(), probes.stream().filter(s -> s.at() > h.now - 3 * PeerHarness.SECOND).toList());
    }

    /** An IPv4 UDP datagram to {@code to}, as the TUN device hands it over. */
    private static byte[] udpPacket(InetSocketAddress to) {
        byte[] p = new byte[28 + 4];
        p[0] = 0x45;
        p[3] = (byte) p.length;
        p[8] = 64;
        p[9] = 17;
        byte[] from = {10, 10, 0, 1};
        System.arraycopy(from, 0, p, 12, 4);
        System.arraycopy(to.getAddress().getAddress(), 0, p, 16, 4);
        p[20] = (byte) 0xc3;
        p[21] = 0x50;
        p[22] = (byte) (to.getPort() >>> 8);
        p[23] = (byte) to.getPort();
        p[25] = 12;
        return p;
    }
}
