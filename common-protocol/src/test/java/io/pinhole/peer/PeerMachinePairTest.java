package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.PEER_KEY;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.SERVER_KEY;
import static io.pinhole.wire.WireSamples.endpoint;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.rendezvous.Rendezvous;
import io.pinhole.rendezvous.RendezvousConfig;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.WireSamples;
import io.pinhole.wireguard.SessionTimers;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * PeerMachinePairTest: two real PeerMachines and a real Rendezvous core on a direct in-memory
 * network (no NAT): registration with CHALLENGE, pairing, authenticated punching, the
 * WireGuard handshake and packets both ways; and an on-path attacker that replays everything
 * it sees from its own address.
 */
class PeerMachinePairTest {
    private static final long MS = 1_000_000L;
    private static final InetSocketAddress RV = endpoint("203.0.113.10", 7777);
    private static final InetSocketAddress A_AT = endpoint("198.51.100.2", 40001);
    private static final InetSocketAddress B_AT = endpoint("192.0.2.2", 40002);
    private static final InetSocketAddress ATTACKER = endpoint("203.0.113.66", 6666);

    private record Datagram(InetSocketAddress from, InetSocketAddress to, byte[] bytes) {
    }

    private long now = 1_000_000 * MS;
    private final Clock wall = io.pinhole.sim.VirtualClock.of(() -> Instant.parse("2026-11-21T12:00:00Z").plusNanos(now));
    private final Rendezvous server = new Rendezvous(RendezvousConfig.defaults(), SERVER_KEY,
            WireSamples.seededRandom(11));
    private final ArrayDeque<Datagram> inFlight = new ArrayDeque<>();
    private final List<Datagram> seen = new ArrayList<>();
    private final List<byte[]> deliveredToA = new ArrayList<>();
    private final List<byte[]> deliveredToB = new ArrayList<>();
    private final PeerMachine a = machine(SELF_KEY, PEER_KEY, 0xaaaaL);
    private final PeerMachine b = machine(PEER_KEY, SELF_KEY, 0xbbbbL);
    private final PeerOutput outA = output(A_AT, deliveredToA);
    private final PeerOutput outB = output(B_AT, deliveredToB);
    private boolean attackerReplays;

    private PeerMachine machine(NoisePrivateKey key, NoisePrivateKey partner, long session) {
        PeerConfig config = new PeerConfig(key, partner.publicKey(), null, RV, null, null, List.of(),
                PeerTimers.defaults(), SessionTimers.defaults(), PeerHarness.CLASSIC);
        return new PeerMachine(config, session, WireSamples.seededRandom(session), wall);
    }

    private PeerOutput output(InetSocketAddress at, List<byte[]> delivered) {
        return new PeerOutput() {
            @Override
            public void send(InetSocketAddress to, ByteBuffer datagram) {
                inFlight.add(new Datagram(at, to, WireSamples.bytes(datagram)));
            }

            @Override
            public void deliver(ByteBuffer ipPacket) {
                delivered.add(WireSamples.bytes(ipPacket));
            }
        };
    }

    private void deliverAll() {
        while (!inFlight.isEmpty()) {
            Datagram d = inFlight.poll();
            seen.add(d);
            ByteBuffer bytes = ByteBuffer.wrap(d.bytes());
            if (d.to().equals(RV)) {
                server.onDatagram(now, d.from(), bytes, (to, reply) -> inFlight.add(new Datagram(RV, to,
                        WireSamples.bytes(reply))));
            } else if (d.to().equals(A_AT)) {
                a.onDatagram(now, d.from(), bytes, outA);
            } else if (d.to().equals(B_AT)) {
                b.onDatagram(now, d.from(), bytes, outB);
            }
            if (attackerReplays && !d.from().equals(ATTACKER) && (d.to().equals(A_AT) || d.to().equals(B_AT))) {
                // it saw the datagram on the wire and sends a copy from its own address, and one to the other peer
                inFlight.add(new Datagram(ATTACKER, d.to(), d.bytes()));
                inFlight.add(new Datagram(ATTACKER, d.to().equals(A_AT) ? B_AT : A_AT, d.bytes()));
            }
        }
    }

