package io.pinhole.wireguard;

import io.pinhole.crypto.Blake2s;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Protocol: constants fixed by the WireGuard specification (the whitepaper, section 5 and 6).
 * Implementation choices of pinhole live elsewhere ({@link SessionTimers}). Changing anything
 * here breaks interoperability.
 */
public final class Protocol {
    private Protocol() {
    }

    /** The Noise construction name. */
    public static final byte[] CONSTRUCTION = ascii("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s");
    /** WireGuard's identifier, mixed into the first hash. */
    public static final byte[] IDENTIFIER = ascii("WireGuard v1 zx2c4 Jason@zx2c4.com");
    /** Label of the mac1 key. */
    public static final byte[] LABEL_MAC1 = ascii("mac1----");
    /** Label of the cookie key. */
    public static final byte[] LABEL_COOKIE = ascii("cookie--");

    /** C0 = HASH(CONSTRUCTION). */
    static final byte[] INITIAL_CHAIN_KEY = Blake2s.hash(32, CONSTRUCTION);
    /** H0 = HASH(C0 || IDENTIFIER). */
    static final byte[] INITIAL_HASH = Blake2s.hash(32, INITIAL_CHAIN_KEY, IDENTIFIER);

    /** Rekey after this many messages sent with one keypair. */
    public static final long REKEY_AFTER_MESSAGES = 1L << 60;
    /** Refuse to send or receive with a keypair after this many messages (2^64 - 2^13 - 1, unsigned). */
    public static final long REJECT_AFTER_MESSAGES = -(1L << 13) - 1;
    /** The initiator rekeys a keypair this old. */
    public static final Duration REKEY_AFTER_TIME = Duration.ofSeconds(120);
    /** A keypair this old is never used. */
    public static final Duration REJECT_AFTER_TIME = Duration.ofSeconds(180);
    /** Give up a handshake attempt after this long. */
    public static final Duration REKEY_ATTEMPT_TIME = Duration.ofSeconds(90);
    /** Retry an unanswered handshake initiation after this long (plus jitter). */
    public static final Duration REKEY_TIMEOUT = Duration.ofSeconds(5);
    /** Up to this much jitter is added to REKEY_TIMEOUT. */
    public static final Duration REKEY_TIMEOUT_JITTER_MAX = Duration.ofMillis(333);
    /** Passive keepalive after receiving without sending for this long. */
    public static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(10);
    /** A cookie is good for this long; the responder's cookie secret changes this often. */
    public static final Duration COOKIE_REFRESH_TIME = Duration.ofSeconds(120);
    /** A responder processes at most one initiation per peer in this interval (flood guard). */
    public static final Duration HANDSHAKE_INITIATION_RATE = Duration.ofMillis(20);

    /** Transport payloads are zero-padded to a multiple of this. */
    public static final int PADDING_MULTIPLE = 16;

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
