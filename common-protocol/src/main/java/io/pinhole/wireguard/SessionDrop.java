package io.pinhole.wireguard;

/** SessionDrop: why a {@link WireGuardSession} dropped a datagram or packet. */
public enum SessionDrop {
    /** Not a WireGuard message of a valid size. */
    MALFORMED,
    /** A handshake message whose mac1 is wrong (not for our key). */
    BAD_MAC1,
    /** Under load, a handshake message without a valid mac2: a cookie reply was sent instead. */
    COOKIE_DEMANDED,
    /** Under load, the source address exceeded its handshake rate. */
    RATE_LIMITED,
    /** A handshake message that did not authenticate or was not for a handshake we have. */
    HANDSHAKE_FAILED,
    /** An initiation from our peer with an old timestamp, or too soon after the last one. */
    HANDSHAKE_REPLAYED,
    /** An initiation from a key other than our peer's. */
    UNKNOWN_PEER,
    /** A cookie reply that did not authenticate or answers nothing we sent. */
    BAD_COOKIE_REPLY,
    /** A transport message for an index we do not have. */
    UNKNOWN_INDEX,
    /** A transport message for a keypair older than REJECT_AFTER_TIME (whose keys are zeroed at the next tick). */
    EXPIRED_KEYPAIR,
    /** A transport message that failed authentication. */
    DECRYPT_FAILED,
    /** A transport message whose counter was already seen or is out of the window. */
    REPLAYED,
    /** A decrypted payload that is not an IPv4/IPv6 packet of a consistent length. */
    BAD_INNER_PACKET,
    /** An IP packet dropped because too many were waiting for a keypair. */
    STAGED_OVERFLOW,
    /** IP packets dropped when a handshake attempt was given up after REKEY_ATTEMPT_TIME. */
    HANDSHAKE_GAVE_UP,
    /** A datagram or IP packet given to a session after {@link WireGuardSession#close()}. */
    CLOSED
}
