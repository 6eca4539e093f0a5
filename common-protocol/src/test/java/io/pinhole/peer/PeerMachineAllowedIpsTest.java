package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.OUR_TUNNEL_ADDRESS;
import static io.pinhole.peer.PeerHarness.PEER_TUNNEL_ADDRESS;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.ipv4;
import static io.pinhole.peer.PeerHarness.ipv6;
import static io.pinhole.peer.PeerHarness.packet;
import static io.pinhole.peer.PeerHarness.peerPacket;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.wire.MessageType;
import io.pinhole.wireguard.SessionTimers;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Cryptokey routing: the partner's allowed IPs decide which decrypted packets reach the TUN
 * device (by source) and which TUN packets go to the partner (by destination).
 */
class PeerMachineAllowedIpsTest {
    /** As {@code pinhole up --remote 10.10.0.2}: exactly the partner's tunnel address. */
    private static PeerHarness pointToPoint() {
        return harness(PEER_TUNNEL_ADDRESS + "/32");
    }

    private static PeerHarness harness(String allowedIps) {
        PeerConfig config = PeerHarness.config(SELF_KEY, null, SessionTimers.defaults())
                .withAllowedIps(AllowedIps.parse(allowedIps));
        return new PeerHarness(7 * PeerHarness.SECOND, config);
    }

    @Test
    void aPacketFromThePartnersAddressIsDeliveredOneFromASpoofedSourceIsDroppedAndCounted() {
        PeerHarness h = pointToPoint().connected();

        h.partnerSends(peerPacket(30));
        h.partnerSends(ipv4("10.99.0.5", OUR_TUNNEL_ADDRESS, 30)); // a peer with AllowedIPs = 0.0.0.0/0 may send it
        h.partnerSends(ipv4("10.10.0.3", OUR_TUNNEL_ADDRESS, 30)); // next door to the partner's address
        h.partnerSends(peerPacket(31));

        assertEquals(2, h.delivered().size());
        assertArrayEquals(peerPacket(30), h.delivered().get(0));
        assertArrayEquals(peerPacket(31), h.delivered().get(1));
        assertEquals(2, h.drops(PeerDrop.WRONG_SOURCE));
        assertEquals(2, h.machine.packetsReceived(), "only what was delivered counts as received");
        assertEquals(Map.of(PeerDrop.WRONG_SOURCE, 2L), h.machine.status().drops());
    }

    @Test
    void ipv6FromThePartnerIsDroppedWhileItsAllowedIpsHoldNoIpv6Network() {
        PeerHarness h = pointToPoint().connected();

        h.partnerSends(ipv6("fe80::1", "ff02::2", 16)); // a router solicitation's addresses
        h.partnerSends(ipv6("fd00:99::5", "fd00:99::1", 16)); // a ULA source
        h.partnerSends(peerPacket(10));

        assertEquals(List.of(peerPacket(10)).size(), h.delivered().size());
        assertArrayEquals(peerPacket(10), h.delivered().get(0));
        assertEquals(2, h.drops(PeerDrop.IPV6_NOT_ALLOWED));
        assertEquals(0, h.drops(PeerDrop.WRONG_SOURCE));
    }

    @Test
    void aDecryptedPayloadThatIsNotIpIsDroppedAndCounted() {
        PeerHarness h = pointToPoint().connected();
        byte[] notIp = peerPacket(20);
        notIp[0] = 0x55; // version 5; the length field still makes it a whole "packet" to WireGuard

        h.partnerSends(notIp);

        assertEquals(List.of(), h.delivered());
        assertEquals(1, h.drops(PeerDrop.NOT_IP));
    }

    @Test
    void networksBehindThePartnerAreAllowedBySourceInBothFamilies() {
        PeerHarness h = harness("10.10.0.2/32,192.168.77.0/24,fd77::/64").connected();

        h.partnerSends(ipv4("192.168.77.1", OUR_TUNNEL_ADDRESS, 10));
        h.partnerSends(ipv6("fd77::1", "fd10::1", 10));
        h.partnerSends(ipv4("192.168.78.1", OUR_TUNNEL_ADDRESS, 10));
        h.partnerSends(ipv6("fd78::1", "fd10::1", 10));

        assertEquals(2, h.delivered().size());
        assertArrayEquals(ipv4("192.168.77.1", OUR_TUNNEL_ADDRESS, 10), h.delivered().get(0));
        assertArrayEquals(ipv6("fd77::1", "fd10::1", 10), h.delivered().get(1));
        assertEquals(2, h.drops(PeerDrop.WRONG_SOURCE), "IPv6 is allowed here, so a wrong IPv6 source is a wrong source");
    }

    @Test
    void aTunPacketToADestinationOutsideTheAllowedIpsIsDroppedAndCountedNotEncrypted() {
        PeerHarness h = pointToPoint().connected();

        h.tun(ipv4(OUR_TUNNEL_ADDRESS, "192.168.77.1", 20));
        h.tun(ipv6("fe80::2", "ff02::2", 16));
        byte[] notIp = packet(20);
        notIp[0] = 0x00;
        h.tun(notIp);
        assertEquals(List.of(), h.sent(), "nothing went to the partner");
        assertEquals(2, h.drops(PeerDrop.DESTINATION_NOT_ALLOWED));
        assertEquals(1, h.drops(PeerDrop.NOT_IP));
        assertEquals(0, h.machine.packetsSent());

        h.tun(packet(20));
        assertEquals(1, h.sent().size());
        assertEquals(MessageType.WG_TRANSPORT_DATA, h.sent().get(0).type());
        assertEquals(1, h.partnerDelivered.size());
        assertArrayEquals(packet(20), h.partnerDelivered.get(0));
    }

    @Test
    void aPacketToAnOutsideDestinationIsNotStagedEither() {
        PeerHarness h = pointToPoint();
        h.answerRegisters = true;
        h.start();
        h.tun(ipv4(OUR_TUNNEL_ADDRESS, "192.0.2.200", 20));
        h.tun(packet(21));
        assertEquals(1, h.machine.stagedPackets());
        assertEquals(1, h.drops(PeerDrop.DESTINATION_NOT_ALLOWED));

        h.peerInfo();
        h.probeFromPeer(PeerHarness.PEER_PUBLIC);
        h.ackFromPeer(PeerHarness.PEER_PUBLIC); // the proof that opens the path
        h.advance(Duration.ofMillis(100));

        assertEquals(List.of(packet(21)).size(), h.partnerDelivered.size());
        assertArrayEquals(packet(21), h.partnerDelivered.get(0));
    }

    @Test
    void withoutAllowedIpsAConfigAllowsEveryAddressAsBefore() {
        PeerConfig config = PeerConfig.viaRendezvous(SELF_KEY, PeerHarness.PEER, PeerHarness.RENDEZVOUS, List.of());
        assertEquals(AllowedIps.ANY, config.allowedIps());
        assertTrue(config.withTraversal(Traversal.defaults()).allowedIps() == AllowedIps.ANY);
    }
}
