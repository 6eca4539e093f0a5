package io.pinhole.offload;

/**
 * Ip: offsets, constants and big-endian field access for the IPv4, IPv6, TCP and UDP headers the
 * offload classes read and rewrite. Stateless; no allocation; callers check bounds first.
 */
final class Ip {
    static final int V4_HEADER = 20;
    static final int V6_HEADER = 40;
    static final int V4_TOTAL_LENGTH = 2;
    static final int V4_ID = 4;
    static final int V4_FLAGS_FRAGMENT = 6;
    static final int V4_PROTOCOL = 9;
    static final int V4_CHECKSUM = 10;
    static final int V4_SRC = 12;
    static final int V6_PAYLOAD_LENGTH = 4;
    static final int V6_NEXT_HEADER = 6;
    static final int V6_SRC = 8;
    /** The MF bit and the fragment offset of the IPv4 flags/fragment word. */
    static final int V4_FRAGMENT_MASK = 0x3FFF;

    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;

    static final int TCP_HEADER = 20;
    static final int TCP_SEQ = 4;
    static final int TCP_DATA_OFFSET = 12;
    static final int TCP_FLAGS = 13;
    static final int TCP_CHECKSUM = 16;
    static final int UDP_HEADER = 8;
    static final int UDP_LENGTH = 4;
    static final int UDP_CHECKSUM = 6;

    static final int FIN = 0x01;
    static final int PSH = 0x08;
    static final int ACK = 0x10;
    static final int CWR = 0x80;

    /** The largest IP packet (IPv4 total length; IPv6 header plus the payload-length field's maximum is not used). */
    static final int MAX_PACKET = 65_535;

    private Ip() {
    }

    static int u16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    static int u32(byte[] b, int at) {
        return (u16(b, at) << 16) | u16(b, at + 2);
    }

    static void put32(byte[] b, int at, int v) {
        put16(b, at, v >>> 16);
        put16(b, at + 2, v);
    }

    /** Rewrites the IPv4 header checksum of the header of {@code ihl} bytes at {@code off}. */
    static void setV4Checksum(byte[] b, int off, int ihl) {
        put16(b, off + V4_CHECKSUM, 0);
        put16(b, off + V4_CHECKSUM, InternetChecksum.finish(InternetChecksum.add(0, b, off, ihl)));
    }

    /** Whether bytes {@code [from, to)} of the packets at {@code a} and {@code b} are equal. */
    static boolean same(byte[] x, int a, byte[] y, int b, int from, int to) {
        return java.util.Arrays.equals(x, a + from, a + to, y, b + from, b + to);
    }
}
