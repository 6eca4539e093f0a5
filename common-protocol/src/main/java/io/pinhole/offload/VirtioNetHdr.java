package io.pinhole.offload;

import io.pinhole.offload.OffloadException.Reason;

/**
 * VirtioNetHdr: the 10-byte {@code struct virtio_net_hdr} (linux/virtio_net.h) that a TUN device
 * opened with {@code IFF_VNET_HDR} puts before every packet it reads, and expects before every
 * packet written to it.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     flags     |   gso_type    |        hdr_len (LE)           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        gso_size (LE)          |       csum_start (LE)         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       csum_offset (LE)        |  then the IP packet ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * flags:    NEEDS_CSUM (1): the transport checksum is partial: sum from csum_start, store the
 *                           result at csum_start + csum_offset (the field holds the pseudo-header sum)
 *           DATA_VALID (2): the checksum has been verified (written to TUN: the kernel need not check)
 * gso_type: NONE (0), TCPV4 (1), TCPV6 (4), UDP_L4 (5, USO, Linux 6.2+), ORed with ECN (0x80) for
 *           TCP whose first segment carries CWR; UDP (3, UFO) is refused
 * hdr_len:  length of the IP and transport headers (the kernel may report more; not trusted)
 * gso_size: payload bytes per segment (the MSS for TCP)
 * </pre>
 *
 * <p><b>Byte order.</b> The multi-byte fields are in the virtio "native" order of the device,
 * which for TUN is the host's order unless {@code TUNSETVNETLE} (or {@code TUNSETVNETBE}) is set.
 * pinhole reads and writes them <b>little-endian</b>: right on x86-64 and arm64 as they are, and
 * on any host once the device side calls {@code TUNSETVNETLE} with 1, which it should do always
 * (the ioctl exists on every kernel that has {@code IFF_VNET_HDR} offloads worth using).
 *
 * <p>A mutable holder: {@link #read} fills it from bytes and validates, {@link #write} puts it
 * back. Not thread-safe; one per data thread (the {@link Segmenter} and {@link Coalescer} each own
 * one). No allocation, except the exception on a refused header.
 */
public final class VirtioNetHdr {
    /** sizeof(struct virtio_net_hdr): the bytes before each packet (the device's TUNSETVNETHDRSZ, default 10). */
    public static final int SIZE = 10;

    public static final int F_NEEDS_CSUM = 1;
    public static final int F_DATA_VALID = 2;
    /** Known to the kernel (RSC_INFO, 4) but never sent by TUN; refused here. */
    static final int KNOWN_FLAGS = F_NEEDS_CSUM | F_DATA_VALID;

    public static final int GSO_NONE = 0;
    public static final int GSO_TCPV4 = 1;
    /** UFO: IPv4 UDP fragmentation offload, removed from Linux in 4.14; refused. */
    public static final int GSO_UDP = 3;
    public static final int GSO_TCPV6 = 4;
    public static final int GSO_UDP_L4 = 5;
    public static final int GSO_ECN = 0x80;

    private int flags;
    private int gsoType;
    private int hdrLen;
    private int gsoSize;
    private int csumStart;
    private int csumOffset;

