package io.pinhole.offload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.offload.OffloadException.Reason;
import org.junit.jupiter.api.Test;

class VirtioNetHdrTest {
    private static byte[] header(int flags, int type, int hdrLen, int gsoSize, int csumStart, int csumOffset) {
        byte[] b = new byte[VirtioNetHdr.SIZE];
        new VirtioNetHdr().set(flags, type, hdrLen, gsoSize, csumStart, csumOffset).write(b, 0);
        return b;
    }

    private static Reason refused(byte[] b, int packetLength) {
        return assertThrows(OffloadException.class,
                () -> new VirtioNetHdr().read(b, 0, VirtioNetHdr.SIZE + packetLength)).reason();
    }

    @Test
    void fieldsAreLittleEndianInKernelOrder() {
        byte[] b = header(VirtioNetHdr.F_NEEDS_CSUM, VirtioNetHdr.GSO_TCPV4 | VirtioNetHdr.GSO_ECN, 0x0134, 0x0564, 0x14, 0x10);
        assertArrayEquals(new byte[] {1, (byte) 0x81, 0x34, 0x01, 0x64, 0x05, 0x14, 0x00, 0x10, 0x00}, b);
    }

    @Test
    void readGivesBackWhatWasWritten() throws OffloadException {
        byte[] b = new byte[VirtioNetHdr.SIZE + 2000];
        new VirtioNetHdr().set(VirtioNetHdr.F_NEEDS_CSUM, VirtioNetHdr.GSO_TCPV6 | VirtioNetHdr.GSO_ECN, 60, 1380, 40, 16)
                .write(b, 0);
        VirtioNetHdr h = new VirtioNetHdr().read(b, 0, b.length);
        assertEquals(VirtioNetHdr.F_NEEDS_CSUM, h.flags());
        assertEquals(VirtioNetHdr.GSO_TCPV6, h.gsoKind());
        assertTrue(h.ecn());
        assertTrue(h.needsCsum());
        assertEquals(60, h.hdrLen());
        assertEquals(1380, h.gsoSize());
        assertEquals(40, h.csumStart());
        assertEquals(16, h.csumOffset());
    }

    @Test
    void plainHeaderIsAllZerosOrOnlyItsFlags() throws OffloadException {
        byte[] b = new byte[VirtioNetHdr.SIZE + 1];
        new VirtioNetHdr().plain(VirtioNetHdr.F_DATA_VALID).write(b, 0);
        assertArrayEquals(new byte[] {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, b);
        assertEquals(VirtioNetHdr.GSO_NONE, new VirtioNetHdr().read(b, 0, b.length).gsoKind());
    }

    @Test
    void refusesEachBadHeaderWithItsReason() {
        assertEquals(Reason.TRUNCATED, assertThrows(OffloadException.class,
                () -> new VirtioNetHdr().read(new byte[9], 0, 9)).reason());
        assertEquals(Reason.BAD_FLAGS, refused(header(4, 0, 0, 0, 0, 0), 100)); // RSC_INFO
        assertEquals(Reason.BAD_FLAGS, refused(header(0x10, 0, 0, 0, 0, 0), 100));
        assertEquals(Reason.UNKNOWN_GSO_TYPE, refused(header(1, VirtioNetHdr.GSO_UDP, 28, 100, 20, 6), 1000)); // UFO
        assertEquals(Reason.UNKNOWN_GSO_TYPE, refused(header(1, 2, 40, 100, 20, 16), 1000));
        assertEquals(Reason.UNKNOWN_GSO_TYPE, refused(header(1, 6, 40, 100, 20, 16), 1000));
        assertEquals(Reason.BAD_ECN, refused(header(0, VirtioNetHdr.GSO_ECN, 0, 0, 0, 0), 100));
        assertEquals(Reason.BAD_ECN, refused(header(1, VirtioNetHdr.GSO_UDP_L4 | VirtioNetHdr.GSO_ECN, 28, 100, 20, 6), 1000));
        assertEquals(Reason.GSO_SIZE_ZERO, refused(header(1, VirtioNetHdr.GSO_TCPV4, 40, 0, 20, 16), 1000));
        assertEquals(Reason.HDR_LEN_BEYOND_PACKET, refused(header(1, VirtioNetHdr.GSO_TCPV4, 1001, 100, 20, 16), 1000));
        assertEquals(Reason.BAD_CSUM_OFFSETS, refused(header(1, VirtioNetHdr.GSO_NONE, 0, 0, 990, 9), 1000));
    }

    @Test
    void checksumFieldMayEndTheBufferExactly() throws OffloadException {
        byte[] b = new byte[VirtioNetHdr.SIZE + 1000];
        new VirtioNetHdr().set(1, 0, 0, 0, 982, 16).write(b, 0);
        assertEquals(982, new VirtioNetHdr().read(b, 0, b.length).csumStart());
    }
}
