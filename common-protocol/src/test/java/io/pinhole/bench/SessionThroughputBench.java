package io.pinhole.bench;

import java.nio.ByteBuffer;

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
        InMemorySessions pair = new InMemorySessions();
        System.out.println("java " + System.getProperty("java.version") + ", " + Runtime.getRuntime().availableProcessors()
                + " cpus; one thread encrypts then decrypts each packet");
        for (int size : new int[] {64, 512, 1420}) {
            ByteBuffer packet = InMemorySessions.ipv4(size);
            run(pair, packet, 1.0); // warm-up
            double rate = run(pair, packet, seconds);
            System.out.printf("size %5d B: %,10.0f packets/s  %8.1f MB/s (payload)%n", size, rate, rate * size / 1e6);
        }
    }

    private static double run(InMemorySessions pair, ByteBuffer packet, double seconds) {
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long before = pair.delivered;
        long t;
        do {
            for (int i = 0; i < 256; i++) {
                pair.aToB(packet);
            }
            t = System.nanoTime();
        } while (t < end);
        return (pair.delivered - before) / ((t - start) / 1e9);
    }
}
