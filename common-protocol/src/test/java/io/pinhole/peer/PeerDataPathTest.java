package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.PEER_KEY;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.SERVER_KEY;
import static io.pinhole.wire.WireSamples.endpoint;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.ChaCha20Poly1305;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.rendezvous.Rendezvous;
import io.pinhole.rendezvous.RendezvousConfig;
import io.pinhole.wire.WireSamples;
import io.pinhole.wireguard.Messages;
import io.pinhole.wireguard.SessionDrop;
import io.pinhole.wireguard.SessionTimers;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * PeerDataPathTest: the fast path of two real PeerMachines (and a real rendezvous core) on an
 * in-memory network, driven as tun-client's edge drives it: every packet and datagram goes to the
 * data path first and to the machine only when declined. It carries the data once the direct path
 * is up, declines everything else, interoperates with the machine's own sealing and opening, leaves
 * replays and forgeries to the machine to count, and the machine's liveness, rekeying and counters
 * see the traffic that never passed through it.
 */
class PeerDataPathTest {
    private static final long MS = 1_000_000L;
    private static final InetSocketAddress RV = endpoint("203.0.113.10", 7777);
    private static final InetSocketAddress A_AT = endpoint("198.51.100.2", 40001);
    private static final InetSocketAddress B_AT = endpoint("192.0.2.2", 40002);
    private static final InetSocketAddress ATTACKER = endpoint("203.0.113.66", 6666);

    private record Datagram(InetSocketAddress from, InetSocketAddress to, byte[] bytes) {
    }

    /** One side as the edge sees it: its machine, its output, and its data threads' buffers and ciphers. */
    private final class Side {
        final InetSocketAddress at;
        final PeerMachine machine;
        final List<byte[]> delivered = new ArrayList<>();
        final List<byte[]> sentBytes = new ArrayList<>();
        final byte[] sealed = new byte[PeerDataPath.BUFFER_SIZE];
        final ByteBuffer plain = ByteBuffer.allocate(PeerDataPath.BUFFER_SIZE);
        final ChaCha20Poly1305 sealer = new ChaCha20Poly1305();
        final ChaCha20Poly1305 opener = new ChaCha20Poly1305();
        int fastSent;
        int fastOpened;
        final PeerOutput out;

        Side(InetSocketAddress at, NoisePrivateKey key, NoisePrivateKey partner, long session) {
            this.at = at;
            PeerConfig config = new PeerConfig(key, partner.publicKey(), null, RV, null, null, List.of(),
                    PeerTimers.defaults(), SessionTimers.defaults(), PeerHarness.CLASSIC);
            this.machine = new PeerMachine(config, session, WireSamples.seededRandom(session), wall);
            this.out = new PeerOutput() {
                @Override
                public void send(InetSocketAddress to, ByteBuffer datagram) {
                    byte[] bytes = WireSamples.bytes(datagram);
                    sentBytes.add(bytes);
                    inFlight.add(new Datagram(at, to, bytes));
                }

                @Override
                public void deliver(ByteBuffer ipPacket) {
                    delivered.add(WireSamples.bytes(ipPacket));
                }
            };
        }

        /** The tun thread: the data path, else the machine. */
        void fromTun(byte[] packet) {
            int n = machine.dataPath().send(now, ByteBuffer.wrap(packet), sealed, sealer);
            if (n == PeerDataPath.DECLINED) {
                machine.onTunPacket(now, ByteBuffer.wrap(packet), out);
                return;
            }
            fastSent++;
            byte[] bytes = Arrays.copyOf(sealed, n);
            sentBytes.add(bytes);
            inFlight.add(new Datagram(at, machine.dataPath().endpoint(), bytes));
        }

        /** The udp thread: the data path, else the machine. */
        void fromUdp(InetSocketAddress from, byte[] datagram) {
            int n = machine.dataPath().receive(now, from, ByteBuffer.wrap(datagram), plain, opener);
            if (n == PeerDataPath.DECLINED) {
                machine.onDatagram(now, from, ByteBuffer.wrap(datagram), out);
                return;
            }
            fastOpened++;
            if (n > 0) {
                assertEquals(n, plain.remaining());
                delivered.add(Arrays.copyOfRange(plain.array(), plain.position(), plain.limit()));
            }
        }
    }

    private long now = 1_000_000 * MS;
    private final Clock wall = io.pinhole.sim.VirtualClock.of(() -> Instant.parse("2026-11-21T12:00:00Z").plusNanos(now));
    private final Rendezvous server = new Rendezvous(RendezvousConfig.defaults(), SERVER_KEY,
            WireSamples.seededRandom(11));
    private final ArrayDeque<Datagram> inFlight = new ArrayDeque<>();
    private final Side a = new Side(A_AT, SELF_KEY, PEER_KEY, 0xaaaaL);
    private final Side b = new Side(B_AT, PEER_KEY, SELF_KEY, 0xbbbbL);

