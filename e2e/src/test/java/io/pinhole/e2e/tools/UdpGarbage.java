package io.pinhole.e2e.tools;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.Random;

/**
 * {@code UdpGarbage HOST PORT COUNT SOCKETS SEED}: sends COUNT datagrams of random bytes to
 * HOST:PORT from SOCKETS different source ports, then prints what it sent. Sizes are mixed:
 * empty, 1-byte, short (2-64, truncated headers), medium (65-1400), full-MTU-ish (1401-1472),
 * and oversized (1473-65507, fragmented on the wire). The first byte covers every value so any
 * message-type byte a parser switches on is hit. Bounded: COUNT datagrams, then exit.
 */
public final class UdpGarbage {
    private UdpGarbage() {}

    public static void main(String[] args) throws Exception {
        InetSocketAddress to = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        int count = Integer.parseInt(args[2]);
        int nsock = Integer.parseInt(args[3]);
        long seed = Long.parseLong(args[4]);
        Random rnd = new Random(seed);
        DatagramSocket[] socks = new DatagramSocket[nsock];
        for (int i = 0; i < nsock; i++) {
            socks[i] = new DatagramSocket();
        }
        byte[] buf = new byte[65507];
        long bytes = 0;
        int[] bySize = new int[6];
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
                socks[i % nsock].send(new DatagramPacket(buf, len, to));
                bytes += len;
                if ((i & 1023) == 1023) {
                    Thread.sleep(1); // bounded rate: still a burst, without starving the 2 cores for long
                }
            }
        } finally {
            for (DatagramSocket s : socks) {
                s.close();
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("sent %d datagrams (%d bytes) in %.2f s from %d ports, seed %d: "
            + "empty %d, 1-byte %d, 2-64 %d, 65-1400 %d, 1401-1472 %d, oversized %d%n",
            count, bytes, secs, nsock, seed, bySize[0], bySize[1], bySize[2], bySize[3], bySize[4], bySize[5]);
    }
}
