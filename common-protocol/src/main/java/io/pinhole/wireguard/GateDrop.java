package io.pinhole.wireguard;

/** Why {@link InitiationGate} dropped a handshake initiation. */
public enum GateDrop {
    /** Not a handshake initiation of the right length. */
    MALFORMED,
    /** mac1 wrong: not made for our public key (checked before any Diffie-Hellman). */
    BAD_MAC1,
    /** Under load without a valid mac2: answered with a cookie reply instead. */
    COOKIE_DEMANDED,
    /** Under load, and its address is over its handshake rate. */
    RATE_LIMITED,
    /** It did not decrypt (not for our static key, or tampered with). */
    HANDSHAKE_FAILED
}
