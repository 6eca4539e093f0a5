package io.pinhole.e2e.tools;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.Random;

/**
 * {@code UdpGarbage HOST PORT COUNT SOCKETS SEED PACE}: sends COUNT datagrams of random bytes to
 * HOST:PORT from SOCKETS different source ports, then prints what it sent. Sizes are mixed:
 * empty, 1-byte, short (2-64, truncated headers), medium (65-1400), full-MTU-ish (1401-1472),
 * and oversized (1473-65507, fragmented on the wire), plus datagrams of exactly the control
 * messages' sizes (80 and 256 bytes). The first byte walks through every value so any
 * message-type byte a parser switches on is hit, and half of the datagrams of 4 bytes or more
 * carry a well-formed pinhole header (version 1, reserved bytes zero; see docs/wire-format.md),
 * so the garbage gets past the header check into the message parsers. Paced lightly (1 ms pause
 * every PACE datagrams; 0 = no pause). Bounded: COUNT datagrams, then exit.
 */
public final class UdpGarbage {
    private UdpGarbage() {}

    public static void main(String[] args) throws Exception {
        InetSocketAddress to = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        int count = Integer.parseInt(args[2]);
        int nsock = Integer.parseInt(args[3]);
        long seed = Long.parseLong(args[4]);
        int pace = Integer.parseInt(args[5]);
        Random rnd = new Random(seed);
        DatagramSocket[] socks = new DatagramSocket[nsock];
        for (int i = 0; i < nsock; i++) {
            socks[i] = new DatagramSocket();
        }
        byte[] buf = new byte[65507];
        long bytes = 0;
        int[] bySize = new int[7];
        int withHeader = 0;
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < count; i++) {
                int kind = rnd.nextInt(1000);
                int len;
                if (kind < 20) {
                    len = 0;
                    bySize[0]++;
                } else if (kind < 60) {
                    len = 1;
                    bySize[1]++;
                } else if (kind < 160) {
                    len = rnd.nextBoolean() ? 80 : 256;
                    bySize[6]++;
                } else if (kind < 560) {
                    len = 2 + rnd.nextInt(63);
                    bySize[2]++;
                } else if (kind < 900) {
                    len = 65 + rnd.nextInt(1336);
                    bySize[3]++;
                } else if (kind < 995) {
                    len = 1401 + rnd.nextInt(72);
                    bySize[4]++;
                } else {
                    len = 1473 + rnd.nextInt(65507 - 1473 + 1);
                    bySize[5]++;
                }
                for (int j = 0; j < len; j += 8) { // only the bytes that are sent
                    long r = rnd.nextLong();
                    for (int k = j; k < Math.min(len, j + 8); k++, r >>>= 8) {
                        buf[k] = (byte) r;
                    }
                }
                if (len > 0) {
                    buf[0] = (byte) i; // walk through every first-byte value
                }
                if (len >= 4 && rnd.nextBoolean()) {
                    buf[1] = 1; // version
                    buf[2] = 0; // reserved
                    buf[3] = 0;
                    withHeader++;
                }
                socks[i % nsock].send(new DatagramPacket(buf, len, to));
                bytes += len;
                if (pace > 0 && i % pace == pace - 1) {
                    Thread.sleep(1);
                }
            }
        } finally {
            for (DatagramSocket s : socks) {
                s.close();
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("sent %d datagrams (%d bytes) in %.2f s from %d ports, seed %d: "
            + "empty %d, 1-byte %d, 2-64 %d, 65-1400 %d, 1401-1472 %d, oversized %d, 80/256 %d; %d with a valid header%n",
            count, bytes, secs, nsock, seed, bySize[0], bySize[1], bySize[2], bySize[3], bySize[4], bySize[5], bySize[6], withHeader);
    }
}
