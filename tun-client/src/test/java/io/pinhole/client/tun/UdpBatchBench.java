package io.pinhole.client.tun;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.Locale;

/**
 * A benchmark, not a test (bench/udp-batch.sh runs it): 1,420-byte datagrams over loopback, one
 * sender thread and one receiver thread, in three ways interleaved round by round: the JDK's
 * DatagramChannel one datagram per system call (what the client does today), {@link
 * UdpBatchSocket} with 64 datagrams per {@code sendmmsg}/{@code recvmmsg}, and the same with UDP GSO
 * on the send side (64 KB messages) and UDP GRO on the receive side. Prints datagrams per second
 * received and Gb/s of payload, median and range over the rounds. Loopback only.
 */
public final class UdpBatchBench {
    private static final int SIZE = 1420;
    private static final int BATCH = 64;

    private UdpBatchBench() {
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        String[] names = {"jdk DatagramChannel, 1 per call", "sendmmsg/recvmmsg, 64 per call", "GSO 64 KB + GRO"};
        double[][] pps = new double[names.length][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int way = 0; way < names.length; way++) {
                int w = (way + r) % names.length;
                pps[w][r] = run(w, seconds);
            }
        }
        System.out.printf(Locale.ROOT, "UDP loopback, %d-byte datagrams, %d rounds of %.1f s, java %s%n", SIZE, rounds,
                seconds, System.getProperty("java.version"));
        for (int w = 0; w < names.length; w++) {
            double[] sorted = pps[w].clone();
            Arrays.sort(sorted);
            double median = sorted[rounds / 2];
            System.out.printf(Locale.ROOT, "%-34s %10.0f datagrams/s (%.0f-%.0f)  %6.2f Gb/s  x%.2f%n", names[w], median,
                    sorted[0], sorted[rounds - 1], median * SIZE * 8 / 1e9, median / medianOf(pps[0]));
        }
    }

    private static double medianOf(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** Datagrams per second received in {@code seconds}, way 0 (JDK), 1 (batched) or 2 (GSO/GRO). */
    private static double run(int way, double seconds) throws Exception {
        InetSocketAddress loopback = new InetSocketAddress(java.net.InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0);
        try (UdpBatchSocket receiver = UdpBatchSocket.open(loopback, 16 << 20)) {
            if (way == 2 && !receiver.enableGro()) {
                return 0;
            }
            java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
            Thread reader = new Thread(() -> {
                DatagramBatch in = new DatagramBatch(BATCH, way == 2 ? DatagramBatch.MAX_DATAGRAM : 2048);
                try {
                    for (;;) {
                        int n = receiver.receive(in, -1);
                        if (n < 0) {
                            return;
                        }
                        for (int i = 0; i < n; i++) {
                            int segment = in.segmentSize(i);
                            received.addAndGet(segment == 0 ? 1 : (in.length(i) + segment - 1) / segment);
                        }
                    }
                } catch (SocketOptionException e) {
                    throw new IllegalStateException(e);
                }
            }, "bench-receive");
            reader.start();
            long end = System.nanoTime() + (long) (seconds * 1e9);
            long start = System.nanoTime();
            long before = 0;
            boolean measuring = false;
            long warm = start + (long) (seconds * 0.2e9);
            InetSocketAddress to = receiver.localAddress();
            if (way == 0) {
                try (DatagramChannel jdk = DatagramChannel.open(StandardProtocolFamily.INET)) {
                    ByteBuffer datagram = ByteBuffer.allocateDirect(SIZE);
                    while (System.nanoTime() < end) {
                        for (int i = 0; i < BATCH; i++) {
                            datagram.clear();
                            jdk.send(datagram, to);
                        }
                        if (!measuring && System.nanoTime() > warm) {
                            measuring = true;
                            before = received.get();
                            start = System.nanoTime();
                        }
                    }
                }
            } else {
                try (UdpBatchSocket sender = UdpBatchSocket.open(loopback, 16 << 20)) {
                    DatagramBatch out = new DatagramBatch(way == 2 ? 4 : BATCH, way == 2 ? 45 * SIZE : SIZE);
                    for (int i = 0; i < out.capacity(); i++) {
                        out.add(to, out.bufferSize(), way == 2 ? SIZE : 0);
                    }
                    while (System.nanoTime() < end) {
                        sender.send(out);
                        if (!measuring && System.nanoTime() > warm) {
                            measuring = true;
                            before = received.get();
                            start = System.nanoTime();
                        }
                    }
                }
            }
            long elapsed = System.nanoTime() - start;
            Thread.sleep(100);
            long got = received.get() - before;
            receiver.close();
            reader.join();
            return got / (elapsed / 1e9);
        }
    }
}
