package io.pinhole.offload;

import io.pinhole.offload.OffloadException.Reason;
import java.util.Arrays;

/**
 * Coalescer: software GRO for writes to a TUN device with {@code IFF_VNET_HDR}. Given a batch of
 * decrypted IP packets (plain, with full checksums), it merges consecutive TCP segments of one
 * flow into a single super-packet of up to 64 KB with a virtio header, so the kernel takes one
 * write (and one trip up its stack) for up to 64 KB instead of one per segment.
 *
 * <p>Input: packet {@code i} of the batch at {@code packets[i][offsets[i] .. +lengths[i])}, an
 * IPv4 or IPv6 packet. Output: records, each a {@link VirtioNetHdr} and the packet after it,
 * ready for one {@code write(2)} each:
 * <pre>
 * +--------------------+------------------------+---------------+-------------------------------+
 * | virtio_net_hdr     | IP header of the first | TCP header of | payload of segment 1, 2, ...  |
 * | NEEDS_CSUM,        | segment, total length  | the first,    | n (n-1 of gso_size bytes,     |
 * | TCPV4 or TCPV6,    | (v4) or payload length | PSH if the    | the last up to gso_size)      |
 * | hdr_len, gso_size, | (v6) and v4 header     | last had it,  |                               |
 * | csum_start = IP    | checksum rewritten     | checksum =    |                               |
 * | header length,     |                        | pseudo-header |                               |
 * | csum_offset = 16   |                        | sum (partial) |                               |
 * +--------------------+------------------------+---------------+-------------------------------+
 * </pre>
 * The TCP checksum field of a super-packet holds the folded, uncomplemented pseudo-header sum
 * over the super-packet's TCP length, which is what the kernel expects for CHECKSUM_PARTIAL.
 * A packet that merges with nothing is written as it is behind a header with no GSO: flags
 * DATA_VALID if it was a candidate whose IPv4 and TCP checksums were verified here (the kernel
 * need not check again), flags 0 otherwise (the kernel checks its checksums, as it does today).
 *
 * <p>Rules (those of Linux's {@code tcp_gro_receive}, kept strict so that splitting a
 * super-packet again gives back the very same packets): a packet joins the latest super-packet
 * of its flow (same IP version, addresses and ports) when
 * <ul>
 *   <li>both are candidates: TCP over IPv4 without options or fragments, or over IPv6 without
 *       extension headers; lengths consistent; flags ACK, or ACK|PSH; payload not empty; IPv4
 *       header and TCP checksums valid;</li>
 *   <li>every IP header field but the lengths, ID and checksum is equal, and the IPv4 ID is the
 *       first segment's plus the number of segments already merged (as the kernel's TSO makes
 *       them and will make them again if it forwards the super-packet);</li>
 *   <li>every TCP header field but the sequence number, the PSH flag and the checksum is equal
 *       (ports, acknowledgment, data offset, window, urgent pointer, options);</li>
 *   <li>its sequence number follows the super-packet's last byte;</li>
 *   <li>no segment merged so far had PSH or was shorter than the first ({@code gso_size}), and
 *       this one is not longer than the first;</li>
 *   <li>the result stays within 65,535 bytes of IP packet.</li>
 * </ul>
 * Only appends are made (packets out of order start a new record), and a TCP packet of the flow
 * that cannot merge (a pure ACK, FIN, SYN, bad checksum) closes the flow's open super-packet, so
 * the order within a flow is kept; records come out in the order of their first packet. UDP and
 * everything else pass through.
 *
 * <p>Buffers and allocation: none on the steady path. The tables are sized once for
 * {@code maxBatch} packets. A record that is a single packet is written in place when its packet
 * has at least {@link VirtioNetHdr#SIZE} bytes of headroom before {@code offsets[i]} (the 16-byte
 * WireGuard transport header a packet was decrypted behind gives that room): the header goes
 * into those bytes, which this overwrites. Super-packets, and single packets without headroom,
 * are copied into the caller's {@code arena}, which needs at most {@code sum(lengths) + 10 * count}
 * bytes. The headroom of one packet must not overlap another packet of the batch, nor the arena
 * any input (packets read into one buffer back to back need the 10 bytes between them).
 * Thread-safety: not thread-safe; one per data thread.
 *
 * <p>Error contract: a packet that is malformed is not an error here: it passes through with flags
 * 0 for the kernel to judge. {@link #coalesce} throws {@link OffloadException} only when the batch
 * does not fit: more packets than {@code maxBatch} (TOO_MANY_SEGMENTS) or output arrays or arena too
 * small (OUTPUT_TOO_SMALL); nothing has then been written.
 */
