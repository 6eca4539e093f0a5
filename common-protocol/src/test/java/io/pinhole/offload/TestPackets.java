package io.pinhole.offload;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Test packets and an independent checksum: a 16-bit-at-a-time RFC 1071 sum folded at every
 * step, sharing nothing with {@link InternetChecksum}, so the code under test is checked against
 * a separate reading of the specification.
 */
final class TestPackets {
    static final int TCP = 6;
    static final int UDP = 17;

    private TestPackets() {
    }

    /** The ones'-complement sum of {@code len} bytes, folded to 16 bits at every step. */
    static int onesSum(byte[] b, int off, int len, int initial) {
        int s = initial;
        for (int i = 0; i < len; i += 2) {
            int hi = b[off + i] & 0xFF;
            int lo = i + 1 < len ? b[off + i + 1] & 0xFF : 0;
            s += (hi << 8) | lo;
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return s;
    }

    static int u16(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    static int u32(byte[] b, int at) {
        return (u16(b, at) << 16) | u16(b, at + 2);
    }

    static void put16(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 8);
        b[at + 1] = (byte) v;
    }

    static boolean v6(byte[] p) {
        return (p[0] & 0xF0) == 0x60;
    }

    static int ipHeaderLength(byte[] p) {
        return v6(p) ? 40 : (p[0] & 0x0F) * 4;
    }

    /** The pseudo-header sum of an IP packet for a transport length. */
    static int pseudo(byte[] p, int transportLen) {
        boolean v6 = v6(p);
        int proto = v6 ? p[6] & 0xFF : p[9] & 0xFF;
        int s = onesSum(p, v6 ? 8 : 12, v6 ? 32 : 8, 0);
        s = onesSum(new byte[] {0, (byte) proto, (byte) (transportLen >>> 8), (byte) transportLen}, 0, 4, s);
        return s;
    }

    /** Whether the TCP or UDP checksum of a whole IP packet verifies (the sum over pseudo-header and segment is all ones). */
    static boolean transportChecksumValid(byte[] p) {
        int ihl = ipHeaderLength(p);
        return onesSum(p, ihl, p.length - ihl, pseudo(p, p.length - ihl)) == 0xFFFF;
    }

    static boolean ipv4HeaderChecksumValid(byte[] p) {
        return onesSum(p, 0, ipHeaderLength(p), 0) == 0xFFFF;
    }

    /** A TCP or UDP packet over IPv4 or IPv6, built with valid lengths and checksums. */
    static final class Builder implements Cloneable {
        boolean v6;
        int protocol = TCP;
        int tos;
        int ttl = 64;
        int id = 0x1234;
        boolean df = true;
        int flowLabel = 0x12345;
        byte[] src = {10, 0, 0, 1};
        byte[] dst = {10, 0, 0, 2};
        byte[] ipOptions = new byte[0];
        int sport = 40000;
        int dport = 5201;
        int seq = 1000;
        int ack = 77777;
        int flags = 0x10;
        int window = 502;
        int urgent;
        byte[] tcpOptions = new byte[0];
        byte[] payload = new byte[0];

        static Builder tcp4() {
            return new Builder();
        }

        static Builder tcp6() {
            Builder b = new Builder();
            b.v6 = true;
            b.src = ip6(1);
            b.dst = ip6(2);
            return b;
        }

        static Builder udp4() {
            Builder b = tcp4();
            b.protocol = UDP;
            return b;
        }

        static Builder udp6() {
            Builder b = tcp6();
            b.protocol = UDP;
            return b;
        }

        static byte[] ip6(int last) {
            byte[] a = new byte[16];
            a[0] = (byte) 0xfd;
            a[1] = 0x70;
            a[15] = (byte) last;
            return a;
        }

        Builder payload(byte[] p) {
            payload = p;
            return this;
        }

        /** A copy whose arrays are copies too. */
        Builder copy() {
            try {
                Builder b = (Builder) clone();
                b.src = src.clone();
                b.dst = dst.clone();
                b.ipOptions = ipOptions.clone();
                b.tcpOptions = tcpOptions.clone();
                b.payload = payload.clone();
                return b;
            } catch (CloneNotSupportedException e) {
                throw new AssertionError(e);
            }
        }

        int ipHeaderLength() {
            return v6 ? 40 : 20 + ipOptions.length;
        }

        int transportHeaderLength() {
            return protocol == TCP ? 20 + tcpOptions.length : 8;
        }

        /** The packet with full, valid checksums. */
        byte[] build() {
            int ihl = ipHeaderLength();
            int thl = transportHeaderLength();
            int total = ihl + thl + payload.length;
            ByteBuffer b = ByteBuffer.allocate(total);
            if (v6) {
                b.putInt(6 << 28 | (tos & 0xFF) << 20 | flowLabel & 0xFFFFF);
                b.putShort((short) (thl + payload.length)).put((byte) protocol).put((byte) ttl).put(src).put(dst);
            } else {
                b.put((byte) (0x40 | ihl / 4)).put((byte) tos).putShort((short) total).putShort((short) id)
                        .putShort((short) (df ? 0x4000 : 0)).put((byte) ttl).put((byte) protocol).putShort((short) 0)
                        .put(src).put(dst).put(ipOptions);
            }
            b.putShort((short) sport).putShort((short) dport);
            if (protocol == TCP) {
                b.putInt(seq).putInt(ack).put((byte) (thl / 4 << 4)).put((byte) flags).putShort((short) window)
                        .putShort((short) 0).putShort((short) urgent).put(tcpOptions);
            } else {
                b.putShort((short) (thl + payload.length)).putShort((short) 0);
            }
            b.put(payload);
            byte[] p = b.array();
            if (!v6) {
                put16(p, 10, ~onesSum(p, 0, ihl, 0) & 0xFFFF);
            }
            int csumAt = ihl + (protocol == TCP ? 16 : 6);
            int c = ~onesSum(p, ihl, total - ihl, pseudo(p, total - ihl)) & 0xFFFF;
            put16(p, csumAt, protocol == UDP && c == 0 ? 0xFFFF : c);
            return p;
        }

        /**
         * The packet as a TUN device with TSO/USO would hand it over: a virtio header (NEEDS_CSUM,
         * the GSO type for the packet, hdr_len, gso_size) and the packet, its transport checksum
         * field holding only the pseudo-header sum.
         */
        byte[] superPacket(int gsoSize) {
            int type = protocol == UDP ? VirtioNetHdr.GSO_UDP_L4 : v6 ? VirtioNetHdr.GSO_TCPV6 : VirtioNetHdr.GSO_TCPV4;
            return withVirtio(partial(), type, gsoSize);
        }

        /** The packet with its transport checksum field holding the (uncomplemented) pseudo-header sum. */
        byte[] partial() {
            byte[] p = build();
            int ihl = ipHeaderLength();
            put16(p, ihl + (protocol == TCP ? 16 : 6), pseudo(p, p.length - ihl));
            return p;
        }

        byte[] withVirtio(byte[] p, int gsoType, int gsoSize) {
            int ihl = ipHeaderLength();
            byte[] out = new byte[VirtioNetHdr.SIZE + p.length];
            new VirtioNetHdr().set(VirtioNetHdr.F_NEEDS_CSUM, gsoType, ihl + transportHeaderLength(), gsoSize, ihl,
                    protocol == TCP ? 16 : 6).write(out, 0);
            System.arraycopy(p, 0, out, VirtioNetHdr.SIZE, p.length);
            return out;
        }
    }

    /** A plain record: a zero virtio header (or one with only {@code flags}) and the packet. */
    static byte[] plainRecord(byte[] p, int flags) {
        byte[] out = new byte[VirtioNetHdr.SIZE + p.length];
        out[0] = (byte) flags;
        System.arraycopy(p, 0, out, VirtioNetHdr.SIZE, p.length);
        return out;
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new java.util.Random(seed).nextBytes(b);
        return b;
    }

    static byte[] slice(byte[] b, int off, int len) {
        return Arrays.copyOfRange(b, off, off + len);
    }
}
