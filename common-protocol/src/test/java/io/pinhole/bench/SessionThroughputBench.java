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
 * SessionThroughputBench: how fast the WireGuard session core alone moves IP packets: one
 * session encrypts, the other decrypts, in memory on one thread, with no sockets and no TUN.
 * A benchmark, not a test: run it with bench/session-throughput.sh. Prints packets/s and MB/s
 * per packet size after a warm-up.
 */
public final class SessionThroughputBench {
    private SessionThroughputBench() {
    }

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        SecureRandom random = new SecureRandom();
        NoisePrivateKey ka = NoisePrivateKey.generate(random);
        NoisePrivateKey kb = NoisePrivateKey.generate(random);
        WireGuardSession a = new WireGuardSession(new Identity(ka, kb.publicKey(), null), random, Clock.systemUTC(),
                SessionTimers.defaults());
        WireGuardSession b = new WireGuardSession(new Identity(kb, ka.publicKey(), null), random, Clock.systemUTC(),
                SessionTimers.defaults());
        InetSocketAddress ea = new InetSocketAddress("198.51.100.2", 1);
        InetSocketAddress eb = new InetSocketAddress("192.0.2.2", 2);
        ArrayDeque<ByteBuffer> aToB = new ArrayDeque<>();
        ArrayDeque<ByteBuffer> bToA = new ArrayDeque<>();
        long[] delivered = new long[1];
        SessionOutput outA = output(aToB, delivered);
        SessionOutput outB = output(bToA, delivered);
        long now = 0;
        a.initiate(now, outA, true);
        pump(a, b, aToB, bToA, outA, outB, ea, eb, now);
        if (!a.canSend(now) || !b.canSend(now)) {
            throw new IllegalStateException("handshake did not complete");
        }
        System.out.println("java " + System.getProperty("java.version") + ", " + Runtime.getRuntime().availableProcessors()
                + " cpus; one thread encrypts then decrypts each packet");
        for (int size : new int[] {64, 512, 1420}) {
            ByteBuffer packet = ipv4(size);
            run(a, b, aToB, outA, outB, eb, packet, 1.0, delivered); // warm-up
            double[] r = run(a, b, aToB, outA, outB, eb, packet, seconds, delivered);
            System.out.printf("size %5d B: %,10.0f packets/s  %8.1f MB/s (payload)%n", size, r[0], r[0] * size / 1e6);
        }
    }

    private static double[] run(WireGuardSession a, WireGuardSession b, ArrayDeque<ByteBuffer> aToB,
                                SessionOutput outA, SessionOutput outB, InetSocketAddress ea, ByteBuffer packet,
                                double seconds, long[] delivered) {
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long before = delivered[0];
        long t;
        do {
            for (int i = 0; i < 256; i++) {
                a.send(0, packet.duplicate(), outA);
                b.receive(0, ea, aToB.poll(), outB);
            }
            t = System.nanoTime();
        } while (t < end);
        return new double[] {(delivered[0] - before) / ((t - start) / 1e9)};
    }

    private static void pump(WireGuardSession a, WireGuardSession b, ArrayDeque<ByteBuffer> aToB,
                             ArrayDeque<ByteBuffer> bToA, SessionOutput outA, SessionOutput outB,
                             InetSocketAddress ea, InetSocketAddress eb, long now) {
        while (!aToB.isEmpty() || !bToA.isEmpty()) {
            while (!aToB.isEmpty()) {
                b.receive(now, ea, aToB.poll(), outB);
            }
            while (!bToA.isEmpty()) {
                a.receive(now, eb, bToA.poll(), outA);
            }
        }
    }

    private static SessionOutput output(ArrayDeque<ByteBuffer> queue, long[] delivered) {
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
                delivered[0]++;
            }

            @Override
            public void authenticated(InetSocketAddress from) {
            }
        };
    }

    private static ByteBuffer ipv4(int size) {
        byte[] p = new byte[size];
        p[0] = 0x45;
        p[2] = (byte) (size >>> 8);
        p[3] = (byte) size;
        return ByteBuffer.wrap(p);
    }
}
