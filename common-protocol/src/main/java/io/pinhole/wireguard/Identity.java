package io.pinhole.wireguard;

import io.pinhole.crypto.Blake2s;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import java.util.Arrays;

/**
 * Identity: the static keys of one side of a WireGuard session and everything derived from
 * them once: our keys, the peer's public key, the static-static DH, the pre-shared key, and the
 * mac1/cookie keys for each direction. Not changed after construction except by
 * {@link #wipeSecrets()}; thread-safe to read.
 *
 * <p>Ownership: the static-static DH and the copy of the pre-shared key are this object's and are
 * zeroed by {@link #wipeSecrets()} (at {@link WireGuardSession#close()}, so an Identity serves one
 * session only). The static private key
 * is only referred to: whoever made it (the key file's reader) owns it and destroys it
 * ({@link NoisePrivateKey#destroy()}) when nothing needs it any more. The mac1 and cookie keys are
 * hashes of public keys, not secrets.
 */
public final class Identity {
    final NoisePrivateKey localPrivate;
    final NoisePublicKey localPublic;
    final NoisePublicKey remotePublic;
    final byte[] remotePublicBytes;
    final byte[] localPublicBytes;
    /** DH(local static, remote static). */
    final byte[] staticStatic;
    /** Q: 32 zero bytes without a pre-shared key. */
    final byte[] presharedKey;
    /** HASH(LABEL_MAC1 || remote public): mac1 key for messages we send. */
    final byte[] remoteMac1Key;
    /** HASH(LABEL_COOKIE || remote public): decrypts cookies the peer sends us. */
    final byte[] remoteCookieKey;
    /** HASH(LABEL_MAC1 || local public): checks mac1 of messages we receive. */
    final byte[] localMac1Key;
    /** HASH(LABEL_COOKIE || local public): encrypts cookies we send. */
    final byte[] localCookieKey;

    /**
     * @param presharedKey 32 bytes, or null for none
     * @throws IllegalArgumentException if the static-static DH is all zero (a low-order peer key)
     */
    public Identity(NoisePrivateKey localPrivate, NoisePublicKey remotePublic, byte[] presharedKey) {
        this.localPrivate = localPrivate;
        this.localPublic = localPrivate.publicKey();
        this.remotePublic = remotePublic;
        this.localPublicBytes = localPublic.toBytes();
        this.remotePublicBytes = remotePublic.toBytes();
        if (presharedKey != null && presharedKey.length != 32) {
            throw new IllegalArgumentException("pre-shared key must be 32 bytes");
        }
        this.staticStatic = localPrivate.sharedSecret(remotePublic);
        this.presharedKey = presharedKey == null ? new byte[32] : presharedKey.clone();
        this.remoteMac1Key = Blake2s.hash(32, Protocol.LABEL_MAC1, remotePublicBytes);
        this.remoteCookieKey = Blake2s.hash(32, Protocol.LABEL_COOKIE, remotePublicBytes);
        this.localMac1Key = Blake2s.hash(32, Protocol.LABEL_MAC1, localPublicBytes);
        this.localCookieKey = Blake2s.hash(32, Protocol.LABEL_COOKIE, localPublicBytes);
    }

    /**
     * Zeroes the static-static DH and this object's copy of the pre-shared key. Idempotent. Only
     * for a session that is closed and refuses all further use (a handshake with these would run
     * with all-zero secrets). The static private key is not touched (see the class comment).
     */
    void wipeSecrets() {
        Arrays.fill(staticStatic, (byte) 0);
        Arrays.fill(presharedKey, (byte) 0);
    }

    public NoisePublicKey localPublic() {
        return localPublic;
    }

    public NoisePublicKey remotePublic() {
        return remotePublic;
    }

    /** True when our public key sorts before the peer's: we initiate when a new path comes up. */
    public boolean initiatesOnNewPath() {
        return Arrays.compareUnsigned(localPublicBytes, remotePublicBytes) < 0;
    }
}
