package io.pinhole.bench;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.wireguard.Identity;
import io.pinhole.wireguard.SessionOutput;
import io.pinhole.wireguard.SessionTimers;
import io.pinhole.wireguard.WireGuardSession;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayDeque;

/**
 * InMemorySessions: two WireGuard sessions in memory with a completed handshake, for the benchmarks:
 * {@link #aToB} encrypts a packet at a and decrypts it at b, on the calling thread, with no
 * sockets and no TUN. Not thread-safe.
 */
final class InMemorySessions {
    private static final InetSocketAddress ENDPOINT_A = new InetSocketAddress("198.51.100.2", 1);
    private static final InetSocketAddress ENDPOINT_B = new InetSocketAddress("192.0.2.2", 2);

    private final WireGuardSession a;
    private final WireGuardSession b;
    private final ArrayDeque<ByteBuffer> toB = new ArrayDeque<>();
    private final ArrayDeque<ByteBuffer> toA = new ArrayDeque<>();
    private final SessionOutput outA;
    private final SessionOutput outB;
    /** IP packets delivered (decrypted) at either end. */
    long delivered;

    InMemorySessions() {
        SecureRandom random = new SecureRandom();
        NoisePrivateKey ka = NoisePrivateKey.generate(random);
        NoisePrivateKey kb = NoisePrivateKey.generate(random);
        a = new WireGuardSession(new Identity(ka, kb.publicKey(), null), random, Clock.systemUTC(),
                SessionTimers.defaults());
        b = new WireGuardSession(new Identity(kb, ka.publicKey(), null), random, Clock.systemUTC(),
                SessionTimers.defaults());
        outA = output(toB);
        outB = output(toA);
        a.initiate(0, outA, true);
        while (!toB.isEmpty() || !toA.isEmpty()) {
            while (!toB.isEmpty()) {
                b.receive(0, ENDPOINT_A, toB.poll(), outB);
            }
            while (!toA.isEmpty()) {
                a.receive(0, ENDPOINT_B, toA.poll(), outA);
            }
        }
        if (!a.canSend(0) || !b.canSend(0)) {
            throw new IllegalStateException("handshake did not complete");
        }
    }

    /** a encrypts {@code packet} (not consumed) and b decrypts it. */
    void aToB(ByteBuffer packet) {
        a.send(0, packet.duplicate(), outA);
        b.receive(0, ENDPOINT_A, toB.poll(), outB);
    }

    /** An IPv4-looking packet of {@code size} bytes (version and length set, zeros elsewhere). */
    static ByteBuffer ipv4(int size) {
        byte[] p = new byte[size];
        p[0] = 0x45;
        p[2] = (byte) (size >>> 8);
        p[3] = (byte) size;
        return ByteBuffer.wrap(p);
    }

    private SessionOutput output(ArrayDeque<ByteBuffer> queue) {
        return new SessionOutput() {
            @Override
            public void sendToPeer(ByteBuffer datagram) {
                queue.add(datagram);
            }

            @Override
            public void send(InetSocketAddress to, ByteBuffer datagram) {
                queue.add(datagram);
            }

            @Override
            public void deliver(ByteBuffer ipPacket) {
                delivered++;
            }

            @Override
            public void authenticated(InetSocketAddress from) {
            }
        };
    }
}
