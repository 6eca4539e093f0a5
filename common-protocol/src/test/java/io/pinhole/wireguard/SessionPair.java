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
    final Clock wall;
    long now;
    /** The monotonic time the pair was made at; the wall clock is wallStart + (now - start) + wallSkewNanos. */
    final long start;
    /** Moves the wall clock (TAI64N timestamps) independently of the monotonic clock. */
    long wallSkewNanos;
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
        this(seed, 1_000_000_000_000L, SessionTimers.defaults(), SessionTimers.defaults(), null);
    }

    /**
     * @param start the monotonic time to start at (any long: the session must not care where it starts)
     * @param psk pre-shared key of both sides, or null
     */
    SessionPair(long seed, long start, SessionTimers timersA, SessionTimers timersB, byte[] psk) {
        this(seed, start, timersA, timersB, psk, psk);
    }

    /** As above with a separate pre-shared key per side (a mismatch must make the handshake fail). */
    SessionPair(long seed, long start, SessionTimers timersA, SessionTimers timersB, byte[] pskA, byte[] pskB) {
        this.start = start;
        this.now = start;
        SecureRandom random = seeded(seed);
        keyA = NoisePrivateKey.generate(random);
        keyB = NoisePrivateKey.generate(random);
        Clock wall = io.pinhole.sim.VirtualClock.of(() -> wallStart.plusNanos(now - start + wallSkewNanos));
        this.wall = wall;
        a = new WireGuardSession(new Identity(keyA, keyB.publicKey(), pskA), seeded(seed + 1), wall, timersA);
        b = new WireGuardSession(new Identity(keyB, keyA.publicKey(), pskB), seeded(seed + 2), wall, timersB);
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

    /** The output of {@code s} (one of a, b). */
    Side side(WireGuardSession s) {
        return s == a ? sideA : sideB;
    }

    /** The session on the other end from {@code s}. */
    WireGuardSession other(WireGuardSession s) {
        return s == a ? b : a;
    }

    /** The address {@code s} sends from, as its peer sees it. */
    InetSocketAddress addressOf(WireGuardSession s) {
        return s == a ? A_ADDR : B_ADDR;
    }

    /** Hands {@code datagram} to {@code to} as if it came from the other session. */
    boolean receive(WireGuardSession to, ByteBuffer datagram) {
        return to.receive(now, addressOf(other(to)), datagram.duplicate(), side(to));
    }

    /** Removes and returns what {@code s} has queued for its peer. */
    List<ByteBuffer> take(WireGuardSession s) {
        List<ByteBuffer> out = new ArrayList<>(side(s).toPeer);
        side(s).toPeer.clear();
        return out;
    }

    /** Drops everything either side has queued for its peer. */
    void dropAll() {
        sideA.toPeer.clear();
        sideB.toPeer.clear();
    }

    /** Runs both sessions' timers once. */
    void tickBoth() {
        a.tick(now, sideA);
        b.tick(now, sideB);
    }

    /** A completes a handshake as initiator (B as responder) and B has confirmed the keypair. */
    void handshake() {
        handshake(a);
    }

    /** {@code initiator} completes a handshake and its peer has confirmed the keypair. */
    void handshake(WireGuardSession initiator) {
        long before = initiator.handshakesCompleted();
        initiator.initiate(now, side(initiator), true);
        deliverAll();
        if (initiator.handshakesCompleted() != before + 1 || !a.canSend(now) || !b.canSend(now)) {
            throw new AssertionError("handshake did not complete");
        }
    }

    /** The drop counter {@code d} of {@code s} (0 when never counted). */
    static long drops(WireGuardSession s, SessionDrop d) {
        return s.drops().getOrDefault(d, 0L);
    }

    /** Sum of all drop counters of {@code s}. */
    static long totalDrops(WireGuardSession s) {
        return s.drops().values().stream().mapToLong(Long::longValue).sum();
    }

    /** The WireGuard message type byte of {@code datagram}. */
    static int typeOf(ByteBuffer datagram) {
        return datagram.get(datagram.position()) & 0xff;
    }

    /** A copy of the bytes of {@code datagram}. */
    static byte[] bytes(ByteBuffer datagram) {
        byte[] b = new byte[datagram.remaining()];
        datagram.duplicate().get(b);
        return b;
    }

    /**
     * A transport message sealed with {@code kp}'s sending key and next counter around exactly
     * {@code plaintext} (no padding added), as the peer of {@code kp}'s owner would receive it.
     */
    static ByteBuffer transport(Keypair kp, byte[] plaintext) {
        byte[] msg = new byte[Messages.TRANSPORT_HEADER_LENGTH + plaintext.length + 16];
        msg[0] = Messages.TYPE_TRANSPORT;
        Messages.writeIntLe(msg, Messages.TRANSPORT_RECEIVER, kp.remoteIndex);
        long counter = kp.nextCounter();
        Messages.writeLongLe(msg, Messages.TRANSPORT_COUNTER, counter);
        System.arraycopy(plaintext, 0, msg, Messages.TRANSPORT_HEADER_LENGTH, plaintext.length);
        kp.seal(new io.pinhole.crypto.ChaCha20Poly1305(), counter, msg, Messages.TRANSPORT_HEADER_LENGTH,
                plaintext.length, new byte[0]);
        return ByteBuffer.wrap(msg);
    }

    /** The session whose public key sorts first (it initiates when a path comes up). */
    WireGuardSession firstByKey() {
        return java.util.Arrays.compareUnsigned(keyA.publicKey().toBytes(), keyB.publicKey().toBytes()) < 0 ? a : b;
    }

    static byte[] ipv4(int id, int size) {
        byte[] p = new byte[size];
        p[0] = 0x45;
        p[2] = (byte) (size >>> 8);
        p[3] = (byte) size;
        ByteBuffer.wrap(p, 12, 4).putInt(id);
        return p;
    }

    /** An IPv6 packet of 40 + {@code payloadLength} bytes whose source address ends in {@code id}. */
    static byte[] ipv6(int id, int payloadLength) {
        byte[] p = new byte[40 + payloadLength];
        p[0] = 0x60;
        p[4] = (byte) (payloadLength >>> 8);
        p[5] = (byte) payloadLength;
        ByteBuffer.wrap(p, 20, 4).putInt(id);
        return p;
    }
}
