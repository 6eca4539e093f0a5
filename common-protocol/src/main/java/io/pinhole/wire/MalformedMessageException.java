package io.pinhole.wire;

/**
 * MalformedMessageException: a datagram could not be decoded as the message its type byte
 * names. Receivers drop such a datagram and count it under {@link #reason()}; they never reply.
 */
public final class MalformedMessageException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a datagram was rejected; used as the label of drop counters. */
    public enum Reason {
        /** Shorter than its header or than the fixed part of its type. */
        TRUNCATED,
        /** Longer than its type allows. */
        OVERSIZED,
        /** The type byte is not a known pinhole or WireGuard type. */
        UNKNOWN_TYPE,
        /** A pinhole message with a protocol version this build does not speak. */
        BAD_VERSION,
        /** A field holds a value the format forbids (reserved bits, address family, count). */
        BAD_FIELD
    }

    private final Reason reason;

    public MalformedMessageException(Reason reason, String message) {
        super(message, null, false, false); // dropped datagrams are common: no stack trace
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