public final class Coalescer {
    private static final int NOT_TCP = 0;
    private static final int TCP_NO_MERGE = 1;
    private static final int CANDIDATE = 2;

    private final int maxBatch;
    private final VirtioNetHdr hdr = new VirtioNetHdr();
    // per packet of the batch
    private final int[] ipLen;
    private final int[] tcpLen;
    private final int[] payload;
    private final int[] next;
    // per record (an item: a packet, or a chain of packets through next[])
    private final int[] first;
    private final int[] last;
    private final int[] segments;
    private final int[] bytes;
    private final boolean[] candidate;
    private final boolean[] closed;
    // flow -> its latest item + 1; open addressing, cleared per batch
    private final int[] slots;

    /** A coalescer for batches of at most {@code maxBatch} packets. */
    public Coalescer(int maxBatch) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch " + maxBatch);
        }
        this.maxBatch = maxBatch;
        ipLen = new int[maxBatch];
        tcpLen = new int[maxBatch];
        payload = new int[maxBatch];
        next = new int[maxBatch];
        first = new int[maxBatch];
        last = new int[maxBatch];
        segments = new int[maxBatch];
        bytes = new int[maxBatch];
        candidate = new boolean[maxBatch];
        closed = new boolean[maxBatch];
        slots = new int[Integer.highestOneBit(maxBatch * 2 - 1) << 1];
    }

    public int maxBatch() {
        return maxBatch;
    }

    /**
     * Coalesces {@code count} packets into records; record {@code k} is at
     * {@code outBufs[k][outOffsets[k] .. +outLengths[k])}, virtio header first.
     *
     * @return the number of records (at most {@code count})
     * @throws OffloadException TOO_MANY_SEGMENTS (count above maxBatch), OUTPUT_TOO_SMALL (an
     *     output array shorter than count, or the arena shorter than the copies need)
     */
    public int coalesce(byte[][] packets, int[] offsets, int[] lengths, int count, byte[] arena,
                        byte[][] outBufs, int[] outOffsets, int[] outLengths) throws OffloadException {
        if (count > maxBatch) {
            throw new OffloadException(Reason.TOO_MANY_SEGMENTS, "batch of " + count + " > " + maxBatch);
        }
        if (outBufs.length < count || outOffsets.length < count || outLengths.length < count) {
            throw new OffloadException(Reason.OUTPUT_TOO_SMALL, "output arrays shorter than the batch of " + count);
        }
        int items = group(packets, offsets, lengths, count);
        long need = 0;
        for (int it = 0; it < items; it++) {
            int i = first[it];
            if (segments[it] > 1) {
                need += VirtioNetHdr.SIZE + ipLen[i] + tcpLen[i] + bytes[it];
            } else if (offsets[i] < VirtioNetHdr.SIZE) {
                need += VirtioNetHdr.SIZE + lengths[i];
            }
        }
        if (need > arena.length) {
            throw new OffloadException(Reason.OUTPUT_TOO_SMALL, "arena of " + arena.length + " bytes, " + need + " needed");
        }
        int a = 0;
        for (int it = 0; it < items; it++) {
            int i = first[it];
            if (segments[it] > 1) {
                int size = VirtioNetHdr.SIZE + superPacket(it, packets, offsets, arena, a + VirtioNetHdr.SIZE);
                hdr.write(arena, a);
                outBufs[it] = arena;
                outOffsets[it] = a;
                outLengths[it] = size;
                a += size;
                continue;
            }
            hdr.plain(candidate[it] ? VirtioNetHdr.F_DATA_VALID : 0);
            if (offsets[i] >= VirtioNetHdr.SIZE) {
                outBufs[it] = packets[i];
                outOffsets[it] = offsets[i] - VirtioNetHdr.SIZE;
            } else {
                System.arraycopy(packets[i], offsets[i], arena, a + VirtioNetHdr.SIZE, lengths[i]);
                outBufs[it] = arena;
                outOffsets[it] = a;
                a += VirtioNetHdr.SIZE + lengths[i];
            }
            hdr.write(outBufs[it], outOffsets[it]);
            outLengths[it] = VirtioNetHdr.SIZE + lengths[i];
        }
        return items;
    }

    /** Assigns every packet to an item (a record); returns the number of items. */
    private int group(byte[][] packets, int[] offsets, int[] lengths, int count) {
        Arrays.fill(slots, 0);
        int items = 0;
        for (int j = 0; j < count; j++) {
            byte[] b = packets[j];
            int o = offsets[j];
            int kind = classify(j, b, o, lengths[j]);
            next[j] = -1;
            int slot = kind == NOT_TCP ? -1 : findFlow(b, o, packets, offsets);
            int latest = slot >= 0 ? slots[slot] - 1 : -1;
            if (kind == CANDIDATE && latest >= 0 && canAppend(latest, j, packets, offsets)) {
                append(latest, j, b, o);
                continue;
            }
            if (latest >= 0) {
                closed[latest] = true;
            }
            int it = items++;
            first[it] = j;
            last[it] = j;
            segments[it] = 1;
            bytes[it] = payload[j];
            candidate[it] = kind == CANDIDATE;
            closed[it] = kind != CANDIDATE || (b[o + ipLen[j] + Ip.TCP_FLAGS] & Ip.PSH) != 0;
            if (slot >= 0) {
                slots[slot] = it + 1;
            }
        }
        return items;
    }

    private void append(int it, int j, byte[] b, int o) {
        next[last[it]] = j;
        last[it] = j;
        segments[it]++;
        bytes[it] += payload[j];
        if (payload[j] < payload[first[it]] || (b[o + ipLen[j] + Ip.TCP_FLAGS] & Ip.PSH) != 0) {
            closed[it] = true;
        }
    }

    /** Parses packet {@code j}: NOT_TCP, TCP_NO_MERGE (a TCP packet with its flow known) or CANDIDATE. */
    private int classify(int j, byte[] b, int o, int len) {
        payload[j] = 0;
        if (len < Ip.V4_HEADER + Ip.TCP_HEADER || len > Ip.MAX_PACKET) {
            return NOT_TCP;
        }
        int version = (b[o] & 0xFF) >>> 4;
        int ihl;
        boolean plain;
        if (version == 4) {
            ihl = (b[o] & 0x0F) * 4;
            if (ihl < Ip.V4_HEADER || ihl + Ip.TCP_HEADER > len || b[o + Ip.V4_PROTOCOL] != Ip.PROTO_TCP
                    || (Ip.u16(b, o + Ip.V4_FLAGS_FRAGMENT) & Ip.V4_FRAGMENT_MASK) != 0) {
                return NOT_TCP;
            }
            plain = ihl == Ip.V4_HEADER && Ip.u16(b, o + Ip.V4_TOTAL_LENGTH) == len
                    && InternetChecksum.fold(InternetChecksum.add(0, b, o, ihl)) == 0xFFFF;
        } else if (version == 6) {
            ihl = Ip.V6_HEADER;
            if (len < ihl + Ip.TCP_HEADER || b[o + Ip.V6_NEXT_HEADER] != Ip.PROTO_TCP) {
                return NOT_TCP;
            }
            plain = Ip.u16(b, o + Ip.V6_PAYLOAD_LENGTH) == len - ihl;
        } else {
            return NOT_TCP;
        }
        ipLen[j] = ihl;
        int t = o + ihl;
        int thl = ((b[t + Ip.TCP_DATA_OFFSET] & 0xFF) >>> 4) * 4;
        int flags = b[t + Ip.TCP_FLAGS] & 0xFF;
        if (!plain || thl < Ip.TCP_HEADER || ihl + thl >= len || (flags != Ip.ACK && flags != (Ip.ACK | Ip.PSH))) {
            return TCP_NO_MERGE;
        }
        long sum = InternetChecksum.pseudoHeader(b, o, version == 6, Ip.PROTO_TCP, len - ihl);
        if (InternetChecksum.fold(InternetChecksum.add(sum, b, t, len - ihl)) != 0xFFFF) {
            return TCP_NO_MERGE;
        }
        tcpLen[j] = thl;
        payload[j] = len - ihl - thl;
        return CANDIDATE;
    }

    /** The slot of the flow of the TCP packet at {@code b[o]}: the one holding it, or the empty one for it. */
    private int findFlow(byte[] b, int o, byte[][] packets, int[] offsets) {
        boolean v6 = (b[o] & 0xF0) == 0x60;
        int addr = o + (v6 ? Ip.V6_SRC : Ip.V4_SRC);
        int addrEnd = addr + (v6 ? 32 : 8);
        int ports = o + (v6 ? Ip.V6_HEADER : (b[o] & 0x0F) * 4);
        int h = Ip.u32(b, ports);
        for (int i = addr; i < addrEnd; i += 4) {
            h = h * 0x01000193 ^ Ip.u32(b, i);
        }
        int mask = slots.length - 1;
        for (int s = (h * 0x9E3779B9) >>> 16 & mask; ; s = (s + 1) & mask) {
            int it = slots[s] - 1;
            if (it < 0) {
                return s;
            }
            byte[] f = packets[first[it]];
            int fo = offsets[first[it]];
            int fPorts = fo + ((f[fo] & 0xF0) == 0x60 ? Ip.V6_HEADER : (f[fo] & 0x0F) * 4);
            if ((f[fo] & 0xF0) == (b[o] & 0xF0) && Arrays.equals(b, addr, addrEnd, f, addr - o + fo, addrEnd - o + fo)
                    && Arrays.equals(b, ports, ports + 4, f, fPorts, fPorts + 4)) {
                return s;
            }
        }
    }

    /** Whether candidate packet {@code j} may be appended to item {@code it} (see the class rules). */
    private boolean canAppend(int it, int j, byte[][] packets, int[] offsets) {
        int f = first[it];
        if (closed[it] || !candidate[it] || tcpLen[j] != tcpLen[f] || ipLen[j] != ipLen[f]
                || payload[j] > payload[f] || ipLen[f] + tcpLen[f] + bytes[it] + payload[j] > Ip.MAX_PACKET) {
            return false;
        }
        byte[] x = packets[j];
        int xo = offsets[j];
        byte[] y = packets[f];
        int yo = offsets[f];
        int ihl = ipLen[f];
        boolean ip = ihl == Ip.V6_HEADER
                ? Ip.same(x, xo, y, yo, 0, Ip.V6_PAYLOAD_LENGTH) && Ip.same(x, xo, y, yo, Ip.V6_NEXT_HEADER, ihl)
                : Ip.same(x, xo, y, yo, 0, Ip.V4_TOTAL_LENGTH) && Ip.same(x, xo, y, yo, Ip.V4_FLAGS_FRAGMENT, Ip.V4_CHECKSUM)
                  && Ip.same(x, xo, y, yo, Ip.V4_SRC, ihl)
                  && Ip.u16(x, xo + Ip.V4_ID) == ((Ip.u16(y, yo + Ip.V4_ID) + segments[it]) & 0xFFFF);
        int t = ihl;
        return ip && Ip.same(x, xo, y, yo, t + Ip.TCP_SEQ + 4, t + Ip.TCP_FLAGS)
                && Ip.same(x, xo, y, yo, t + Ip.TCP_FLAGS + 1, t + Ip.TCP_CHECKSUM)
                && Ip.same(x, xo, y, yo, t + Ip.TCP_CHECKSUM + 2, t + tcpLen[f])
                && Ip.u32(x, xo + t + Ip.TCP_SEQ) == Ip.u32(y, yo + t + Ip.TCP_SEQ) + bytes[it];
    }

    /** Writes item {@code it}'s super-packet at {@code arena[q]} and sets {@link #hdr} for it; returns its length. */
    private int superPacket(int it, byte[][] packets, int[] offsets, byte[] arena, int q) {
        int f = first[it];
        int ihl = ipLen[f];
        int hl = ihl + tcpLen[f];
        int total = hl + bytes[it];
        System.arraycopy(packets[f], offsets[f], arena, q, hl);
        int pos = q + hl;
        for (int j = f; j >= 0; j = next[j]) {
            System.arraycopy(packets[j], offsets[j] + hl, arena, pos, payload[j]);
            pos += payload[j];
        }
        int l = last[it];
        arena[q + ihl + Ip.TCP_FLAGS] |= (byte) (packets[l][offsets[l] + ihl + Ip.TCP_FLAGS] & Ip.PSH);
        boolean v6 = ihl == Ip.V6_HEADER;
        if (v6) {
            Ip.put16(arena, q + Ip.V6_PAYLOAD_LENGTH, total - ihl);
        } else {
            Ip.put16(arena, q + Ip.V4_TOTAL_LENGTH, total);
            Ip.setV4Checksum(arena, q, ihl);
        }
        long pseudo = InternetChecksum.pseudoHeader(arena, q, v6, Ip.PROTO_TCP, total - ihl);
        Ip.put16(arena, q + ihl + Ip.TCP_CHECKSUM, InternetChecksum.fold(pseudo));
        hdr.set(VirtioNetHdr.F_NEEDS_CSUM, v6 ? VirtioNetHdr.GSO_TCPV6 : VirtioNetHdr.GSO_TCPV4, hl, payload[f], ihl,
                Ip.TCP_CHECKSUM);
        return total;
    }
}
