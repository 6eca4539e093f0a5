package io.pinhole.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A reader of classic libpcap files (what {@code tcpdump -w} writes): IPv4 packets over Ethernet
 * (veths), raw IP (TUN devices) or Linux cooked capture (SLL, SLL2: {@code -i any}). Only what
 * the tests look at is decoded: addresses, protocol, UDP ports and payload, ICMP type.
 */
final class Pcap {
    private Pcap() {}

    static final int LINKTYPE_ETHERNET = 1;
    static final int LINKTYPE_RAW = 101;
    static final int LINKTYPE_RAW_BSD = 12;
    static final int LINKTYPE_LINUX_SLL = 113;
    static final int LINKTYPE_LINUX_SLL2 = 276;
    static final int PROTO_ICMP = 1;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;

    /**
     * One captured IPv4 packet. {@code ip} is the IP packet as captured (possibly cut by the
     * snap length); for UDP, {@code payload} is the datagram's payload (empty otherwise, and for
     * non-first fragments).
     */
    record Packet(long micros, String src, String dst, int protocol, int sport, int dport, byte[] ip, byte[] payload) {
        boolean isUdp() {
            return protocol == PROTO_UDP;
        }

        String srcEndpoint() {
            return src + ":" + sport;
        }

        String dstEndpoint() {
            return dst + ":" + dport;
        }

        /** ICMP type, or -1. */
        int icmpType() {
            int ihl = (ip[0] & 0x0f) * 4;
            return protocol == PROTO_ICMP && ip.length > ihl ? ip[ihl] & 0xff : -1;
        }

        @Override
        public String toString() {
            return (protocol == PROTO_UDP ? "UDP " + srcEndpoint() + " > " + dstEndpoint() + " " + payload.length + " bytes"
                : "proto " + protocol + " " + src + " > " + dst + " " + ip.length + " bytes");
        }
    }

    /** The IPv4 packets in {@code file}; other frames (ARP, IPv6) are skipped. */
    static List<Packet> read(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (all.length < 24) {
            throw new IllegalStateException(file + " is not a pcap file (" + all.length + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int magic = b.getInt(0);
        boolean nanos;
        if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
            nanos = magic == 0xa1b23c4d;
        } else {
            b.order(ByteOrder.BIG_ENDIAN);
            magic = b.getInt(0);
            if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
                throw new IllegalStateException(file + ": not a classic pcap file (magic " + Integer.toHexString(magic) + ")");
            }
            nanos = magic == 0xa1b23c4d;
        }
        int linktype = b.getInt(20) & 0x0fffffff;
        List<Packet> out = new ArrayList<>();
        int p = 24;
        while (p + 16 <= all.length) {
            long sec = b.getInt(p) & 0xffffffffL;
            long frac = b.getInt(p + 4) & 0xffffffffL;
            int incl = b.getInt(p + 8);
            p += 16;
            if (incl < 0 || p + incl > all.length) {
                break; // a record cut short (tcpdump killed while writing): ignore the tail
            }
            byte[] frame = Arrays.copyOfRange(all, p, p + incl);
            p += incl;
            int ipAt = ipOffset(linktype, frame);
            if (ipAt < 0 || frame.length < ipAt + 20 || (frame[ipAt] & 0xf0) != 0x40) {
                continue;
            }
            Packet packet = ipv4(sec * 1_000_000 + (nanos ? frac / 1000 : frac), Arrays.copyOfRange(frame, ipAt, frame.length));
            if (packet != null) {
                out.add(packet);
            }
        }
        return out;
    }

    /** Offset of an IPv4 header in a frame of this link type, or -1 if the frame is not IPv4. */
    private static int ipOffset(int linktype, byte[] f) {
        switch (linktype) {
            case LINKTYPE_ETHERNET -> {
                if (f.length < 14) {
                    return -1;
                }
                int ethertype = (f[12] & 0xff) << 8 | (f[13] & 0xff);
                return ethertype == 0x0800 ? 14 : -1;
            }
            case LINKTYPE_RAW, LINKTYPE_RAW_BSD -> {
                return 0;
            }
            case LINKTYPE_LINUX_SLL -> {
                if (f.length < 16) {
                    return -1;
                }
                int proto = (f[14] & 0xff) << 8 | (f[15] & 0xff);
                return proto == 0x0800 ? 16 : -1;
            }
            case LINKTYPE_LINUX_SLL2 -> {
                if (f.length < 20) {
                    return -1;
                }
                int proto = (f[0] & 0xff) << 8 | (f[1] & 0xff);
                return proto == 0x0800 ? 20 : -1;
            }
            default -> throw new IllegalStateException("pcap link type " + linktype + " is not supported");
        }
    }

    private static Packet ipv4(long micros, byte[] ip) {
        int ihl = (ip[0] & 0x0f) * 4;
        if (ihl < 20 || ip.length < ihl) {
            return null;
        }
        int protocol = ip[9] & 0xff;
        String src = (ip[12] & 0xff) + "." + (ip[13] & 0xff) + "." + (ip[14] & 0xff) + "." + (ip[15] & 0xff);
        String dst = (ip[16] & 0xff) + "." + (ip[17] & 0xff) + "." + (ip[18] & 0xff) + "." + (ip[19] & 0xff);
        int fragOffset = ((ip[6] & 0x1f) << 8) | (ip[7] & 0xff);
        int total = (ip[2] & 0xff) << 8 | (ip[3] & 0xff);
        int end = Math.min(ip.length, Math.max(total, ihl));
        if (protocol == PROTO_UDP && fragOffset == 0 && end >= ihl + 8) {
            int sport = (ip[ihl] & 0xff) << 8 | (ip[ihl + 1] & 0xff);
            int dport = (ip[ihl + 2] & 0xff) << 8 | (ip[ihl + 3] & 0xff);
            int udpLength = (ip[ihl + 4] & 0xff) << 8 | (ip[ihl + 5] & 0xff);
            int payloadEnd = Math.min(end, ihl + Math.max(udpLength, 8));
            return new Packet(micros, src, dst, protocol, sport, dport, ip, Arrays.copyOfRange(ip, ihl + 8, payloadEnd));
        }
        return new Packet(micros, src, dst, protocol, 0, 0, ip, new byte[0]);
    }

    /** Offset of the first occurrence of {@code needle} in {@code haystack}, or -1. */
    static int indexOf(byte[] haystack, byte[] needle) {
        if (needle.length == 0) {
            return 0;
        }
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
