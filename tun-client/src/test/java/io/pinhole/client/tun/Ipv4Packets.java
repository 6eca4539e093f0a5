package io.pinhole.client.tun;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/** Minimal IPv4/UDP/ICMP building and parsing for the traffic tests. */
final class Ipv4Packets {
    static final int PROTO_ICMP = 1;
    static final int PROTO_UDP = 17;
    static final int ICMP_ECHO_REPLY = 0;
    static final int ICMP_ECHO_REQUEST = 8;

    private Ipv4Packets() {
    }

    /** What the tests look at in a packet read from the device. */
    record Summary(int version, int protocol, Inet4Address src, Inet4Address dst, int icmpType,
                   int icmpId, int icmpSeq, int length) {
        boolean isEchoRequestTo(Inet4Address target) {
            return version == 4 && protocol == PROTO_ICMP && icmpType == ICMP_ECHO_REQUEST && target.equals(dst);
        }
    }

    /** Parses the IP version and, for IPv4, addresses, protocol and ICMP echo fields (-1 where absent). */
    static Summary parse(byte[] p) {
        if (p.length < 1) {
            return new Summary(-1, -1, null, null, -1, -1, -1, 0);
        }
        int version = (p[0] & 0xff) >>> 4;
        if (version != 4 || p.length < 20) {
            return new Summary(version, -1, null, null, -1, -1, -1, p.length);
        }
        int ihl = (p[0] & 0x0f) * 4;
        int protocol = p[9] & 0xff;
        Inet4Address src = addr(Arrays.copyOfRange(p, 12, 16));
        Inet4Address dst = addr(Arrays.copyOfRange(p, 16, 20));
        int type = -1;
        int id = -1;
        int seq = -1;
        if (protocol == PROTO_ICMP && p.length >= ihl + 8) {
            type = p[ihl] & 0xff;
            id = u16(p, ihl + 4);
            seq = u16(p, ihl + 6);
        }
        return new Summary(version, protocol, src, dst, type, id, seq, p.length);
    }

    /** An IPv4/UDP datagram (no options, UDP checksum 0 = none). */
    static byte[] udp(Inet4Address src, int srcPort, Inet4Address dst, int dstPort, byte[] payload) {
        int total = 20 + 8 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(total);
        b.put((byte) 0x45).put((byte) 0).putShort((short) total)
                .putShort((short) 0x1234).putShort((short) 0x4000) // id, DF
                .put((byte) 64).put((byte) PROTO_UDP).putShort((short) 0)
                .put(src.getAddress()).put(dst.getAddress());
        b.putShort((short) srcPort).putShort((short) dstPort).putShort((short) (8 + payload.length))
                .putShort((short) 0).put(payload);
        byte[] p = b.array();
        setU16(p, 10, checksum(p, 0, 20));
        return p;
    }

    /** The echo reply to an IPv4 ICMP echo request: addresses swapped, type 0, checksums redone. */
    static byte[] echoReplyFor(byte[] request) {
        byte[] p = request.clone();
        int ihl = (p[0] & 0x0f) * 4;
        int total = u16(p, 2);
        byte[] src = Arrays.copyOfRange(p, 12, 16);
        System.arraycopy(p, 16, p, 12, 4);
        System.arraycopy(src, 0, p, 16, 4);
        p[8] = 64;
        setU16(p, 10, 0);
        setU16(p, 10, checksum(p, 0, ihl));
        p[ihl] = ICMP_ECHO_REPLY;
        setU16(p, ihl + 2, 0);
        setU16(p, ihl + 2, checksum(p, ihl, total - ihl));
        return p;
    }

    /** The Internet checksum (RFC 1071) of {@code len} bytes. */
    static int checksum(byte[] p, int off, int len) {
        long sum = 0;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += u16(p, off + i);
        }
        if ((len & 1) != 0) {
            sum += (p[off + len - 1] & 0xff) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) (~sum & 0xffff);
    }

    static int u16(byte[] p, int off) {
        return ((p[off] & 0xff) << 8) | (p[off + 1] & 0xff);
    }

    private static void setU16(byte[] p, int off, int v) {
        p[off] = (byte) (v >>> 8);
        p[off + 1] = (byte) v;
    }

    static Inet4Address addr(byte[] a) {
        try {
            return (Inet4Address) InetAddress.getByAddress(a);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
