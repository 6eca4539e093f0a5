package io.pinhole.offload;

import static io.pinhole.offload.TestPackets.u16;
import static io.pinhole.offload.TestPackets.u32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pinhole.offload.OffloadException.Reason;
import io.pinhole.offload.TestPackets.Builder;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SegmenterTest {
    private static final int FIN = 0x01;
    private static final int PSH = 0x08;
    private static final int ACK = 0x10;
    private static final int CWR = 0x80;

    private final Segmenter segmenter = new Segmenter();
    private final byte[][] out = buffers(64, 16 + 1500);
    private final int[] sizes = new int[64];

    static byte[][] buffers(int n, int size) {
        byte[][] b = new byte[n][];
        for (int i = 0; i < n; i++) {
            b[i] = new byte[size];
        }
        return b;
    }

    private byte[] segment(int i, int outOff) {
        return TestPackets.slice(out[i], outOff, sizes[i]);
    }

    private int split(byte[] record) throws OffloadException {
        return segmenter.split(record, 0, record.length, out, 0, sizes);
    }

    private Reason refused(byte[] record) {
        return refused(record, out);
    }

    private Reason refused(byte[] record, byte[][] buffers) {
        return assertThrows(OffloadException.class,
                () -> segmenter.split(record, 0, record.length, buffers, 0, sizes)).reason();
    }

    @Test
    void a64KbTcp4SuperPacketAtMss1380GivesFortyEightSegments() throws OffloadException {
        Builder b = Builder.tcp4();
        b.flags = ACK | PSH | FIN | CWR;
        b.id = 0xFFF0; // wraps during the run
        b.seq = -5000; // wraps too
        b.payload = TestPackets.bytes(65_535 - 40, 1);
        byte[] record = b.superPacket(1380);
        int n = segmenter.split(record, 0, record.length, out, 16, sizes);
        assertEquals(48, n);
        for (int i = 0; i < n; i++) {
            byte[] s = segment(i, 16);
            int payload = i < 47 ? 1380 : 65_495 - 47 * 1380;
            assertEquals(40 + payload, sizes[i]);
            assertEquals(40 + payload, u16(s, 2), "IPv4 total length");
            assertEquals((0xFFF0 + i) & 0xFFFF, u16(s, 4), "IPv4 ID");
            assertTrue(TestPackets.ipv4HeaderChecksumValid(s));
            assertTrue(TestPackets.transportChecksumValid(s), "TCP checksum of segment " + i);
            assertEquals(-5000 + i * 1380, u32(s, 24), "sequence number");
            int flags = s[33] & 0xFF;
            assertEquals(ACK, flags & ACK);
            assertEquals(i == 0, (flags & CWR) != 0, "CWR only on the first");
            assertEquals(i == 47, (flags & (PSH | FIN)) == (PSH | FIN), "PSH and FIN on the last");
            assertEquals(i == 47, (flags & (PSH | FIN)) != 0);
            assertArrayEquals(TestPackets.slice(b.payload, i * 1380, payload), TestPackets.slice(s, 40, payload));
        }
        assertEquals(65_535, record.length - VirtioNetHdr.SIZE);
    }

    @Test
    void segmentsAreTheVeryPacketsASenderWouldHaveSent() throws OffloadException {
        for (Builder b : new Builder[] {Builder.tcp4(), Builder.tcp6(), Builder.udp4(), Builder.udp6()}) {
            b.payload = TestPackets.bytes(10_000, 2);
            b.tcpOptions = b.protocol == TestPackets.TCP ? new byte[] {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2} : new byte[0];
            int n = split(b.superPacket(1200));
            assertEquals(9, n);
            for (int i = 0; i < n; i++) {
                Builder e = b.copy();
                e.payload = TestPackets.slice(b.payload, i * 1200, Math.min(1200, 10_000 - i * 1200));
                e.seq = b.seq + i * 1200;
                e.id = b.id + i;
                assertArrayEquals(e.build(), segment(i, 0), b.protocol + "/v6=" + b.v6 + " segment " + i);
            }
        }
    }

    @Test
    void ipv6AndUdpLengthsAndChecksums() throws OffloadException {
        Builder b = Builder.udp6();
        b.payload = TestPackets.bytes(3000, 3);
        assertEquals(3, split(b.superPacket(1400)));
        for (int i = 0; i < 3; i++) {
            byte[] s = segment(i, 0);
            int payload = i < 2 ? 1400 : 200;
            assertEquals(8 + payload, u16(s, 4), "IPv6 payload length");
            assertEquals(8 + payload, u16(s, 44), "UDP length");
            assertTrue(TestPackets.transportChecksumValid(s));
        }
    }

    @Test
    void ipv4OptionsAreCopiedToEverySegment() throws OffloadException {
        Builder b = Builder.tcp4();
        b.ipOptions = new byte[] {(byte) 0x94, 4, 0, 0}; // router alert
        b.payload = TestPackets.bytes(2500, 4);
        assertEquals(3, split(b.superPacket(1000)));
        for (int i = 0; i < 3; i++) {
            byte[] s = segment(i, 0);
            assertEquals(0x46, s[0]);
            assertArrayEquals(b.ipOptions, TestPackets.slice(s, 20, 4));
            assertTrue(TestPackets.ipv4HeaderChecksumValid(s));
            assertTrue(TestPackets.transportChecksumValid(s));
        }
    }

    @Test
    void headersOnlySuperPacketGivesOneSegment() throws OffloadException {
        byte[] record = Builder.tcp4().superPacket(1380);
        assertEquals(1, split(record));
        assertArrayEquals(Builder.tcp4().build(), segment(0, 0));
    }

    @Test
    void hdrLenIsNotTrustedBeyondTheHeaders() throws OffloadException {
        Builder b = Builder.tcp4();
        b.payload = TestPackets.bytes(3000, 5);
        byte[] record = b.superPacket(1000);
        record[2] = (byte) 0xE8; // hdr_len 1000, as the kernel's forward path may say
        record[3] = 0x03;
        assertEquals(3, split(record));
        assertEquals(1040, sizes[0]);
        assertTrue(TestPackets.transportChecksumValid(segment(2, 0)));
    }

    @Test
    void partialChecksumOfANonGsoPacketIsCompleted() throws OffloadException {
        for (Builder b : new Builder[] {Builder.tcp4(), Builder.tcp6(), Builder.udp4()}) {
            b.payload = TestPackets.bytes(777, 6);
            byte[] record = b.withVirtio(b.partial(), VirtioNetHdr.GSO_NONE, 0);
            assertEquals(1, segmenter.split(record, 0, record.length, out, 16, sizes));
            assertArrayEquals(b.build(), segment(0, 16));
        }
    }

    @Test
    void plainPacketsPassThroughUnchanged() throws OffloadException {
        byte[] packet = Builder.tcp6().payload(TestPackets.bytes(100, 7)).build();
        for (int flags : new int[] {0, VirtioNetHdr.F_DATA_VALID}) {
            assertEquals(1, split(TestPackets.plainRecord(packet, flags)));
            assertArrayEquals(packet, segment(0, 0));
        }
        byte[] broken = packet.clone();
        broken[50] ^= 1; // a plain packet is not checked here: the peer's kernel will
        assertEquals(1, split(TestPackets.plainRecord(broken, 0)));
        assertArrayEquals(broken, segment(0, 0));
    }

    @Test
    void theInputIsNotModified() throws OffloadException {
        Builder b = Builder.tcp4();
        b.payload = TestPackets.bytes(5000, 8);
        byte[] record = b.superPacket(1000);
        byte[] before = record.clone();
        split(record);
        assertArrayEquals(before, record);
    }

    private static Builder big4() {
        Builder b = Builder.tcp4();
        b.payload = TestPackets.bytes(3000, 9);
        return b;
    }

    private static byte[] withHeader(byte[] record, int flags, int type, int hdrLen, int gso, int start, int offset) {
        byte[] r = record.clone();
        new VirtioNetHdr().set(flags, type, hdrLen, gso, start, offset).write(r, 0);
        return r;
    }

    @Test
    void badInputIsRefusedWithItsReason() {
        byte[] good = big4().superPacket(1000);
        assertEquals(Reason.TRUNCATED, refused(new byte[5]));
        assertEquals(Reason.TRUNCATED, refused(new byte[VirtioNetHdr.SIZE]));
        assertEquals(Reason.GSO_SIZE_ZERO, refused(withHeader(good, 1, VirtioNetHdr.GSO_TCPV4, 40, 0, 20, 16)));
        assertEquals(Reason.HDR_LEN_BEYOND_PACKET, refused(withHeader(good, 1, VirtioNetHdr.GSO_TCPV4, 3041, 1000, 20, 16)));
        assertEquals(Reason.UNKNOWN_GSO_TYPE, refused(withHeader(good, 1, VirtioNetHdr.GSO_UDP, 40, 1000, 20, 16)));
        assertEquals(Reason.GSO_WITHOUT_CSUM, refused(withHeader(good, 0, VirtioNetHdr.GSO_TCPV4, 40, 1000, 20, 16)));
        assertEquals(Reason.GSO_TYPE_MISMATCH, refused(withHeader(good, 1, VirtioNetHdr.GSO_TCPV6, 40, 1000, 20, 16)));
        assertEquals(Reason.GSO_TYPE_MISMATCH, refused(withHeader(good, 1, VirtioNetHdr.GSO_UDP_L4, 40, 1000, 20, 6)));
        assertEquals(Reason.BAD_CSUM_OFFSETS, refused(withHeader(good, 1, VirtioNetHdr.GSO_TCPV4, 40, 1000, 24, 16)));
        assertEquals(Reason.BAD_CSUM_OFFSETS, refused(withHeader(good, 1, VirtioNetHdr.GSO_TCPV4, 40, 1000, 20, 6)));
        assertEquals(Reason.TOO_MANY_SEGMENTS, refused(good, buffers(2, 1500)));
        assertEquals(Reason.OUTPUT_TOO_SMALL, refused(good, buffers(4, 1000)));

        byte[] v6 = Builder.tcp6().payload(new byte[3000]).superPacket(1000);
        assertEquals(Reason.GSO_TYPE_MISMATCH, refused(withHeader(v6, 1, VirtioNetHdr.GSO_TCPV4, 60, 1000, 40, 16)));
        byte[] udp = Builder.udp4().payload(new byte[3000]).superPacket(1000);
        assertEquals(Reason.GSO_TYPE_MISMATCH, refused(withHeader(udp, 1, VirtioNetHdr.GSO_TCPV4, 28, 1000, 20, 16)));

        byte[] r = good.clone();
        r[10] = 0x25; // version 2
        assertEquals(Reason.BAD_IP_VERSION, refused(r));
        r = good.clone();
        r[10] = 0x44; // IHL 4
        assertEquals(Reason.BAD_IP_HEADER, refused(r));
        r = good.clone();
        r[12] = 0; // total length
        assertEquals(Reason.LENGTH_MISMATCH, refused(r));
        assertEquals(Reason.LENGTH_MISMATCH, refused(TestPackets.slice(good, 0, good.length - 1)));
        r = good.clone();
        r[16] = 0x20; // MF
        assertEquals(Reason.UNSUPPORTED_HEADER, refused(r));
        r = good.clone();
        r[10 + 32] = 0x40; // TCP data offset 4
        assertEquals(Reason.BAD_TRANSPORT_HEADER, refused(r));

        r = v6.clone();
        r[10 + 6] = 0; // hop-by-hop extension header
        assertEquals(Reason.UNSUPPORTED_HEADER, refused(r));
        r = v6.clone();
        r[10 + 5] ^= 1; // payload length
        assertEquals(Reason.LENGTH_MISMATCH, refused(r));
        r = udp.clone();
        r[10 + 25] ^= 1; // UDP length
        assertEquals(Reason.BAD_TRANSPORT_HEADER, refused(r));
        assertEquals(Reason.BAD_ECN, refused(withHeader(udp, 1, VirtioNetHdr.GSO_UDP_L4 | VirtioNetHdr.GSO_ECN, 28, 1000, 20, 6)));
        assertEquals(Reason.BAD_FLAGS, refused(withHeader(good, 5, VirtioNetHdr.GSO_TCPV4, 40, 1000, 20, 16)));

        byte[] huge = new byte[VirtioNetHdr.SIZE + 65_535 + 41];
        huge[10] = 0x60;
        assertEquals(Reason.OVERSIZED, refused(huge));
    }

    private static byte[] record(byte[] packet, int type, int csumStart, int csumOffset) {
        byte[] r = new byte[VirtioNetHdr.SIZE + packet.length];
        new VirtioNetHdr().set(VirtioNetHdr.F_NEEDS_CSUM, type, 0, 1000, csumStart, csumOffset).write(r, 0);
        System.arraycopy(packet, 0, r, VirtioNetHdr.SIZE, packet.length);
        return r;
    }

    @Test
    void truncatedHeadersAreRefused() {
        byte[] cut = TestPackets.slice(Builder.tcp4().build(), 0, 39); // TCP header one byte short
        TestPackets.put16(cut, 2, 39);
        assertEquals(Reason.TRUNCATED, refused(record(cut, VirtioNetHdr.GSO_TCPV4, 20, 16)));
        byte[] v6 = TestPackets.slice(Builder.tcp6().build(), 0, 39);
        assertEquals(Reason.TRUNCATED, refused(record(v6, VirtioNetHdr.GSO_TCPV6, 0, 0)));
        byte[] v4 = TestPackets.slice(Builder.tcp4().build(), 0, 19);
        assertEquals(Reason.TRUNCATED, refused(record(v4, VirtioNetHdr.GSO_TCPV4, 0, 0)));
        Builder longOptions = Builder.tcp4();
        longOptions.tcpOptions = new byte[8];
        byte[] q = longOptions.build();
        q[32] = (byte) 0xF0; // data offset 15: 60 bytes, only 28 there
        assertEquals(Reason.TRUNCATED, refused(record(q, VirtioNetHdr.GSO_TCPV4, 20, 16)));
    }

    @Test
    void arbitraryBytesAreRefusedByNameNeverByIndexException() {
        Random random = new Random(42);
        byte[] good = big4().superPacket(700);
        byte[] udp = Builder.udp6().payload(new byte[2000]).superPacket(500);
        int refused = 0;
        for (int round = 0; round < 20_000; round++) {
            byte[] base = round % 2 == 0 ? good : udp;
            byte[] r = TestPackets.slice(base, 0, random.nextInt(base.length + 1));
            for (int k = random.nextInt(4); k >= 0; k--) {
                if (r.length > 0) {
                    r[random.nextInt(Math.min(r.length, 80))] = (byte) random.nextInt();
                }
            }
            try {
                int n = segmenter.split(r, 0, r.length, out, 0, sizes);
                assertTrue(n >= 1 && n <= out.length);
            } catch (OffloadException e) {
                refused++;
            } catch (RuntimeException e) {
                fail("round " + round + ": " + e, e);
            }
        }
        assertTrue(refused > 10_000, "most mutations are refused: " + refused);
        assertFalse(refused == 20_000, "some pass");
    }

    @Test
    void ecnSuperPacketKeepsCwrOnTheFirstSegmentOnly() throws OffloadException {
        Builder b = Builder.tcp6();
        b.flags = ACK | CWR | 0x40; // CWR and ECE
        b.payload = TestPackets.bytes(3000, 10);
        byte[] record = b.withVirtio(b.partial(), VirtioNetHdr.GSO_TCPV6 | VirtioNetHdr.GSO_ECN, 1000);
        assertEquals(3, split(record));
        for (int i = 0; i < 3; i++) {
            assertEquals(i == 0 ? ACK | CWR | 0x40 : ACK | 0x40, segment(i, 0)[53] & 0xFF, "segment " + i);
            assertTrue(TestPackets.transportChecksumValid(segment(i, 0)));
        }
    }

    @Test
    void aUdpChecksumThatComesOutZeroIsSentAsAllOnes() throws OffloadException {
        Builder b = Builder.udp4();
        b.payload = new byte[100];
        byte[] p = b.build();
        TestPackets.put16(p, 26, 0);
        // choose the last two payload bytes so that the sum is all ones: the checksum would be 0
        int sum = TestPackets.onesSum(p, 20, p.length - 20, TestPackets.pseudo(p, p.length - 20));
        int x = 0xFFFF - sum;
        b.payload[98] = (byte) (x >>> 8);
        b.payload[99] = (byte) x;
        assertEquals(0xFFFF, TestPackets.u16(b.build(), 26), "the builder's sum comes out zero too");
        assertEquals(1, split(b.superPacket(1000)));
        assertEquals(0xFFFF, TestPackets.u16(segment(0, 0), 26));
        assertArrayEquals(b.build(), segment(0, 0));
    }
}
