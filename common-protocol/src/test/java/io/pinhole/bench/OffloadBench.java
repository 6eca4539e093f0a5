package io.pinhole.bench;

import io.pinhole.offload.Coalescer;
import io.pinhole.offload.OffloadException;
import io.pinhole.offload.Segmenter;
import io.pinhole.offload.VirtioNetHdr;
import java.util.Random;

/**
 * OffloadBench: how long the pure TUN-offload code takes per 64 KB: {@link Segmenter} splitting a
 * 65,535-byte TCPv4 super-packet at gso_size 1,380 into 48 segments (copy, lengths, IDs, sequence
 * numbers, full checksums), and {@link Coalescer} merging those 48 segments back into the one
 * 65,535-byte super-packet (checksums verified). One thread, buffers reused, no
 * TUN. A benchmark, not a test: run it with bench/offload-throughput.sh.
 */
public final class OffloadBench {
    private static final int MSS = 1380;
    private static final int SEGMENTS = 48;

    private OffloadBench() {
    }

    public static void main(String[] args) throws OffloadException {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        byte[] superPacket = superPacket();
        Segmenter segmenter = new Segmenter();
        byte[][] segments = new byte[SEGMENTS][16 + 1500];
        int[] sizes = new int[SEGMENTS];
        int[] offsets = new int[SEGMENTS];
        java.util.Arrays.fill(offsets, 16);
        Coalescer coalescer = new Coalescer(128);
        byte[] arena = new byte[65_535 + SEGMENTS * VirtioNetHdr.SIZE];
        byte[][] outBufs = new byte[SEGMENTS][];
        int[] outOffsets = new int[SEGMENTS];
        int[] outLengths = new int[SEGMENTS];
        if (segmenter.split(superPacket, 0, superPacket.length, segments, 16, sizes) != SEGMENTS) {
            throw new IllegalStateException("expected " + SEGMENTS + " segments");
        }
        System.out.println("java " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " cpus; one 65,535-byte TCPv4 super-packet, gso_size "
                + MSS + ", " + SEGMENTS + " segments");
        for (int pass = 0; pass < 2; pass++) { // the first pass warms up
            double s = pass == 0 ? 1 : seconds;
            long n = 0;
            long start = System.nanoTime();
            long end = start + (long) (s * 1e9);
            long t;
            do {
                for (int i = 0; i < 64; i++) {
                    segmenter.split(superPacket, 0, superPacket.length, segments, 16, sizes);
                }
                n += 64;
                t = System.nanoTime();
            } while (t < end);
            double splitNs = (t - start) / (double) n;
            n = 0;
            int records = 0;
            start = System.nanoTime();
            end = start + (long) (s * 1e9);
            do {
                for (int i = 0; i < 64; i++) {
                    records = coalescer.coalesce(segments, offsets, sizes, SEGMENTS, arena, outBufs, outOffsets, outLengths);
                }
                n += 64;
                t = System.nanoTime();
            } while (t < end);
            double coalesceNs = (t - start) / (double) n;
            if (pass == 1) {
                System.out.printf("split:    %,9.0f ns per super-packet  %6.2f GB/s%n", splitNs, 65_535 / splitNs);
                System.out.printf("coalesce: %,9.0f ns per %d segments   %6.2f GB/s  (records: %d)%n", coalesceNs, SEGMENTS,
                        65_535 / coalesceNs, records);
            }
        }
    }

    /** A virtio header (NEEDS_CSUM, TCPV4, gso_size 1,380) and a 65,535-byte IPv4/TCP packet. */
    private static byte[] superPacket() {
        int total = 65_535;
        byte[] b = new byte[VirtioNetHdr.SIZE + total];
        new Random(1).nextBytes(b);
        new VirtioNetHdr().set(VirtioNetHdr.F_NEEDS_CSUM, VirtioNetHdr.GSO_TCPV4, 40, MSS, 20, 16).write(b, 0);
        int p = VirtioNetHdr.SIZE;
        byte[] ip = {0x45, 0, (byte) (total >>> 8), (byte) total, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2};
        System.arraycopy(ip, 0, b, p, ip.length);
        byte[] tcp = {(byte) 0x9c, 0x40, 0x14, 0x51, 0, 0, 0x03, (byte) 0xe8, 0, 1, 0x2f, (byte) 0xd1, 0x50, 0x10, 1, (byte) 0xf6,
                0, 0, 0, 0};
        System.arraycopy(tcp, 0, b, p + 20, tcp.length);
        return b;
    }
}
