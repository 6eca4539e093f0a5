package io.pinhole.rendezvous;

import io.pinhole.wire.MalformedMessageException;

/**
 * ServerDrop: why the rendezvous server dropped a datagram without acting on it. A malformed
 * datagram, RELAY frames included, is dropped under its {@link MalformedMessageException.Reason}.
 */
public enum ServerDrop {
    TRUNCATED,
    OVERSIZED,
    UNKNOWN_TYPE,
    BAD_VERSION,
    BAD_FIELD,
    /** A well-formed message that peers send to each other, or that only the server sends. */
    NOT_FOR_SERVER,
    /** A REGISTER whose self and wanted keys are equal. */
    SELF_PAIRING,
    /** A new registration while the table is at its cap. */
    TABLE_FULL,
    /** A LEAVE for a session that is not registered from that endpoint, or that does not authenticate. */
    STALE_LEAVE,
    /** A REGISTER with a valid cookie whose MAC is wrong (a CHALLENGE tells the peer the current key). */
    BAD_MAC,
    /** A REGISTER whose timestamp is not newer than the last one accepted for that key. */
    REPLAYED,
    /** A REGISTER that would need a Diffie-Hellman while its address exceeds its rate. */
    RATE_LIMITED,
    /** A public key for which no shared key exists (low-order point). */
    BAD_KEY,
    /** A RELAY frame while the relay is off ({@link RendezvousConfig#relayBytesPerSecond()} 0). */
    RELAY_OFF,
    /** A RELAY frame from an endpoint that is not the observed endpoint of a live registration. */
    RELAY_UNKNOWN_SENDER,
    /** A RELAY frame from a registration whose partner is not registered or does not want it back. */
    RELAY_UNPAIRED,
    /** A RELAY frame beyond its sender's byte budget. */
    RELAY_RATE_LIMITED;

    static ServerDrop of(MalformedMessageException.Reason reason) {
        return switch (reason) {
            case TRUNCATED -> TRUNCATED;
            case OVERSIZED -> OVERSIZED;
            case UNKNOWN_TYPE -> UNKNOWN_TYPE;
            case BAD_VERSION -> BAD_VERSION;
            case BAD_FIELD -> BAD_FIELD;
        };
    }
}
