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
    /** A new registration while the table is at its cap and holds no unpaired registration to evict. */
    TABLE_FULL,
    /** A new registration from a source (IPv4 address, IPv6 /64) that holds its quota of registrations. */
    SOURCE_FULL,
    /** A LEAVE for a session that is not registered from that endpoint, or that does not authenticate. */
    STALE_LEAVE,
    /** A REGISTER with a valid cookie whose MAC is wrong (a CHALLENGE tells the peer the current key). */
    BAD_MAC,
    /** A REGISTER whose timestamp is not newer than the last one accepted for that key. */
    REPLAYED,
    /** A REGISTER that would need a Diffie-Hellman while its source (IPv4 address, IPv6 /64) exceeds its rate. */
    RATE_LIMITED,
    /** A REGISTER that would need a Diffie-Hellman while the global budget is spent. */
    DH_BUDGET,
    /** A REGISTER that would need a Diffie-Hellman while the global budget is under pressure and its source has had its share. */
    DH_SHARE,
    /** A public key for which no shared key exists (low-order point). */
    BAD_KEY,
    /** A RELAY frame while the relay is off ({@link RendezvousConfig#relayBytesPerSecond()} 0). */
    RELAY_OFF,
    /** A RELAY frame from an endpoint that is not the observed endpoint of a live registration. */
    RELAY_UNKNOWN_SENDER,
    /** A RELAY frame from a registration whose partner is not registered or does not want it back. */
    RELAY_UNPAIRED,
    /** A RELAY frame beyond its sender's byte budget. */
    RELAY_RATE_LIMITED,
    /** A RELAY frame while the global relay budget ({@link RendezvousConfig#relayTotalBytesPerSecond()}) is spent. */
    RELAY_BUDGET,
    /** A RELAY frame while the global relay budget is under pressure and its source has had its share. */
    RELAY_SHARE;

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
