package io.pinhole.wireguard;

import io.pinhole.crypto.NoisePrivateKey;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * SessionPair: two {@link WireGuardSession}s wired back to back in memory, with a virtual
 * monotonic clock and a wall clock that moves with it. Datagrams are queued, not delivered,
 * until {@link #deliverAll()} so tests can drop, replay or tamper with them.
 */
final class SessionPair {
    static final InetSocketAddress A_ADDR = new InetSocketAddress("198.51.100.2", 40001);
    static final InetSocketAddress B_ADDR = new InetSocketAddress("192.0.2.2", 40002);

    final NoisePrivateKey keyA;
    final NoisePrivateKey keyB;
    final WireGuardSession a;
    final WireGuardSession b;
    final Side sideA = new Side("a");
    final Side sideB = new Side("b");
    long now = 1_000_000_000_000L;
    private final Instant wallStart = Instant.parse("2026-11-21T00:00:00Z");

    /** The recording output of one session. */
    final class Side implements SessionOutput {
        final String name;
        final List<ByteBuffer> toPeer = new ArrayList<>();
        final List<ByteBuffer> sentTo = new ArrayList<>();
        final List<byte[]> delivered = new ArrayList<>();
        final List<InetSocketAddress> authenticatedFrom = new ArrayList<>();

        Side(String name) {
            this.name = name;
        }

        @Override
        public void sendToPeer(ByteBuffer datagram) {
            toPeer.add(datagram);
        }

        @Override
        public void send(InetSocketAddress to, ByteBuffer datagram) {
            sentTo.add(datagram);
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
            byte[] bytes = new byte[ipPacket.remaining()];
            ipPacket.duplicate().get(bytes);
            delivered.add(bytes);
        }

        @Override
        public void authenticated(InetSocketAddress from) {
            authenticatedFrom.add(from);
        }
    }

    SessionPair(long seed) {
        SecureRandom random = seeded(seed);
        keyA = NoisePrivateKey.generate(random);
        keyB = NoisePrivateKey.generate(random);
        Clock wall = new Clock() {
            @Override
            public ZoneOffset getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return wallStart.plusNanos(now);
            }
        };
        a = new WireGuardSession(new Identity(keyA, keyB.publicKey(), null), seeded(seed + 1), wall,
                SessionTimers.defaults());
        b = new WireGuardSession(new Identity(keyB, keyA.publicKey(), null), seeded(seed + 2), wall,
                SessionTimers.defaults());
    }

    static SecureRandom seeded(long seed) {
        try {
            SecureRandom r = SecureRandom.getInstance("SHA1PRNG");
            r.setSeed(seed);
            return r;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Delivers queued datagrams both ways until none are left; returns how many moved. */
    int deliverAll() {
        int moved = 0;
        while (!sideA.toPeer.isEmpty() || !sideB.toPeer.isEmpty()) {
            List<ByteBuffer> fromA = new ArrayList<>(sideA.toPeer);
            sideA.toPeer.clear();
            for (ByteBuffer d : fromA) {
                b.receive(now, A_ADDR, d, sideB);
                moved++;
            }
            List<ByteBuffer> fromB = new ArrayList<>(sideB.toPeer);
            sideB.toPeer.clear();
            for (ByteBuffer d : fromB) {
                a.receive(now, B_ADDR, d, sideA);
                moved++;
            }
        }
        return moved;
    }

    void advanceSeconds(double seconds) {
        now += (long) (seconds * 1e9);
    }

    static byte[] ipv4(int id, int size) {
        byte[] p = new byte[size];
        p[0] = 0x45;
        p[2] = (byte) (size >>> 8);
        p[3] = (byte) size;
        ByteBuffer.wrap(p, 12, 4).putInt(id);
        return p;
    }
}
