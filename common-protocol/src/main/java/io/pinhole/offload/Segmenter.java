package io.pinhole.offload;

import io.pinhole.offload.OffloadException.Reason;

/**
 * Segmenter: software TSO/USO for packets read from a TUN device with {@code IFF_VNET_HDR} and
 * {@code TUNSETOFFLOAD}. One read gives a virtio header and an IP packet of up to 64 KB; this
 * splits it into the MTU-sized packets the peer must receive, each a complete, valid IP packet
 * with full checksums, ready to be encrypted.
 *
 * <p>Input, at {@code in[off .. off+len)}:
 * <pre>
 * +--------------------+------------------------------+--------------------+---------------------+
 * | virtio_net_hdr     | IPv4 header (20-60 bytes) or | TCP header (20-60) | payload, up to      |
 * | 10 bytes, see      | IPv6 header (40, no          | or UDP header (8)  | 65,535 - headers    |
 * | {@link VirtioNetHdr}   | extension headers)           |                    | bytes               |
 * +--------------------+------------------------------+--------------------+---------------------+
 *                      ^ csum_start = IP header length  ^ + csum_offset (16 TCP, 6 UDP) = checksum
 *
 *  0                   1                   2                   3      IPv4 (fields rewritten per
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1    segment marked *)
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |      TOS      |        *Total length          |
 * |        *Identification (+1 per segment)  |Flags| Fragment off = 0 |
 * |      TTL      |   Protocol    |       *Header checksum        |
 * |                   Source, destination address                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Version | Traffic class | Flow label  |*Payload len | Next hdr | Hop limit |   IPv6
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source port          |       Destination port        |   TCP
 * |       *Sequence number (first + i * gso_size)                 |
 * |                    Acknowledgment number                      |
 * | Offset|  Res  |*Flags: FIN, PSH on the last only; CWR on the first only | Window |
 * |          *Checksum            |        Urgent pointer         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source port          |       Destination port        |   UDP
 * |          *Length              |          *Checksum            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * <p>Three kinds of input:
 * <ul>
 *   <li>GSO (gso_type TCPV4, TCPV6 or UDP_L4, with NEEDS_CSUM): split into segments of
 *       {@code gso_size} payload bytes (the last may be shorter), each with the headers of the
 *       super-packet, lengths, IPv4 ID (incremented per segment, as the kernel does), IPv4 header
 *       checksum, TCP sequence number, TCP flags and the full TCP/UDP checksum (pseudo-header
 *       included) rewritten. The header length is taken from the TCP data offset (or 8 for UDP),
 *       not from {@code hdr_len}, which the kernel may set to more on its forward path; IPv4
 *       options are copied to every segment.</li>
 *   <li>not GSO, with NEEDS_CSUM: copied as one packet, its partial checksum completed (the sum
 *       from csum_start to the end, added to the pseudo-header sum the field holds).</li>
 *   <li>plain (flags 0 or DATA_VALID): copied as it is.</li>
 * </ul>
 *
 * <p>Output: segment {@code i} at {@code out[i][outOff .. outOff+sizes[i])}; {@code outOff}
 * leaves room before each packet (the 16-byte WireGuard transport header, to encrypt in place).
 * The input is never modified.
 *
 * <p>Allocation: none on the steady path: the caller owns every buffer (for a 64 KB TCP
 * super-packet at an MSS of 1,380 that is 48 buffers of {@code outOff} + the MTU); only a refused
 * packet allocates its exception. Thread-safety: not thread-safe; one per data thread.
 *
 * <p>Error contract: {@link #split} either returns the number of packets written or throws an
 * {@link OffloadException} whose {@link OffloadException#reason() reason} is the drop counter's
 * label; it never throws an index exception for any input bytes (buffer arrays shorter than the
 * sizes they claim are the caller's bug and fail as Java does).
 */
public final class Segmenter {
    private final VirtioNetHdr hdr = new VirtioNetHdr();

