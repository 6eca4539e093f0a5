package io.pinhole.offload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.offload.TestPackets.Builder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Seeded random flows and sizes: coalesce then split, and split then coalesce, give back what went in. */
class OffloadPropertyTest {
    private static final int ACK = 0x10;
    private static final int PSH = 0x08;

    private final Coalescer coalescer = new Coalescer(128);
    private final Segmenter segmenter = new Segmenter();
    private final byte[][] segs = SegmenterTest.buffers(64, 16 + 1600);
    private final int[] sizes = new int[64];

    private static Builder randomFlow(Random r, int n) {
        Builder b = r.nextBoolean() ? Builder.tcp4() : Builder.tcp6();
        b.sport = 1024 + n;
        b.seq = r.nextInt();
        b.ack = r.nextInt();
        b.id = r.nextInt(65_536);
        b.window = r.nextInt(65_536);
        b.ttl = 1 + r.nextInt(255);
        if (r.nextBoolean()) {
            b.tcpOptions = new byte[] {1, 1, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8};
        }
        return b;
    }

    private static String flowOf(byte[] p) {
        boolean v6 = TestPackets.v6(p);
        int ihl = TestPackets.ipHeaderLength(p);
        return (v6 ? "6" : "4") + java.util.Arrays.toString(TestPackets.slice(p, v6 ? 8 : 12, v6 ? 32 : 8))
                + TestPackets.u32(p, ihl) + "/" + (v6 ? p[6] : p[9]);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
    void coalesceThenSplitGivesEveryFlowBackInOrder(long seed) throws OffloadException {
        Random r = new Random(seed);
        List<ArrayDeque<byte[]>> flows = new ArrayList<>();
        int total = 0;
        for (int f = 1 + r.nextInt(5); f > 0 && total < 120; f--) {
            Builder b = randomFlow(r, f);
            int mss = 500 + r.nextInt(961);
            int n = 1 + r.nextInt(Math.min(60, 128 - total));
            int last = 1 + r.nextInt(mss);
            List<byte[]> packets = CoalescerTest.flow(b, mss, n, last, r.nextLong());
            if (r.nextBoolean()) { // PSH on the last
                Builder s = b.copy();
                byte[] p = packets.get(n - 1);
                int hl = TestPackets.ipHeaderLength(p) + s.transportHeaderLength();
                s.seq = b.seq + (n - 1) * mss;
                s.id = b.id + n - 1;
                s.flags = ACK | PSH;
                s.payload = TestPackets.slice(p, hl, p.length - hl);
                packets.set(n - 1, s.build());
            }
            flows.add(new ArrayDeque<>(packets));
            total += n;
        }
        if (total < 128 && r.nextBoolean()) {
            flows.add(new ArrayDeque<>(List.of(Builder.udp6().payload(TestPackets.bytes(900, seed)).build())));
        }
        Map<String, ArrayDeque<byte[]>> expected = new HashMap<>();
        List<byte[]> batch = new ArrayList<>();
        for (ArrayDeque<byte[]> f : flows) {
            expected.put(flowOf(f.peek()), new ArrayDeque<>(f));
        }
        while (!flows.isEmpty()) { // interleave at random, each flow kept in order
            ArrayDeque<byte[]> f = flows.get(r.nextInt(flows.size()));
            batch.add(f.poll());
            if (f.isEmpty()) {
                flows.remove(f);
            }
        }
        CoalescerTest harness = new CoalescerTest();
        List<byte[]> records = harness.coalesce(batch, r.nextBoolean() ? CoalescerTest.HEADROOM : 0);
        assertTrue(records.size() <= batch.size());
        int back = 0;
        for (byte[] record : records) {
            assertTrue(record.length - VirtioNetHdr.SIZE <= 65_535, "super-packet within 64 KB");
            int n = segmenter.split(record, 0, record.length, segs, 16, sizes);
            for (int i = 0; i < n; i++) {
                byte[] p = TestPackets.slice(segs[i], 16, sizes[i]);
                assertTrue(TestPackets.transportChecksumValid(p));
                assertArrayEquals(expected.get(flowOf(p)).poll(), p, "seed " + seed + ", packet " + back);
                back++;
            }
        }
        assertEquals(batch.size(), back);
    }

    @ParameterizedTest
    @ValueSource(longs = {101, 102, 103, 104, 105, 106, 107, 108, 109, 110})
    void splitThenCoalesceGivesTheSuperPacketBack(long seed) throws OffloadException {
        Random r = new Random(seed);
        for (int round = 0; round < 20; round++) {
            int kind = r.nextInt(4);
            Builder b = kind == 0 ? Builder.tcp4() : kind == 1 ? Builder.tcp6() : kind == 2 ? Builder.udp4() : Builder.udp6();
            b.seq = r.nextInt();
            b.id = r.nextInt(65_536);
            b.flags = r.nextBoolean() ? ACK : ACK | PSH;
            int gso = 200 + r.nextInt(1201);
            int headers = b.ipHeaderLength() + b.transportHeaderLength();
            int payload = 1 + r.nextInt(Math.min(65_535 - headers, 63 * gso));
            b.payload = TestPackets.bytes(payload, r.nextLong());
            byte[] record = b.superPacket(gso);
            int n = segmenter.split(record, 0, record.length, segs, 16, sizes);
            assertEquals((payload + gso - 1) / gso, n);
            byte[] joined = new byte[payload];
            int at = 0;
            List<byte[]> packets = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] p = TestPackets.slice(segs[i], 16, sizes[i]);
                assertTrue(TestPackets.transportChecksumValid(p), "seed " + seed + " round " + round + " segment " + i);
                if (!TestPackets.v6(p)) {
                    assertTrue(TestPackets.ipv4HeaderChecksumValid(p));
                }
                System.arraycopy(p, headers, joined, at, p.length - headers);
                at += p.length - headers;
                packets.add(p);
            }
            assertArrayEquals(b.payload, joined);
            if (b.protocol == TestPackets.TCP && n > 1) {
                List<byte[]> again = new CoalescerTest().coalesce(packets, 0);
                assertEquals(1, again.size());
                byte[] expected = record.clone();
                expected[2] = (byte) headers; // hdr_len: the headers (all below 256 here)
                expected[3] = 0;
                assertArrayEquals(expected, again.get(0), "seed " + seed + " round " + round);
            }
        }
    }
}
