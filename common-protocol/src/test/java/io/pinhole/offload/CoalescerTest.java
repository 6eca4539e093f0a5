package io.pinhole.offload;

import static io.pinhole.offload.TestPackets.u16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.offload.OffloadException.Reason;
import io.pinhole.offload.TestPackets.Builder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class CoalescerTest {
    private static final int FIN = 0x01;
    private static final int SYN = 0x02;
    private static final int PSH = 0x08;
    private static final int ACK = 0x10;
    private static final int URG = 0x20;
    private static final int CWR = 0x80;
    static final int HEADROOM = 16;

    private final Coalescer coalescer = new Coalescer(128);
    private final Segmenter segmenter = new Segmenter();
    private byte[][] outBufs;
    private int[] outOffsets;

    /** Segments of one flow: {@code n} packets of {@code mss} payload bytes, the last {@code lastPayload}. */
    static List<byte[]> flow(Builder b, int mss, int n, int lastPayload, long seed) {
        List<byte[]> packets = new ArrayList<>();
        byte[] data = TestPackets.bytes(mss * n, seed);
        for (int i = 0; i < n; i++) {
            Builder s = b.copy();
            s.seq = b.seq + i * mss;
            s.id = b.id + i;
            s.payload = TestPackets.slice(data, i * mss, i == n - 1 ? lastPayload : mss);
            packets.add(s.build());
        }
        return packets;
    }

    /** Coalesces the packets (each with {@code headroom} bytes before it) and copies the records out. */
    List<byte[]> coalesce(List<byte[]> packets, int headroom) throws OffloadException {
        int n = packets.size();
        byte[][] bufs = new byte[n][];
        int[] offsets = new int[n];
        int[] lengths = new int[n];
        int total = 0;
        for (int i = 0; i < n; i++) {
            byte[] p = packets.get(i);
            bufs[i] = new byte[headroom + p.length];
            System.arraycopy(p, 0, bufs[i], headroom, p.length);
            offsets[i] = headroom;
            lengths[i] = p.length;
            total += p.length + VirtioNetHdr.SIZE;
        }
        outBufs = new byte[n][];
        outOffsets = new int[n];
        int[] outLengths = new int[n];
        int records = coalescer.coalesce(bufs, offsets, lengths, n, new byte[total], outBufs, outOffsets, outLengths);
        List<byte[]> out = new ArrayList<>();
        for (int k = 0; k < records; k++) {
            out.add(TestPackets.slice(outBufs[k], outOffsets[k], outLengths[k]));
        }
        for (int i = 0; i < n; i++) {
            assertArrayEquals(packets.get(i), TestPackets.slice(bufs[i], headroom, lengths[i]), "input packet kept");
        }
        return out;
    }

    List<byte[]> split(List<byte[]> records) throws OffloadException {
        byte[][] segs = SegmenterTest.buffers(64, 65_535);
        int[] sizes = new int[64];
        List<byte[]> packets = new ArrayList<>();
        for (byte[] r : records) {
            int n = segmenter.split(r, 0, r.length, segs, 0, sizes);
            for (int i = 0; i < n; i++) {
                packets.add(TestPackets.slice(segs[i], 0, sizes[i]));
            }
        }
        return packets;
    }

    static VirtioNetHdr header(byte[] record) throws OffloadException {
        return new VirtioNetHdr().read(record, 0, record.length);
    }

    static byte[] packetOf(byte[] record) {
        return TestPackets.slice(record, VirtioNetHdr.SIZE, record.length - VirtioNetHdr.SIZE);
    }

    static void assertSamePackets(List<byte[]> expected, List<byte[]> actual) {
        assertEquals(expected.size(), actual.size(), "packet count");
        for (int i = 0; i < expected.size(); i++) {
            assertArrayEquals(expected.get(i), actual.get(i), "packet " + i);
        }
    }

    @Test
    void aTcp4FlowBecomesOneSuperPacketWithPartialChecksum() throws OffloadException {
        Builder b = Builder.tcp4();
        List<byte[]> packets = flow(b, 1380, 10, 500, 1);
        byte[] last = packets.get(9);
        Builder withPsh = b.copy();
        withPsh.flags = ACK | PSH;
        withPsh.seq = b.seq + 9 * 1380;
        withPsh.id = b.id + 9;
        withPsh.payload = TestPackets.slice(last, 40, 500);
        packets.set(9, withPsh.build());

        List<byte[]> records = coalesce(packets, HEADROOM);
        assertEquals(1, records.size());
        byte[] r = records.get(0);
        VirtioNetHdr h = header(r);
        assertEquals(VirtioNetHdr.F_NEEDS_CSUM, h.flags());
        assertEquals(VirtioNetHdr.GSO_TCPV4, h.gsoType());
        assertEquals(40, h.hdrLen());
        assertEquals(1380, h.gsoSize());
        assertEquals(20, h.csumStart());
        assertEquals(16, h.csumOffset());
        byte[] p = packetOf(r);
        int tcpLength = 20 + 9 * 1380 + 500;
        assertEquals(20 + tcpLength, p.length);
        assertEquals(p.length, u16(p, 2), "IPv4 total length");
        assertEquals(b.id, u16(p, 4), "the first segment's ID");
        assertTrue(TestPackets.ipv4HeaderChecksumValid(p));
        assertEquals(TestPackets.pseudo(p, tcpLength), u16(p, 36), "pseudo-header sum in the TCP checksum field");
        assertEquals(ACK | PSH, p[33] & 0xFF, "PSH from the last segment");
        // what the kernel does with CHECKSUM_PARTIAL: sum from csum_start, complement, store
        byte[] done = p.clone();
        int partial = u16(done, 36);
        TestPackets.put16(done, 36, 0);
        TestPackets.put16(done, 36, ~TestPackets.onesSum(done, 20, tcpLength, partial) & 0xFFFF);
        assertTrue(TestPackets.transportChecksumValid(done));
        assertSamePackets(packets, split(records));
    }

    @Test
    void coalesceThenSplitGivesTheSamePacketsBackForIpv4AndIpv6() throws OffloadException {
        for (Builder b : new Builder[] {Builder.tcp4(), Builder.tcp6()}) {
            b.tcpOptions = new byte[] {1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7};
            List<byte[]> packets = flow(b, 1368, 40, 1368, 2);
            List<byte[]> records = coalesce(packets, HEADROOM);
            assertEquals(1, records.size());
            assertEquals(b.v6 ? VirtioNetHdr.GSO_TCPV6 : VirtioNetHdr.GSO_TCPV4, header(records.get(0)).gsoType());
            assertEquals((b.v6 ? 72 : 52), header(records.get(0)).hdrLen());
            if (b.v6) {
                assertEquals(40 * 1368 + 32, u16(packetOf(records.get(0)), 4), "IPv6 payload length");
            }
            assertSamePackets(packets, split(records));
        }
    }

    @Test
    void aFlowLongerThan64KbMakesSeveralSuperPackets() throws OffloadException {
        List<byte[]> packets = flow(Builder.tcp4(), 1380, 100, 1380, 3);
        List<byte[]> records = coalesce(packets, HEADROOM);
        assertEquals(3, records.size()); // 47 segments of 1,380 fit in 65,535 bytes, 48 do not
        assertEquals(10 + 40 + 47 * 1380, records.get(0).length);
        assertEquals(10 + 40 + 6 * 1380, records.get(2).length);
        assertSamePackets(packets, split(records));
    }

    @Test
    void aSingleVerifiedSegmentPassesWithDataValidInPlace() throws OffloadException {
        byte[] p = Builder.tcp4().payload(TestPackets.bytes(100, 4)).build();
        List<byte[]> records = coalesce(List.of(p), HEADROOM);
        assertArrayEquals(TestPackets.plainRecord(p, VirtioNetHdr.F_DATA_VALID), records.get(0));
        assertEquals(HEADROOM - VirtioNetHdr.SIZE, outOffsets[0], "written in the packet's headroom");
    }

    @Test
    void withoutHeadroomSinglePacketsAreCopiedToTheArena() throws OffloadException {
        byte[] p = Builder.udp4().payload(TestPackets.bytes(100, 5)).build();
        byte[] q = Builder.tcp6().payload(TestPackets.bytes(100, 6)).build();
        List<byte[]> records = coalesce(List.of(p, q), 0);
        assertArrayEquals(TestPackets.plainRecord(p, 0), records.get(0));
        assertArrayEquals(TestPackets.plainRecord(q, VirtioNetHdr.F_DATA_VALID), records.get(1));
        assertSame(outBufs[0], outBufs[1], "both in the arena");
        assertEquals(0, outOffsets[0]);
        assertEquals(VirtioNetHdr.SIZE + p.length, outOffsets[1]);
    }

    @Test
    void udpAndOtherPacketsPassThroughWithFlagsZero() throws OffloadException {
        List<byte[]> packets = new ArrayList<>(flow(Builder.udp4(), 1000, 3, 1000, 7));
        byte[] icmp = Builder.tcp4().build();
        icmp[9] = 1;
        packets.add(icmp);
        packets.add(new byte[] {0x45, 0, 0}); // malformed: the kernel judges it
        List<byte[]> records = coalesce(packets, HEADROOM);
        assertEquals(5, records.size());
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(TestPackets.plainRecord(packets.get(i), 0), records.get(i));
        }
    }

    @Test
    void aBadChecksumIsNeitherMergedNorMarkedValidAndEndsTheSuperPacket() throws OffloadException {
        List<byte[]> packets = flow(Builder.tcp4(), 1000, 6, 1000, 8);
        packets.get(3)[500] ^= 0x40;
        List<byte[]> records = coalesce(packets, HEADROOM);
        assertEquals(3, records.size());
        assertEquals(3, segments(records.get(0)));
        assertArrayEquals(TestPackets.plainRecord(packets.get(3), 0), records.get(1));
        assertEquals(2, segments(records.get(2)));
        assertSamePackets(packets, split(records));

        List<byte[]> badHeader = flow(Builder.tcp4(), 1000, 3, 1000, 9);
        badHeader.get(1)[8] ^= 1; // TTL changed, IPv4 header checksum not fixed
        List<byte[]> r2 = coalesce(badHeader, HEADROOM);
        assertEquals(3, r2.size());
        assertEquals(0, header(r2.get(1)).flags());
    }

    private static int segments(byte[] record) throws OffloadException {
        VirtioNetHdr h = header(record);
        if (h.gsoKind() == VirtioNetHdr.GSO_NONE) {
            return 1;
        }
        int payload = record.length - VirtioNetHdr.SIZE - h.hdrLen();
        return (payload + h.gsoSize() - 1) / h.gsoSize();
    }

    private void assertRecords(List<byte[]> packets, int... segmentsPerRecord) throws OffloadException {
        List<byte[]> records = coalesce(packets, HEADROOM);
        int[] actual = new int[records.size()];
        for (int k = 0; k < actual.length; k++) {
            actual[k] = segments(records.get(k));
        }
        assertArrayEquals(segmentsPerRecord, actual);
        assertSamePackets(packets, split(records));
    }

    /** A 6-segment flow with packet {@code i} rebuilt after {@code change}. */
    private static List<byte[]> flowWith(int i, Consumer<Builder> change) {
        Builder b = Builder.tcp4();
        List<byte[]> packets = flow(b, 1000, 6, 1000, 10);
        Builder s = b.copy();
        s.seq = b.seq + i * 1000;
        s.id = b.id + i;
        s.payload = TestPackets.slice(packets.get(i), 40, 1000);
        change.accept(s);
        packets.set(i, s.build());
        return packets;
    }

    @Test
    void flagRules() throws OffloadException {
        assertRecords(flowWith(2, s -> s.flags = ACK | PSH), 3, 3); // PSH ends a super-packet
        assertRecords(flowWith(5, s -> s.flags = ACK | PSH), 6); // ... and may be on its last segment
        assertRecords(flowWith(0, s -> s.flags = ACK | PSH), 1, 5);
        for (int flags : new int[] {ACK | FIN, ACK | SYN, ACK | URG, ACK | CWR, ACK | 0x40, 0, ACK | 0x04}) {
            assertRecords(flowWith(3, s -> s.flags = flags), 3, 1, 2);
        }
    }

    @Test
    void fieldsThatMustMatch() throws OffloadException {
        assertRecords(flowWith(3, s -> s.ack++), 3, 1, 2); // a changed field ends a super-packet and starts its own
        assertRecords(flowWith(3, s -> s.window++), 3, 1, 2);
        assertRecords(flowWith(3, s -> s.urgent = 1), 3, 1, 2);
        assertRecords(flowWith(3, s -> s.ttl--), 3, 1, 2);
        assertRecords(flowWith(3, s -> s.tos = 2), 3, 1, 2);
        assertRecords(flowWith(3, s -> s.df = false), 3, 1, 2);
        assertRecords(flowWith(3, s -> s.id += 5), 3, 1, 2); // IDs must run on
        assertRecords(flowWith(3, s -> s.seq += 1), 3, 1, 2); // a gap
        assertRecords(flowWith(3, s -> s.tcpOptions = new byte[] {1, 1, 1, 1}), 3, 1, 2); // options differ
        assertRecords(flowWith(3, s -> s.payload = Arrays.copyOf(s.payload, 999)), 4, 2); // shorter ends it
        assertRecords(flowWith(5, s -> s.payload = Arrays.copyOf(s.payload, 1)), 6);
        assertRecords(flowWith(3, s -> s.payload = new byte[0]), 3, 1, 2); // pure ACK: not merged, ends it
        assertRecords(flowWith(3, s -> s.ipOptions = new byte[] {1, 1, 1, 1}), 3, 1, 2); // IPv4 options
        Builder b6 = Builder.tcp6();
        List<byte[]> v6 = flow(b6, 1000, 4, 1000, 11);
        Builder s = b6.copy();
        s.flowLabel = 7;
        s.seq = b6.seq + 2 * 1000;
        s.payload = TestPackets.slice(v6.get(2), 60, 1000);
        v6.set(2, s.build());
        assertRecords(v6, 2, 1, 1); // another flow label: not merged either way
    }

    @Test
    void aLargerSegmentAfterTheFirstIsNotMerged() throws OffloadException {
        Builder b = Builder.tcp4();
        List<byte[]> packets = flow(b, 1000, 2, 1000, 12);
        Builder big = b.copy();
        big.seq = b.seq + 2000;
        big.id = b.id + 2;
        big.payload = new byte[1200];
        packets.add(big.build());
        assertRecords(packets, 2, 1);
    }

    @Test
    void interleavedFlowsEachCoalesceAndKeepTheirOrder() throws OffloadException {
        Builder a = Builder.tcp4();
        Builder c = Builder.tcp4();
        c.sport = 40001;
        Builder d = Builder.tcp6();
        List<byte[]> fa = flow(a, 1000, 5, 300, 13);
        List<byte[]> fc = flow(c, 1200, 5, 1200, 14);
        List<byte[]> fd = flow(d, 1300, 5, 1, 15);
        List<byte[]> mixed = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            mixed.add(fa.get(i));
            mixed.add(fc.get(i));
            mixed.add(fd.get(i));
        }
        List<byte[]> records = coalesce(mixed, HEADROOM);
        assertEquals(3, records.size());
        List<byte[]> expected = new ArrayList<>(fa);
        expected.addAll(fc);
        expected.addAll(fd);
        assertSamePackets(expected, split(records));
    }

    @Test
    void outOfOrderSegmentsAreNotReordered() throws OffloadException {
        List<byte[]> packets = flow(Builder.tcp4(), 1000, 6, 1000, 16);
        List<byte[]> swapped = new ArrayList<>(packets);
        swapped.set(2, packets.get(3));
        swapped.set(3, packets.get(2));
        List<byte[]> records = coalesce(swapped, HEADROOM);
        assertSamePackets(swapped, split(records));
        assertEquals(4, records.size()); // [0,1], [3], [2], then [4,5]: 4 does not follow 2's item
    }

    @Test
    void batchesThatDoNotFitAreRefused() {
        byte[][] bufs = new byte[200][];
        int[] none = new int[200];
        assertEquals(Reason.TOO_MANY_SEGMENTS, assertThrows(OffloadException.class,
                () -> coalescer.coalesce(bufs, none, none, 129, new byte[0], new byte[200][], none, none)).reason());
        assertEquals(Reason.OUTPUT_TOO_SMALL, assertThrows(OffloadException.class,
                () -> coalescer.coalesce(bufs, none, none, 10, new byte[0], new byte[9][], none, none)).reason());
        List<byte[]> packets = flow(Builder.tcp4(), 1000, 3, 1000, 17);
        byte[][] in = packets.toArray(new byte[0][]);
        int[] offsets = new int[3];
        int[] lengths = {1040, 1040, 1040};
        byte[] arena = new byte[3049]; // one byte short of the super-packet's record
        assertEquals(Reason.OUTPUT_TOO_SMALL, assertThrows(OffloadException.class,
                () -> coalescer.coalesce(in, offsets, lengths, 3, arena, new byte[3][], new int[3], new int[3])).reason());
        assertArrayEquals(new byte[3049], arena, "nothing written");
    }

    @Test
    void theArenaNeedsRoomOnlyForWhatIsCopied() throws OffloadException {
        List<byte[]> packets = flow(Builder.tcp4(), 1000, 3, 1000, 18);
        byte[][] in = packets.toArray(new byte[0][]);
        byte[] arena = new byte[3050];
        byte[][] ob = new byte[3][];
        int[] ol = new int[3];
        assertEquals(1, coalescer.coalesce(in, new int[3], new int[] {1040, 1040, 1040}, 3, arena, ob, new int[3], ol));
        assertNotSame(in[0], ob[0]);
        assertEquals(3050, ol[0]);
    }

    @Test
    void corruptedBatchesNeverThrowAndStillSplitBack() throws OffloadException {
        java.util.Random random = new java.util.Random(7);
        for (int round = 0; round < 2000; round++) {
            List<byte[]> packets = new ArrayList<>(flow(random.nextBoolean() ? Builder.tcp4() : Builder.tcp6(), 600, 8, 600,
                    round));
            for (int k = random.nextInt(4); k >= 0; k--) {
                int i = random.nextInt(packets.size());
                byte[] p = packets.get(i);
                if (random.nextInt(4) == 0) {
                    packets.set(i, TestPackets.slice(p, 0, random.nextInt(p.length + 1)));
                } else {
                    p[random.nextInt(Math.min(p.length, 80))] = (byte) random.nextInt();
                }
            }
            List<byte[]> records = coalesce(packets, HEADROOM);
            int segments = 0;
            for (byte[] r : records) {
                VirtioNetHdr h = header(r);
                if (h.gsoKind() == VirtioNetHdr.GSO_NONE) {
                    segments++;
                } else {
                    segments += split(List.of(r)).size();
                }
            }
            assertEquals(packets.size(), segments, "round " + round);
        }
    }
}