    /**
     * Splits the virtio header and packet at {@code in[off .. off+len)}.
     *
     * @param out the buffers for the segments; each must hold {@code outOff} + its segment
     * @param sizes receives each segment's length; at least as long as {@code out}
     * @return the number of segments written to {@code out[0 ..]} (1 for a packet that is not GSO)
     * @throws OffloadException the packet is refused; its reason is the drop counter's label
     */
    public int split(byte[] in, int off, int len, byte[][] out, int outOff, int[] sizes) throws OffloadException {
        hdr.read(in, off, len);
        int p = off + VirtioNetHdr.SIZE;
        int plen = len - VirtioNetHdr.SIZE;
        if (plen > Ip.MAX_PACKET + Ip.V6_HEADER) {
            throw new OffloadException(Reason.OVERSIZED, "packet of " + plen + " bytes");
        }
        if (plen < 1) {
            throw new OffloadException(Reason.TRUNCATED, "no IP packet after the virtio header");
        }
        int version = (in[p] & 0xFF) >>> 4;
        if (version != 4 && version != 6) {
            throw new OffloadException(Reason.BAD_IP_VERSION, "IP version " + version);
        }
        if (hdr.gsoKind() == VirtioNetHdr.GSO_NONE) {
            return single(in, p, plen, out, outOff, sizes);
        }
        if (!hdr.needsCsum()) {
            throw new OffloadException(Reason.GSO_WITHOUT_CSUM, "gso_type " + hdr.gsoKind() + " without NEEDS_CSUM");
        }
        return segments(in, p, plen, version == 6, out, outOff, sizes);
    }

    private int single(byte[] in, int p, int plen, byte[][] out, int outOff, int[] sizes) throws OffloadException {
        if (out.length < 1 || sizes.length < 1) {
            throw new OffloadException(Reason.TOO_MANY_SEGMENTS, "no output buffer");
        }
        byte[] o = out[0];
        if (outOff < 0 || o.length - outOff < plen) {
            throw new OffloadException(Reason.OUTPUT_TOO_SMALL, "packet of " + plen + " bytes");
        }
        System.arraycopy(in, p, o, outOff, plen);
        if (hdr.needsCsum()) {
            int start = outOff + hdr.csumStart();
            int at = start + hdr.csumOffset();
            long partial = Ip.u16(o, at);
            Ip.put16(o, at, 0);
            int csum = InternetChecksum.finish(InternetChecksum.add(partial, o, start, outOff + plen - start));
            Ip.put16(o, at, csum == 0 ? 0xFFFF : csum); // as the kernel's skb_checksum_help (CSUM_MANGLED_0)
        }
        sizes[0] = plen;
        return 1;
    }

