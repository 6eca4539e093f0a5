package io.pinhole.offload;

/**
 * OffloadException: a packet read from a TUN device with {@code IFF_VNET_HDR}, or a batch handed
 * to the {@link Coalescer}, could not be processed. The caller drops the packet (or batch) and
 * counts it under {@link #reason()}; nothing has been written that it must undo.
 *
 * <p>Thrown on the data path, where bad input is expected now and then, so it carries no stack
 * trace (it costs one small allocation, only on the drop path).
 */
public final class OffloadException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a packet was refused; used as the label of drop counters. */
    public enum Reason {
        /** Shorter than the virtio header, or than the IP or transport header it claims. */
        TRUNCATED,
        /** Longer than 10 + 65,535 bytes, or a super-packet whose segments would not fit an IP length. */
        OVERSIZED,
        /** {@code flags} holds a bit this build does not know (RSC_INFO or reserved). */
        BAD_FLAGS,
        /** {@code gso_type} is not NONE, TCPV4, TCPV6 or UDP_L4 (the ECN bit aside); UFO included. */
        UNKNOWN_GSO_TYPE,
        /** The ECN bit set on a UDP super-packet, or on one that is not GSO at all. */
        BAD_ECN,
        /** A GSO super-packet with {@code gso_size} 0. */
        GSO_SIZE_ZERO,
        /** {@code hdr_len} beyond the end of the packet. */
        HDR_LEN_BEYOND_PACKET,
        /** {@code csum_start}/{@code csum_offset} beyond the packet, or not at the transport checksum of a GSO packet. */
        BAD_CSUM_OFFSETS,
        /** A GSO super-packet without NEEDS_CSUM (the kernel always sets it with GSO). */
        GSO_WITHOUT_CSUM,
        /** The IP version nibble is neither 4 nor 6. */
        BAD_IP_VERSION,
        /** An IPv4 header length (IHL) below 5. */
        BAD_IP_HEADER,
        /** The IPv4 total length or IPv6 payload length does not match the bytes read. */
        LENGTH_MISMATCH,
        /** The GSO type does not match the packet: TCPV4 on IPv6, TCP type on a UDP packet, and so on. */
        GSO_TYPE_MISMATCH,
        /** Headers the segmenter does not split: IPv6 extension headers, an IPv4 fragment. */
        UNSUPPORTED_HEADER,
        /** A TCP data offset below 5 or a UDP length field that disagrees. */
        BAD_TRANSPORT_HEADER,
        /** The packet needs more segments than the caller gave buffers (or the batch is larger than the coalescer). */
        TOO_MANY_SEGMENTS,
        /** An output buffer is shorter than the segment or record it must hold. */
        OUTPUT_TOO_SMALL
    }

    private final Reason reason;

    public OffloadException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