    private void run(long millis) {
        for (long t = 0; t < millis; t += 50) {
            now += 50 * MS;
            a.onTick(now, outA);
            b.onTick(now, outB);
            deliverAll();
        }
    }

    private void startBoth() {
        a.start(now, outA);
        b.start(now, outB);
        deliverAll();
    }

    private static byte[] packet(int id) {
        byte[] p = new byte[64];
        p[0] = 0x45;
        p[3] = 64;
        ByteBuffer.wrap(p, 12, 4).putInt(id);
        return p;
    }

    @Test
    void twoPeersRegisterPunchHandshakeAndCarryPacketsBothWays() {
        startBoth();
        run(2_000);

        assertEquals(PeerState.CONNECTED, a.state());
        assertEquals(PeerState.CONNECTED, b.state());
        assertTrue(a.tunnelReady() && b.tunnelReady(), "WireGuard is up on both sides");
        assertEquals(B_AT, a.endpoint());
        assertEquals(A_AT, b.endpoint());
        assertEquals(1, server.pairings());
        assertEquals(2, server.registrations());

        a.onTunPacket(now, ByteBuffer.wrap(packet(1)), outA);
        b.onTunPacket(now, ByteBuffer.wrap(packet(2)), outB);
        deliverAll();
        assertEquals(1, deliveredToB.size());
        assertArrayEquals(packet(1), deliveredToB.get(0));
        assertEquals(1, deliveredToA.size());
        assertArrayEquals(packet(2), deliveredToA.get(0));
        assertEquals(java.util.Map.of(), a.drops());
        assertEquals(java.util.Map.of(), b.drops());

        byte[] punchKey = ControlKeys.peerPeer(SELF_KEY, PEER_KEY.publicKey());
        byte[] aServer = ControlKeys.peerServer(SELF_KEY, server.publicKey());
        byte[] bServer = ControlKeys.peerServer(PEER_KEY, server.publicKey());
        int punches = 0;
        for (Datagram d : seen) {
            MessageType type = MessageType.ofCode(d.bytes()[0]);
            ByteBuffer bytes = ByteBuffer.wrap(d.bytes());
            if (type == MessageType.PUNCH) {
                punches++;
                assertTrue(ControlMessage.macValid(bytes, punchKey), "every PUNCH on the wire is authenticated");
            } else if (type == MessageType.REGISTERED || type == MessageType.PEER_INFO) {
                assertTrue(ControlMessage.macValid(bytes, d.to().equals(A_AT) ? aServer : bServer),
                        type + " MACed for its recipient");
            }
        }
        assertTrue(punches >= 2, "probes and acks: " + punches);
    }

    @Test
    void anOnPathAttackerReplayingEverythingNeitherMovesAPathNorDuplicatesAPacket() {
        attackerReplays = true;
        startBoth();
        run(2_000);
        assertTrue(a.tunnelReady() && b.tunnelReady());

        for (int i = 0; i < 20; i++) {
            a.onTunPacket(now, ByteBuffer.wrap(packet(100 + i)), outA);
            b.onTunPacket(now, ByteBuffer.wrap(packet(200 + i)), outB);
            run(500);
        }
        run(30_000); // keepalives, refreshes, all replayed

        assertEquals(B_AT, a.endpoint(), "the attacker never became the path");
        assertEquals(A_AT, b.endpoint());
        assertTrue(a.tunnelReady() && b.tunnelReady());
        assertEquals(20, deliveredToB.size(), "each packet once");
        assertEquals(20, deliveredToA.size());
        for (int i = 0; i < 20; i++) {
            assertArrayEquals(packet(100 + i), deliveredToB.get(i));
            assertArrayEquals(packet(200 + i), deliveredToA.get(i));
        }
    }
}
