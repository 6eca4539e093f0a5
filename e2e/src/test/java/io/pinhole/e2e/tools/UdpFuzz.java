package io.pinhole.e2e.tools;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code UdpFuzz HOST PORT COUNT RATE SEED SEEDS_FILE LOCALPORTS}: sends COUNT datagrams to
 * HOST:PORT at about RATE per second, round-robin from sockets bound to LOCALPORTS (comma
 * separated), then prints what it sent. Three kinds, all 0-1500 bytes:
 * <ul>
 *   <li>mutations (45%) of real datagrams (SEEDS_FILE: one hex datagram a line, e.g. captured
 *       pinhole and WireGuard traffic): 1-4 of bit flips, random or boundary bytes, truncation,
 *       extension, a duplicated or zeroed run, a new type byte; never equal to the seed;
 *   <li>shaped random (35%): a type byte biased to WireGuard's 1-4 and pinhole's 0x50-0x56,
 *       mostly a valid header after it (three zero bytes; version 1 and two zero bytes), often
 *       an exact message size (WireGuard 148/92/64/32+16n, REGISTER 320, REGISTERED 45, PUNCH
 *       112, CHALLENGE and LEAVE 68), random bytes otherwise;
 *   <li>plain random bytes of a random length (20%).
 * </ul>
 * Bounded: COUNT datagrams, then exit.
 */
public final class UdpFuzz {
    private UdpFuzz() {}

    static final int[] TYPES = {1, 2, 3, 4, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56};
    static final int[] SIZES = {148, 92, 64, 32, 48, 64, 96, 160, 320, 45, 112, 68, 1452};

    public static void main(String[] args) throws Exception {
        InetSocketAddress to = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        long count = Long.parseLong(args[2]);
        double rate = Double.parseDouble(args[3]);
        long seed = Long.parseLong(args[4]);
        List<byte[]> seeds = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[5]))) {
            if (!line.isBlank()) {
                seeds.add(HexFormat.of().parseHex(line.strip()));
            }
        }
        String[] ports = args[6].split(",");
        DatagramSocket[] socks = new DatagramSocket[ports.length];
        for (int i = 0; i < ports.length; i++) {
            socks[i] = new DatagramSocket(Integer.parseInt(ports[i]));
            socks[i].setSendBufferSize(1 << 20);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] buf = new byte[1500];
        long[] kinds = new long[3];
        long[] firstBytes = new long[256];
        long bytes = 0;
        long t0 = System.nanoTime();
        double nanosPer = 1e9 / rate;
        DatagramPacket packet = new DatagramPacket(buf, 0, to);
        try {
            for (long i = 0; i < count; i++) {
                int len;
                int kind = rnd.nextInt(100);
                if (kind < 45 && !seeds.isEmpty()) {
                    len = mutate(rnd, seeds.get(rnd.nextInt(seeds.size())), buf);
                    kinds[0]++;
                } else if (kind < 80) {
                    len = shaped(rnd, buf);
                    kinds[1]++;
                } else {
                    len = rnd.nextInt(1501);
                    fill(rnd, buf, 0, len);
                    kinds[2]++;
                }
                if (len > 0) {
                    firstBytes[buf[0] & 0xff]++;
                }
                packet.setData(buf, 0, len);
                socks[(int) (i % socks.length)].send(packet);
                bytes += len;
                long due = t0 + (long) (i * nanosPer);
                long ahead = due - System.nanoTime();
                if (ahead > 200_000) {
                    LockSupport.parkNanos(ahead);
                }
            }
        } finally {
            for (DatagramSocket s : socks) {
                s.close();
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long typed = 0;
        for (int t : TYPES) {
            typed += firstBytes[t];
        }
        System.out.printf("sent %d datagrams (%d bytes) in %.1f s = %.0f/s from %d ports, seed %d: %d mutated from %d seeds, "
                + "%d shaped, %d random; %d begin with a type byte 1-4 or 0x50-0x56%n",
            count, bytes, secs, count / secs, socks.length, seed, kinds[0], seeds.size(), kinds[1], kinds[2], typed);
    }

    static int mutate(SplittableRandom rnd, byte[] seed, byte[] buf) {
        int len = Math.min(seed.length, buf.length);
        System.arraycopy(seed, 0, buf, 0, len);
        for (int m = 1 + rnd.nextInt(4); m > 0; m--) {
            switch (rnd.nextInt(8)) {
                case 0, 1 -> { // bit flip
                    if (len > 0) {
                        int bit = rnd.nextInt(len * 8);
                        buf[bit / 8] ^= (byte) (1 << (bit % 8));
                    }
                }
                case 2 -> { // random or boundary byte
                    if (len > 0) {
                        int[] edge = {0, 0xff, 0x7f, 0x80, 1, rnd.nextInt(256)};
                        buf[rnd.nextInt(len)] = (byte) edge[rnd.nextInt(edge.length)];
                    }
                }
                case 3 -> len = len == 0 ? 0 : rnd.nextInt(len); // truncate
                case 4 -> { // extend
                    int n = Math.min(buf.length - len, 1 + rnd.nextInt(64));
                    fill(rnd, buf, len, n);
                    len += n;
                }
                case 5 -> { // duplicate a run onto another place
                    if (len > 1) {
                        int from = rnd.nextInt(len);
                        int at = rnd.nextInt(len);
                        int n = Math.min(rnd.nextInt(32) + 1, Math.min(len - from, len - at));
                        System.arraycopy(buf, from, buf, at, n);
                    }
                }
                case 6 -> { // zero a run
                    if (len > 0) {
                        int at = rnd.nextInt(len);
                        Arrays.fill(buf, at, Math.min(len, at + 1 + rnd.nextInt(32)), (byte) 0);
                    }
                }
                default -> { // another type byte
                    if (len > 0) {
                        buf[0] = (byte) TYPES[rnd.nextInt(TYPES.length)];
                    }
                }
            }
        }
        if (len == seed.length && Arrays.equals(buf, 0, len, seed, 0, len)) {
            if (len == 0) {
                buf[0] = (byte) rnd.nextInt(256);
                len = 1;
            } else {
                buf[rnd.nextInt(len)] ^= (byte) (1 << rnd.nextInt(8)); // never the seed itself: no replays here
            }
        }
        return len;
    }

    static int shaped(SplittableRandom rnd, byte[] buf) {
        int len = rnd.nextInt(10) < 4 ? SIZES[rnd.nextInt(SIZES.length)] : rnd.nextInt(1501);
        fill(rnd, buf, 0, len);
        if (len == 0) {
            return 0;
        }
        int type = rnd.nextInt(10) < 7 ? TYPES[rnd.nextInt(TYPES.length)] : rnd.nextInt(256);
        buf[0] = (byte) type;
        if (len >= 4 && rnd.nextInt(10) < 8) {
            buf[1] = (byte) (type >= 0x50 ? 1 : 0);
            buf[2] = 0;
            buf[3] = 0;
        }
        return len;
    }

    static void fill(SplittableRandom rnd, byte[] buf, int from, int n) {
        for (int j = 0; j < n; j += 8) {
            long r = rnd.nextLong();
            for (int k = from + j; k < from + Math.min(n, j + 8); k++, r >>>= 8) {
                buf[k] = (byte) r;
            }
        }
    }
}
