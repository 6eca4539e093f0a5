package io.pinhole.rendezvous;

import io.pinhole.wire.MalformedMessageException;

/** ServerDrop: why the rendezvous server dropped a datagram without acting on it. */
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
    /** A LEAVE for a session that is not registered from that endpoint. */
    STALE_LEAVE;

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
