package io.pinhole.crypto;

import java.util.Arrays;
import java.util.Objects;

/**
 * XChaCha20Poly1305: AEAD_XChaCha20_Poly1305 of draft-irtf-cfrg-xchacha-03 with a 24-byte nonce,
 * WireGuard's {@code XAEAD} (used for cookie replies): the subkey is
 * {@code HChaCha20(key, nonce[0..16))} and the message is sealed with RFC 8439 ChaCha20-Poly1305
 * under that subkey and the 12-byte nonce {@code 00000000 || nonce[16..24)}. The sealed form is
 * the ciphertext followed by the 16-byte tag.
 *
 * <p>Buffers work as in {@link ChaCha20Poly1305}: in place is allowed with equal offsets; other
 * overlaps are not. {@code aad} may be null (empty).
 *
 * <p>Thread-safety: an instance owns a {@link ChaCha20Poly1305} (hence a JDK Cipher) and scratch
 * space, so it is NOT thread-safe; confine each instance to one thread.
 *
 * <p>Errors: a key that is not 32 bytes or a nonce that is not 24 bytes is an
 * {@link IllegalArgumentException}; bad offsets or a too-small output are
 * {@link IndexOutOfBoundsException}s; null arrays are {@link NullPointerException}s. {@code open}
 * throws {@link AuthenticationFailedException} (nothing written) when the tag does not verify or
 * the input is shorter than a tag. Sealing twice with the same key and nonce in a row is refused
 * with an {@link IllegalStateException}. The subkey is zeroed after each call.
 */
public final class XChaCha20Poly1305 {
    /** Key length in bytes. */
    public static final int KEY_LENGTH = 32;
    /** Nonce length in bytes. */
    public static final int NONCE_LENGTH = 24;
    /** Tag length in bytes. */
    public static final int TAG_LENGTH = ChaCha20Poly1305.TAG_LENGTH;

    private final ChaCha20Poly1305 aead = new ChaCha20Poly1305();
    private final byte[] subkey = new byte[HChaCha20.OUTPUT_LENGTH];
    private final byte[] chachaNonce = new byte[ChaCha20Poly1305.NONCE_LENGTH];

    /** A new instance with its own JDK Cipher. */
    public XChaCha20Poly1305() {
    }

    /**
     * Seals {@code in[inOff .. inOff+inLen)}, writing {@code inLen + 16} bytes (ciphertext then
     * tag) at {@code out[outOff]}.
     *
     * @return the number of bytes written
     */
    public int seal(byte[] key, byte[] nonce, byte[] in, int inOff, int inLen, byte[] aad, byte[] out, int outOff) {
        derive(key, nonce);
        try {
            return aead.sealWithNonce(subkey, chachaNonce, in, inOff, inLen, aad, out, outOff);
        } finally {
            Arrays.fill(subkey, (byte) 0);
        }
    }

    /**
     * Opens {@code in[inOff .. inOff+inLen)} (ciphertext then tag), writing {@code inLen - 16}
     * plaintext bytes at {@code out[outOff]} only if the tag verifies.
     *
     * @return the number of plaintext bytes written
     * @throws AuthenticationFailedException if the tag does not verify or {@code inLen < 16}; nothing is written
     */
    public int open(byte[] key, byte[] nonce, byte[] in, int inOff, int inLen, byte[] aad, byte[] out, int outOff)
            throws AuthenticationFailedException {
        derive(key, nonce);
        try {
            return aead.openWithNonce(subkey, chachaNonce, in, inOff, inLen, aad, out, outOff);
        } finally {
            Arrays.fill(subkey, (byte) 0);
        }
    }

    /** Seals {@code plaintext} into a new array (ciphertext then tag). */
    public byte[] seal(byte[] key, byte[] nonce, byte[] plaintext, byte[] aad) {
        byte[] out = new byte[plaintext.length + TAG_LENGTH];
        seal(key, nonce, plaintext, 0, plaintext.length, aad, out, 0);
        return out;
    }

    /**
     * Opens {@code sealed} (ciphertext then tag) into a new array.
     *
     * @throws AuthenticationFailedException if the tag does not verify or {@code sealed} is shorter than a tag
     */
    public byte[] open(byte[] key, byte[] nonce, byte[] sealed, byte[] aad) throws AuthenticationFailedException {
        if (sealed.length < TAG_LENGTH) {
            throw new AuthenticationFailedException("XChaCha20-Poly1305 authentication failed");
        }
        byte[] out = new byte[sealed.length - TAG_LENGTH];
        open(key, nonce, sealed, 0, sealed.length, aad, out, 0);
        return out;
    }

    private void derive(byte[] key, byte[] nonce) {
        Objects.requireNonNull(key, "key");
        if (nonce.length != NONCE_LENGTH) {
            throw new IllegalArgumentException("XChaCha20-Poly1305 nonce must be 24 bytes, got " + nonce.length);
        }
        HChaCha20.subkey(key, nonce, 0, subkey, 0);
        Arrays.fill(chachaNonce, 0, 4, (byte) 0);
        System.arraycopy(nonce, 16, chachaNonce, 4, 8);
    }
}