    private int segments(byte[] in, int p, int plen, boolean v6, byte[][] out, int outOff, int[] sizes)
            throws OffloadException {
        int ihl;
        int protocol;
        int idBase = 0;
        if (v6) {
            if (plen < Ip.V6_HEADER) {
                throw new OffloadException(Reason.TRUNCATED, "IPv6 header needs 40 bytes, got " + plen);
            }
            ihl = Ip.V6_HEADER;
            if (Ip.u16(in, p + Ip.V6_PAYLOAD_LENGTH) != plen - ihl) {
                throw new OffloadException(Reason.LENGTH_MISMATCH, "IPv6 payload length " + Ip.u16(in, p + 4)
                        + " for " + (plen - ihl) + " bytes");
            }
            protocol = in[p + Ip.V6_NEXT_HEADER] & 0xFF;
            if (protocol != Ip.PROTO_TCP && protocol != Ip.PROTO_UDP) {
                throw new OffloadException(Reason.UNSUPPORTED_HEADER, "IPv6 next header " + protocol);
            }
        } else {
            if (plen < Ip.V4_HEADER) {
                throw new OffloadException(Reason.TRUNCATED, "IPv4 header needs 20 bytes, got " + plen);
            }
            ihl = (in[p] & 0x0F) * 4;
            if (ihl < Ip.V4_HEADER) {
                throw new OffloadException(Reason.BAD_IP_HEADER, "IHL " + ihl / 4);
            }
            if (Ip.u16(in, p + Ip.V4_TOTAL_LENGTH) != plen || ihl > plen) {
                throw new OffloadException(Reason.LENGTH_MISMATCH, "IPv4 total length " + Ip.u16(in, p + 2)
                        + " for " + plen + " bytes");
            }
            if ((Ip.u16(in, p + Ip.V4_FLAGS_FRAGMENT) & Ip.V4_FRAGMENT_MASK) != 0) {
                throw new OffloadException(Reason.UNSUPPORTED_HEADER, "IPv4 fragment");
            }
            protocol = in[p + Ip.V4_PROTOCOL] & 0xFF;
            idBase = Ip.u16(in, p + Ip.V4_ID);
        }
        int kind = hdr.gsoKind();
        boolean tcp = kind != VirtioNetHdr.GSO_UDP_L4;
        if (tcp ? protocol != Ip.PROTO_TCP || v6 != (kind == VirtioNetHdr.GSO_TCPV6) : protocol != Ip.PROTO_UDP) {
            throw new OffloadException(Reason.GSO_TYPE_MISMATCH, "gso_type " + kind + " on IPv" + (v6 ? 6 : 4)
                    + " protocol " + protocol);
        }
        if (hdr.csumStart() != ihl || hdr.csumOffset() != (tcp ? Ip.TCP_CHECKSUM : Ip.UDP_CHECKSUM)) {
            throw new OffloadException(Reason.BAD_CSUM_OFFSETS, "csum_start " + hdr.csumStart() + ", csum_offset "
                    + hdr.csumOffset() + " for a header of " + ihl);
        }
        int t = p + ihl;
        int thl = transportHeader(in, t, plen - ihl, tcp);
        int hl = ihl + thl;
        int payload = plen - hl;
        int gso = hdr.gsoSize();
        int n = payload == 0 ? 1 : (payload + gso - 1) / gso;
        if (n > out.length || n > sizes.length) {
            throw new OffloadException(Reason.TOO_MANY_SEGMENTS, n + " segments, " + Math.min(out.length, sizes.length)
                    + " buffers");
        }
        for (int i = 0; i < n; i++) {
            if (outOff < 0 || out[i].length - outOff < hl + Math.min(gso, payload - i * gso)) {
                throw new OffloadException(Reason.OUTPUT_TOO_SMALL, "buffer " + i + " of " + out[i].length + " bytes");
            }
        }
        long pseudo = InternetChecksum.pseudoHeader(in, p, v6, protocol, 0);
        int seq = tcp ? Ip.u32(in, t + Ip.TCP_SEQ) : 0;
        int csumAt = outOff + ihl + (tcp ? Ip.TCP_CHECKSUM : Ip.UDP_CHECKSUM);
        for (int i = 0, from = hl; i < n; i++, from += gso) {
            int sl = Math.min(gso, plen - from);
            byte[] o = out[i];
            System.arraycopy(in, p, o, outOff, hl);
            System.arraycopy(in, p + from, o, outOff + hl, sl);
            if (v6) {
                Ip.put16(o, outOff + Ip.V6_PAYLOAD_LENGTH, thl + sl);
            } else {
                Ip.put16(o, outOff + Ip.V4_TOTAL_LENGTH, hl + sl);
                Ip.put16(o, outOff + Ip.V4_ID, idBase + i);
                Ip.setV4Checksum(o, outOff, ihl);
            }
            int ot = outOff + ihl;
            if (tcp) {
                Ip.put32(o, ot + Ip.TCP_SEQ, seq + i * gso);
                int clear = (i < n - 1 ? Ip.FIN | Ip.PSH : 0) | (i > 0 ? Ip.CWR : 0);
                o[ot + Ip.TCP_FLAGS] &= (byte) ~clear;
            } else {
                Ip.put16(o, ot + Ip.UDP_LENGTH, thl + sl);
            }
            Ip.put16(o, csumAt, 0);
            int csum = InternetChecksum.finish(InternetChecksum.add(pseudo + thl + sl, o, ot, thl + sl));
            Ip.put16(o, csumAt, !tcp && csum == 0 ? 0xFFFF : csum); // UDP sends a zero sum as all ones
            sizes[i] = hl + sl;
        }
        return n;
    }

    /** The TCP or UDP header length at {@code in[t]}, with {@code left} bytes from there to the end. */
    private static int transportHeader(byte[] in, int t, int left, boolean tcp) throws OffloadException {
        if (!tcp) {
            if (left < Ip.UDP_HEADER) {
                throw new OffloadException(Reason.TRUNCATED, "UDP header needs 8 bytes, got " + left);
            }
            if (Ip.u16(in, t + Ip.UDP_LENGTH) != left) {
                throw new OffloadException(Reason.BAD_TRANSPORT_HEADER, "UDP length " + Ip.u16(in, t + 4)
                        + " for " + left + " bytes");
            }
            return Ip.UDP_HEADER;
        }
        if (left < Ip.TCP_HEADER) {
            throw new OffloadException(Reason.TRUNCATED, "TCP header needs 20 bytes, got " + left);
        }
        int thl = ((in[t + Ip.TCP_DATA_OFFSET] & 0xFF) >>> 4) * 4;
        if (thl < Ip.TCP_HEADER) {
            throw new OffloadException(Reason.BAD_TRANSPORT_HEADER, "TCP data offset " + thl / 4);
        }
        if (thl > left) {
            throw new OffloadException(Reason.TRUNCATED, "TCP header of " + thl + " bytes, " + left + " left");
        }
        return thl;
    }
}
