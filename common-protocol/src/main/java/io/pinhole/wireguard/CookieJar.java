package io.pinhole.wireguard;

import io.pinhole.crypto.AuthenticationFailedException;
import io.pinhole.crypto.Blake2s;
import io.pinhole.crypto.XChaCha20Poly1305;
import java.util.Arrays;

/**
 * CookieJar: the sending side of WireGuard's DoS defence for one peer: it puts mac1 (always) and
 * mac2 (while we hold a fresh cookie from the peer) on our handshake messages, and takes in the
 * peer's cookie replies. The cookie held (a secret: it makes mac2) is zeroed when a newer one
 * replaces it and by {@link #wipe()}. Not thread-safe: owned by one {@link WireGuardSession}.
 */
final class CookieJar {
    private final Identity id;
    private final XChaCha20Poly1305 xaead = new XChaCha20Poly1305();
    private final byte[] lastMac1 = new byte[Messages.MAC_LENGTH];
    private boolean sentAny;
    private byte[] cookie;
    private long cookieAt;

    CookieJar(Identity id) {
        this.id = id;
    }

    /** Writes mac1 at {@code mac1Offset} and mac2 right after it. */
    void addMacs(byte[] msg, int mac1Offset, long now) {
        byte[] mac1 = Blake2s.mac(16, id.remoteMac1Key, Arrays.copyOfRange(msg, 0, mac1Offset));
        System.arraycopy(mac1, 0, msg, mac1Offset, 16);
        System.arraycopy(mac1, 0, lastMac1, 0, 16);
        sentAny = true;
        int mac2Offset = mac1Offset + 16;
        if (cookie != null && now - cookieAt < Protocol.COOKIE_REFRESH_TIME.toNanos()) {
            byte[] mac2 = Blake2s.mac(16, cookie, Arrays.copyOfRange(msg, 0, mac2Offset));
            System.arraycopy(mac2, 0, msg, mac2Offset, 16);
        } else {
            Arrays.fill(msg, mac2Offset, mac2Offset + 16, (byte) 0);
        }
    }

    /** Takes a cookie reply to our last handshake message; false if it does not authenticate. */
    boolean consumeReply(byte[] reply, long now) {
        if (!sentAny) {
            return false;
        }
        byte[] nonce = Arrays.copyOfRange(reply, Messages.COOKIE_NONCE, Messages.COOKIE_NONCE + 24);
        byte[] value = new byte[16];
        try {
            xaead.open(id.remoteCookieKey, nonce, reply, Messages.COOKIE_ENCRYPTED, 32, lastMac1, value, 0);
        } catch (AuthenticationFailedException e) {
            return false;
        }
        wipe();
        cookie = value;
        cookieAt = now;
        return true;
    }

    /** Zeroes and forgets the cookie held, if any (mac2 is then left zero until a new one comes). */
    void wipe() {
        if (cookie != null) {
            Arrays.fill(cookie, (byte) 0);
            cookie = null;
        }
    }
}