    private void deliverAll() {
        while (!inFlight.isEmpty()) {
            Datagram d = inFlight.poll();
            if (d.to().equals(RV)) {
                server.onDatagram(now, d.from(), ByteBuffer.wrap(d.bytes()), (to, reply) -> inFlight.add(
                        new Datagram(RV, to, WireSamples.bytes(reply))));
            } else if (d.to().equals(A_AT)) {
                a.fromUdp(d.from(), d.bytes());
            } else if (d.to().equals(B_AT)) {
                b.fromUdp(d.from(), d.bytes());
            }
        }
    }

    /** Advances in 50 ms ticks; every {@code everyMillis} (0: never) each side sends one packet. */
    private void run(long millis, long everyMillis, int[] ids) {
        for (long t = 0; t < millis; t += 50) {
            now += 50 * MS;
            if (everyMillis > 0 && t % everyMillis == 0) {
                a.fromTun(packet(ids[0]++));
                b.fromTun(packet(ids[1]++));
            }
            a.machine.onTick(now, a.out);
            b.machine.onTick(now, b.out);
            deliverAll();
        }
    }

    private void connect() {
        a.machine.start(now, a.out);
        b.machine.start(now, b.out);
        deliverAll();
        run(2_000, 0, null);
        assertTrue(a.machine.tunnelReady() && b.machine.tunnelReady(), "the tunnel is up");
        assertEquals(B_AT, a.machine.dataPath().endpoint(), "the data path knows the direct path");
        assertEquals(A_AT, b.machine.dataPath().endpoint());
    }

    private static byte[] packet(int id) {
        byte[] p = new byte[100];
        p[0] = 0x45;
        p[3] = 100;
        ByteBuffer.wrap(p, 12, 4).putInt(id);
        ByteBuffer.wrap(p, 16, 4).putInt(~id);
        return p;
    }

    private static boolean keepalive(byte[] datagram) {
        return datagram.length == Messages.TRANSPORT_MIN_LENGTH && datagram[0] == Messages.TYPE_TRANSPORT;
    }

    @Test
    void beforeTheDirectPathIsUpEverythingGoesToTheMachine() {
        byte[] sealed = new byte[PeerDataPath.BUFFER_SIZE];
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        assertEquals(PeerDataPath.DECLINED, a.machine.dataPath().send(now, ByteBuffer.wrap(packet(1)), sealed, aead));
        assertEquals(null, a.machine.dataPath().endpoint());
        a.machine.start(now, a.out);
        assertEquals(PeerDataPath.DECLINED, a.machine.dataPath().send(now, ByteBuffer.wrap(packet(1)), sealed, aead),
                "registering: no path yet");
        assertEquals(PeerDataPath.DECLINED, a.machine.dataPath().receive(now, B_AT,
                ByteBuffer.wrap(new byte[Messages.TRANSPORT_MIN_LENGTH]), ByteBuffer.allocate(PeerDataPath.BUFFER_SIZE),
                aead));
    }

    @Test
    void onceDirectTheDataPathCarriesEveryPacketOnceInOrder() {
        connect();
        int[] ids = {1_000, 2_000};
        run(5_000, 50, ids);

        assertEquals(100, a.fastSent, "every packet a sent after the path was up was sealed on the data path");
        assertEquals(100, b.fastSent);
        assertEquals(100, a.delivered.size());
        assertEquals(100, b.delivered.size());
        for (int i = 0; i < 100; i++) {
            assertArrayEquals(packet(1_000 + i), b.delivered.get(i));
            assertArrayEquals(packet(2_000 + i), a.delivered.get(i));
        }
        assertTrue(a.fastOpened >= 100 && b.fastOpened >= 100, "opened on the data path: " + a.fastOpened);
        assertEquals(100, a.machine.status().packetsSent(), "the machine's status counts the data path's packets");
        assertEquals(100, a.machine.status().packetsReceived());
        assertEquals(Map.of(), a.machine.drops());
        assertEquals(Map.of(), b.machine.drops());
        assertEquals(Map.of(), a.machine.wireGuard().drops());
    }

    @Test
    void theMachineAndTheDataPathOpenWhatTheOtherSealed() {
        connect();
        b.machine.onTunPacket(now, ByteBuffer.wrap(packet(7)), b.out); // sealed by b's machine
        a.fromTun(packet(8)); // sealed by a's data path
        Datagram fromB = inFlight.poll();
        Datagram fromA = inFlight.poll();
        assertEquals(B_AT, fromB.from());
        assertEquals(1, a.fastSent);

        a.fromUdp(fromB.from(), fromB.bytes()); // opened by a's data path
        b.machine.onDatagram(now, fromA.from(), ByteBuffer.wrap(fromA.bytes()), b.out); // by b's machine
        assertEquals(1, a.fastOpened);
        assertArrayEquals(packet(7), a.delivered.get(0));
        assertArrayEquals(packet(8), b.delivered.get(0));
    }

