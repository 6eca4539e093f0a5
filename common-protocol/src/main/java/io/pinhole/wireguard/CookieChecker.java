package io.pinhole.wireguard;

import io.pinhole.crypto.Blake2s;
import io.pinhole.crypto.XChaCha20Poly1305;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * CookieChecker: the receiving side of WireGuard's DoS defence: checks mac1 of every handshake
 * message addressed to us (a message without a valid mac1 is dropped before any DH is done),
 * checks mac2 against the cookie of the sender's address while under load, and makes cookie
 * replies (64 bytes, smaller than any handshake message, so no amplification). The cookie
 * secret changes every {@link Protocol#COOKIE_REFRESH_TIME} (overwritten in place) and is zeroed
 * by {@link #wipe()}; each cookie computed from it is zeroed after use.
 *
 * <p>Not thread-safe: owned by one {@link WireGuardSession}.
 */
final class CookieChecker {
    private final Identity id;
    private final SecureRandom random;
    private final XChaCha20Poly1305 xaead = new XChaCha20Poly1305();
    private final byte[] secret = new byte[32];
    private long secretAt;
    private boolean haveSecret;

    CookieChecker(Identity id, SecureRandom random) {
        this.id = id;
        this.random = random;
    }

    /** True if mac1 at {@code mac1Offset} is right for our public key. */
    boolean mac1Valid(byte[] msg, int mac1Offset) {
        byte[] expected = Blake2s.mac(16, id.localMac1Key, Arrays.copyOfRange(msg, 0, mac1Offset));
        return MessageDigest.isEqual(expected, Arrays.copyOfRange(msg, mac1Offset, mac1Offset + 16));
    }

    /** True if mac2 (right after mac1) is right for the cookie of {@code source}. */
    boolean mac2Valid(byte[] msg, int mac1Offset, byte[] source, long now) {
        int mac2Offset = mac1Offset + 16;
        byte[] cookie = cookie(source, now);
        try {
            byte[] expected = Blake2s.mac(16, cookie, Arrays.copyOfRange(msg, 0, mac2Offset));
            return MessageDigest.isEqual(expected, Arrays.copyOfRange(msg, mac2Offset, mac2Offset + 16));
        } finally {
            Arrays.fill(cookie, (byte) 0);
        }
    }

    /** A cookie reply to {@code msg} (whose sender index is {@code senderIndex}) from {@code source}. */
    byte[] reply(byte[] msg, int mac1Offset, int senderIndex, byte[] source, long now) {
        byte[] reply = new byte[Messages.COOKIE_REPLY_LENGTH];
        reply[0] = Messages.TYPE_COOKIE_REPLY;
        Messages.writeIntLe(reply, Messages.COOKIE_RECEIVER, senderIndex);
        byte[] nonce = new byte[24];
        random.nextBytes(nonce);
        System.arraycopy(nonce, 0, reply, Messages.COOKIE_NONCE, 24);
        byte[] mac1 = Arrays.copyOfRange(msg, mac1Offset, mac1Offset + 16);
        byte[] cookie = cookie(source, now);
        try {
            xaead.seal(id.localCookieKey, nonce, cookie, 0, 16, mac1, reply, Messages.COOKIE_ENCRYPTED);
        } finally {
            Arrays.fill(cookie, (byte) 0);
        }
        return reply;
    }

    /** Zeroes the cookie secret; a new one is drawn if a cookie is needed again. */
    void wipe() {
        Arrays.fill(secret, (byte) 0);
        haveSecret = false;
    }

    private byte[] cookie(byte[] source, long now) {
        if (!haveSecret || now - secretAt >= Protocol.COOKIE_REFRESH_TIME.toNanos()) {
            random.nextBytes(secret);
            secretAt = now;
            haveSecret = true;
        }
        return Blake2s.mac(16, secret, source);
    }
}