    /**
     * Fills this header from the {@link #SIZE} bytes at {@code off} and checks it against the
     * {@code len - SIZE} packet bytes that follow it.
     *
     * @throws OffloadException TRUNCATED (fewer than 10 bytes), BAD_FLAGS, UNKNOWN_GSO_TYPE,
     *     BAD_ECN, GSO_SIZE_ZERO, HDR_LEN_BEYOND_PACKET, BAD_CSUM_OFFSETS (NEEDS_CSUM with
     *     csum_start + csum_offset + 2 beyond the packet)
     */
    public VirtioNetHdr read(byte[] b, int off, int len) throws OffloadException {
        if (len < SIZE) {
            throw new OffloadException(Reason.TRUNCATED, "virtio_net_hdr needs 10 bytes, got " + len);
        }
        flags = b[off] & 0xFF;
        gsoType = b[off + 1] & 0xFF;
        hdrLen = le16(b, off + 2);
        gsoSize = le16(b, off + 4);
        csumStart = le16(b, off + 6);
        csumOffset = le16(b, off + 8);
        int packet = len - SIZE;
        if ((flags & ~KNOWN_FLAGS) != 0) {
            throw new OffloadException(Reason.BAD_FLAGS, "unknown virtio flags 0x" + Integer.toHexString(flags));
        }
        int type = gsoType & ~GSO_ECN;
        if (type != GSO_NONE && type != GSO_TCPV4 && type != GSO_TCPV6 && type != GSO_UDP_L4) {
            throw new OffloadException(Reason.UNKNOWN_GSO_TYPE, "gso_type " + gsoType);
        }
        if ((gsoType & GSO_ECN) != 0 && type != GSO_TCPV4 && type != GSO_TCPV6) {
            throw new OffloadException(Reason.BAD_ECN, "ECN bit on gso_type " + type);
        }
        if (type != GSO_NONE && gsoSize == 0) {
            throw new OffloadException(Reason.GSO_SIZE_ZERO, "gso_type " + type + " with gso_size 0");
        }
        if (hdrLen > packet) {
            throw new OffloadException(Reason.HDR_LEN_BEYOND_PACKET, "hdr_len " + hdrLen + " > packet " + packet);
        }
        if ((flags & F_NEEDS_CSUM) != 0 && csumStart + csumOffset + 2 > packet) {
            throw new OffloadException(Reason.BAD_CSUM_OFFSETS,
                    "checksum at " + csumStart + "+" + csumOffset + " beyond packet " + packet);
        }
        return this;
    }

    /** Writes this header into the {@link #SIZE} bytes at {@code off}. */
    public void write(byte[] b, int off) {
        b[off] = (byte) flags;
        b[off + 1] = (byte) gsoType;
        putLe16(b, off + 2, hdrLen);
        putLe16(b, off + 4, gsoSize);
        putLe16(b, off + 6, csumStart);
        putLe16(b, off + 8, csumOffset);
    }

    /** Sets every field; values are taken modulo their field width (8 or 16 bits). */
    public VirtioNetHdr set(int flags, int gsoType, int hdrLen, int gsoSize, int csumStart, int csumOffset) {
        this.flags = flags & 0xFF;
        this.gsoType = gsoType & 0xFF;
        this.hdrLen = hdrLen & 0xFFFF;
        this.gsoSize = gsoSize & 0xFFFF;
        this.csumStart = csumStart & 0xFFFF;
        this.csumOffset = csumOffset & 0xFFFF;
        return this;
    }

    /** A header of all zeros, or only {@code flags}: a plain packet (flags 0: the kernel checks its checksum). */
    public VirtioNetHdr plain(int flags) {
        return set(flags, GSO_NONE, 0, 0, 0, 0);
    }

    public int flags() {
        return flags;
    }

    /** The gso_type byte, ECN bit included. */
    public int gsoType() {
        return gsoType;
    }

    /** The gso_type without the ECN bit. */
    public int gsoKind() {
        return gsoType & ~GSO_ECN;
    }

    public boolean ecn() {
        return (gsoType & GSO_ECN) != 0;
    }

    public boolean needsCsum() {
        return (flags & F_NEEDS_CSUM) != 0;
    }

    public int hdrLen() {
        return hdrLen;
    }

    public int gsoSize() {
        return gsoSize;
    }

    public int csumStart() {
        return csumStart;
    }

    public int csumOffset() {
        return csumOffset;
    }

    @Override
    public String toString() {
        return "virtio_net_hdr{flags=" + flags + ", gso_type=0x" + Integer.toHexString(gsoType) + ", hdr_len=" + hdrLen
                + ", gso_size=" + gsoSize + ", csum_start=" + csumStart + ", csum_offset=" + csumOffset + "}";
    }

    private static int le16(byte[] b, int at) {
        return (b[at] & 0xFF) | ((b[at + 1] & 0xFF) << 8);
    }

    private static void putLe16(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
    }
}