    @Test
    void aReplayIsLeftToTheMachineWhichDropsAndCountsIt() {
        connect();
        a.fromTun(packet(9));
        Datagram d = inFlight.poll();
        b.fromUdp(d.from(), d.bytes());
        assertEquals(1, b.delivered.size());

        ByteBuffer plain = ByteBuffer.allocate(PeerDataPath.BUFFER_SIZE);
        assertEquals(PeerDataPath.DECLINED, b.machine.dataPath().receive(now, d.from(), ByteBuffer.wrap(d.bytes()), plain,
                new ChaCha20Poly1305()), "the replay window refuses it on the data path");
        b.fromUdp(d.from(), d.bytes());
        assertEquals(1, b.delivered.size(), "delivered once");
        assertEquals(1L, b.machine.wireGuard().drops().get(SessionDrop.REPLAYED), "the machine counted the replay");
    }

    @Test
    void aForgeryOrTheRightBytesFromAnotherAddressAreLeftToTheMachine() {
        connect();
        a.fromTun(packet(10));
        Datagram d = inFlight.poll();
        byte[] forged = d.bytes().clone();
        forged[forged.length - 1] ^= 1;
        ByteBuffer plain = ByteBuffer.allocate(PeerDataPath.BUFFER_SIZE);
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        assertEquals(PeerDataPath.DECLINED, b.machine.dataPath().receive(now, A_AT, ByteBuffer.wrap(forged), plain, aead));
        b.fromUdp(A_AT, forged);
        assertEquals(1L, b.machine.wireGuard().drops().get(SessionDrop.DECRYPT_FAILED));

        b.fromUdp(d.from(), d.bytes()); // the genuine one, from the path: opened on the data path
        assertEquals(1, b.fastOpened);
        assertEquals(1, b.delivered.size());

        assertEquals(PeerDataPath.DECLINED, b.machine.dataPath().receive(now, ATTACKER, ByteBuffer.wrap(d.bytes()), plain,
                aead), "only the direct path's address is the data path's");
        b.fromUdp(ATTACKER, d.bytes()); // an on-path attacker's copy: the machine's replay window refuses it
        deliverAll();
        assertEquals(A_AT, b.machine.endpoint(), "the path did not move");
        assertEquals(1, b.delivered.size(), "the genuine packet, once");
        assertEquals(1L, b.machine.wireGuard().drops().get(SessionDrop.REPLAYED));
        assertEquals(1, b.fastOpened, "the forgery and the copy were not opened on the data path");
    }

    @Test
    void steadyTrafficOnTheDataPathKeepsThePeerAliveWithoutKeepalives() {
        connect();
        int start = a.sentBytes.size();
        int startB = b.sentBytes.size();
        int[] ids = {0, 0};
        run(60_000, 200, ids);

        assertTrue(a.machine.tunnelReady() && b.machine.tunnelReady(), "a minute of data-path traffic: still up");
        assertEquals(PeerState.CONNECTED, a.machine.state());
        long keepalives = a.sentBytes.subList(start, a.sentBytes.size()).stream().filter(PeerDataPathTest::keepalive)
                .count() + b.sentBytes.subList(startB, b.sentBytes.size()).stream().filter(PeerDataPathTest::keepalive)
                .count();
        assertEquals(0, keepalives, "the machines saw the data both ways: no keepalive needed");
        assertEquals(300, b.delivered.size());
        assertEquals(300, a.delivered.size());
    }

    @Test
    void aRekeyDueOnTheDataPathHandshakesAgainWithoutLosingAPacket() {
        connect();
        long handshakes = a.machine.wireGuard().handshakesCompleted();
        int[] ids = {0, 0};
        run(200_000, 500, ids); // past REKEY_AFTER_TIME (120 s) and REJECT_AFTER_TIME (180 s)

        assertTrue(a.machine.wireGuard().handshakesCompleted() > handshakes, "a new handshake");
        assertTrue(a.machine.tunnelReady() && b.machine.tunnelReady());
        assertEquals(400, b.delivered.size(), "nothing lost across the rekey");
        assertEquals(400, a.delivered.size());
        assertTrue(a.fastSent >= 390, "the data path carried the traffic across it: " + a.fastSent);
        assertEquals(Map.of(), a.machine.wireGuard().drops());
        assertEquals(Map.of(), b.machine.wireGuard().drops());
    }
}
