package io.pinhole.crypto;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.util.Objects;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.IvParameterSpec;

/**
 * ChaCha20Poly1305: the AEAD of RFC 8439 (the JDK's {@code "ChaCha20-Poly1305"} Cipher) with
 * WireGuard's nonce layout, 32 zero bits followed by the 64-bit counter in little-endian order
 * ({@link #wireGuardNonce}). The sealed form is the ciphertext followed by the 16-byte tag, as in
 * WireGuard's {@code AEAD(key, counter, plaintext, authtext)}. The {@code ...WithNonce} methods
 * take a raw 12-byte nonce instead (for test vectors and {@link XChaCha20Poly1305}).
 *
 * <p>Buffers: the array forms read {@code in[inOff .. inOff+inLen)} and write at
 * {@code out[outOff]}; they may work in place ({@code in == out} and {@code inOff == outOff});
 * other overlaps are not supported. The {@link ByteBuffer} forms read {@code in}'s remaining bytes
 * and write at {@code out}'s position, advancing both; {@code in} and {@code out} may be views of
 * the same memory at the same position. Associated data {@code aad} may be null (empty).
 *
 * <p>Thread-safety: an instance owns one JDK {@link Cipher}, which is not thread-safe, so an
 * instance is NOT thread-safe: confine each instance to one thread (e.g. one per worker thread, or
 * a {@link ThreadLocal}). Nothing is shared between instances.
 *
 * <p>Nonce reuse: the JDK refuses to initialise a Cipher with the key and nonce of its previous
 * initialisation. For {@code seal} that is a genuine nonce reuse and is reported as an
 * {@link IllegalStateException} (WireGuard never repeats a counter under one key; this check only
 * sees the immediately previous call, so it is a safety net, not a guarantee). For {@code open}
 * a repeat is harmless (a forged packet followed by the genuine one with the same counter), so
 * this class steps around the JDK's check and opens normally.
 *
 * <p>Errors: a key that is not 32 bytes or a raw nonce that is not 12 bytes is an
 * {@link IllegalArgumentException}; offsets outside an array or an output region too small is an
 * {@link IndexOutOfBoundsException} (for buffers: {@link IllegalArgumentException}); a null
 * key/nonce/data array is a {@link NullPointerException}. {@code open} throws
 * {@link AuthenticationFailedException} when the tag does not verify or the input is shorter than
 * a tag; then nothing has been written to the output (and a buffer's position is unchanged), so
 * unauthenticated plaintext is never released. Each call allocates a small JDK object (the nonce
 * spec).
 *
 * <p>Key copies: the key is handed to the JDK through a reusable view of the caller's array (not a
 * {@link javax.crypto.spec.SecretKeySpec}, which would keep a clone per call that cannot be zeroed:
 * its {@code destroy()} throws {@code DestroyFailedException} on JDK 17 and 25). The JDK's Cipher
 * takes one copy of the key at each init and zeroes the previous copy when it is initialised again
 * (observed on JDK 17.0.15 and 25.0.3); {@link #clearKey()} does that with an all-zero key, so the
 * last real key does not stay in the Cipher. Other JDK-internal state derived from the key (the
 * ChaCha20 state words) is out of reach and is only overwritten by the next init. The caller's
 * key array is the caller's to zero.
 */
public final class ChaCha20Poly1305 {
    /** Key length in bytes. */
    public static final int KEY_LENGTH = 32;
    /** Raw nonce length in bytes. */
    public static final int NONCE_LENGTH = 12;
    /** Poly1305 tag length in bytes; a sealed message is this much longer than its plaintext. */
    public static final int TAG_LENGTH = 16;

    private static final String FAILED = "ChaCha20-Poly1305 authentication failed";

    private static final byte[] ZERO_KEY = new byte[KEY_LENGTH];

    private final Cipher cipher;
    private final RawKey rawKey = new RawKey();
    private final byte[] nonce = new byte[NONCE_LENGTH];
    private final byte[] detourNonce = new byte[NONCE_LENGTH];

    /**
     * A new instance with its own JDK Cipher.
     *
     * @throws IllegalStateException if the JDK offers no ChaCha20-Poly1305 (it always does from Java 11)
     */
    public ChaCha20Poly1305() {
        try {
            cipher = Cipher.getInstance("ChaCha20-Poly1305");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK offers no ChaCha20-Poly1305 Cipher", e);
        }
    }

    /**
     * Writes WireGuard's 12-byte nonce for {@code counter} (taken as unsigned 64-bit) at
     * {@code out[off]}: four zero bytes, then the counter little-endian.
     */
    public static void wireGuardNonce(long counter, byte[] out, int off) {
        Objects.checkFromIndexSize(off, NONCE_LENGTH, out.length);
        out[off] = 0;
        out[off + 1] = 0;
        out[off + 2] = 0;
        out[off + 3] = 0;
        for (int i = 0; i < 8; i++) {
            out[off + 4 + i] = (byte) (counter >>> (8 * i));
        }
    }

    /**
     * Seals {@code in[inOff .. inOff+inLen)} under {@code key} and WireGuard counter
     * {@code counter}, writing {@code inLen + 16} bytes (ciphertext then tag) at {@code out[outOff]}.
     *
     * @return the number of bytes written, {@code inLen + 16}
     */
    public int seal(byte[] key, long counter, byte[] in, int inOff, int inLen, byte[] aad, byte[] out, int outOff) {
        wireGuardNonce(counter, nonce, 0);
        return sealWithNonce(key, nonce, in, inOff, inLen, aad, out, outOff);
    }

    /**
     * Opens the sealed {@code in[inOff .. inOff+inLen)} (ciphertext then tag) under {@code key} and
     * WireGuard counter {@code counter}, writing {@code inLen - 16} plaintext bytes at
     * {@code out[outOff]} only if the tag verifies.
     *
     * @return the number of plaintext bytes written, {@code inLen - 16}
     * @throws AuthenticationFailedException if the tag does not verify or {@code inLen < 16}; nothing is written
     */
    public int open(byte[] key, long counter, byte[] in, int inOff, int inLen, byte[] aad, byte[] out, int outOff)
            throws AuthenticationFailedException {
        wireGuardNonce(counter, nonce, 0);
        return openWithNonce(key, nonce, in, inOff, inLen, aad, out, outOff);
    }

    /** Seals {@code plaintext} under WireGuard counter {@code counter} into a new array (ciphertext then tag). */
    public byte[] seal(byte[] key, long counter, byte[] plaintext, byte[] aad) {
        wireGuardNonce(counter, nonce, 0);
        return sealWithNonce(key, nonce, plaintext, aad);
    }

    /**
     * Opens {@code sealed} (ciphertext then tag) under WireGuard counter {@code counter} into a new array.
     *
     * @throws AuthenticationFailedException if the tag does not verify or {@code sealed} is shorter than a tag
     */
    public byte[] open(byte[] key, long counter, byte[] sealed, byte[] aad) throws AuthenticationFailedException {
        wireGuardNonce(counter, nonce, 0);
        return openWithNonce(key, nonce, sealed, aad);
    }

    /**
     * Seals {@code in}'s remaining bytes under WireGuard counter {@code counter}, writing ciphertext
     * then tag at {@code out}'s position; advances {@code in} to its limit and {@code out} past the
     * bytes written.
     *
     * @return the number of bytes written, {@code in.remaining() + 16}
     * @throws IllegalArgumentException if {@code out} has fewer than that many bytes remaining
     */
    public int seal(byte[] key, long counter, ByteBuffer in, byte[] aad, ByteBuffer out) {
        checkKey(key);
        int len = in.remaining();
        if (out.remaining() < len + TAG_LENGTH) {
            throw new IllegalArgumentException("output has " + out.remaining() + " bytes left, "
                    + (len + TAG_LENGTH) + " needed");
        }
        wireGuardNonce(counter, nonce, 0);
        initEncrypt(key, nonce);
        addAad(aad);
        try {
            return cipher.doFinal(in, out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 seal failed: " + e.getMessage(), e);
        }
    }

    /**
     * Opens {@code in}'s remaining bytes (ciphertext then tag) under WireGuard counter
     * {@code counter}, writing the plaintext at {@code out}'s position only if the tag verifies;
     * then advances {@code in} to its limit and {@code out} past the bytes written.
     *
     * @return the number of plaintext bytes written, {@code in.remaining() - 16}
     * @throws AuthenticationFailedException if the tag does not verify or fewer than 16 bytes remain;
     *     nothing is written and neither position changes
     * @throws IllegalArgumentException if {@code out} has too few bytes remaining
     */
    public int open(byte[] key, long counter, ByteBuffer in, byte[] aad, ByteBuffer out)
            throws AuthenticationFailedException {
        checkKey(key);
        int len = in.remaining();
        if (len < TAG_LENGTH) {
            throw new AuthenticationFailedException(FAILED);
        }
        if (out.remaining() < len - TAG_LENGTH) {
            throw new IllegalArgumentException("output has " + out.remaining() + " bytes left, "
                    + (len - TAG_LENGTH) + " needed");
        }
        wireGuardNonce(counter, nonce, 0);
        initDecrypt(key, nonce);
        addAad(aad);
        int inPosition = in.position();
        int outPosition = out.position();
        try {
            return cipher.doFinal(in, out);
        } catch (AEADBadTagException e) {
            in.position(inPosition);
            out.position(outPosition);
            throw new AuthenticationFailedException(FAILED);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 open failed: " + e.getMessage(), e);
        }
    }

    /**
     * Seals with a raw 12-byte {@code nonce} (RFC 8439's layout: 4-byte constant then 8-byte IV),
     * writing {@code inLen + 16} bytes at {@code out[outOff]}.
     *
     * @return the number of bytes written, {@code inLen + 16}
     */
    public int sealWithNonce(byte[] key, byte[] nonce, byte[] in, int inOff, int inLen, byte[] aad,
            byte[] out, int outOff) {
        checkKey(key);
        checkNonce(nonce);
        Objects.checkFromIndexSize(inOff, inLen, in.length);
        Objects.checkFromIndexSize(outOff, inLen + TAG_LENGTH, out.length);
        initEncrypt(key, nonce);
        addAad(aad);
        try {
            return cipher.doFinal(in, inOff, inLen, out, outOff);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 seal failed: " + e.getMessage(), e);
        }
    }

    /**
     * Opens with a raw 12-byte {@code nonce}, writing {@code inLen - 16} plaintext bytes at
     * {@code out[outOff]} only if the tag verifies.
     *
     * @return the number of plaintext bytes written, {@code inLen - 16}
     * @throws AuthenticationFailedException if the tag does not verify or {@code inLen < 16}; nothing is written
     */
    public int openWithNonce(byte[] key, byte[] nonce, byte[] in, int inOff, int inLen, byte[] aad,
            byte[] out, int outOff) throws AuthenticationFailedException {
        checkKey(key);
        checkNonce(nonce);
        Objects.checkFromIndexSize(inOff, inLen, in.length);
        if (inLen < TAG_LENGTH) {
            throw new AuthenticationFailedException(FAILED);
        }
        Objects.checkFromIndexSize(outOff, inLen - TAG_LENGTH, out.length);
        initDecrypt(key, nonce);
        addAad(aad);
        try {
            return cipher.doFinal(in, inOff, inLen, out, outOff);
        } catch (AEADBadTagException e) {
            throw new AuthenticationFailedException(FAILED);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 open failed: " + e.getMessage(), e);
        }
    }

    /** Seals {@code plaintext} with a raw 12-byte {@code nonce} into a new array (ciphertext then tag). */
    public byte[] sealWithNonce(byte[] key, byte[] nonce, byte[] plaintext, byte[] aad) {
        byte[] out = new byte[plaintext.length + TAG_LENGTH];
        sealWithNonce(key, nonce, plaintext, 0, plaintext.length, aad, out, 0);
        return out;
    }

    /**
     * Opens {@code sealed} (ciphertext then tag) with a raw 12-byte {@code nonce} into a new array.
     *
     * @throws AuthenticationFailedException if the tag does not verify or {@code sealed} is shorter than a tag
     */
    public byte[] openWithNonce(byte[] key, byte[] nonce, byte[] sealed, byte[] aad)
            throws AuthenticationFailedException {
        if (sealed.length < TAG_LENGTH) {
            throw new AuthenticationFailedException(FAILED);
        }
        byte[] out = new byte[sealed.length - TAG_LENGTH];
        openWithNonce(key, nonce, sealed, 0, sealed.length, aad, out, 0);
        return out;
    }

    /**
     * Initialises the JDK Cipher with an all-zero key, which makes it zero its copy of the last key
     * it was given (see the class comment). For when that key is dropped; the next seal or open
     * works as usual.
     */
    public void clearKey() {
        initDecrypt(ZERO_KEY, nonce);
    }

    private void initEncrypt(byte[] key, byte[] iv) {
        rawKey.key = key;
        try {
            cipher.init(Cipher.ENCRYPT_MODE, rawKey, new IvParameterSpec(iv));
        } catch (InvalidKeyException e) {
            // The key's length was checked, so this is the JDK's same-key-and-nonce refusal.
            throw new IllegalStateException("refusing to seal twice under the same key and nonce", e);
        } catch (InvalidAlgorithmParameterException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 rejected the nonce: " + e.getMessage(), e);
        } finally {
            rawKey.key = null;
        }
    }

    private void initDecrypt(byte[] key, byte[] iv) {
        rawKey.key = key;
        try {
            try {
                cipher.init(Cipher.DECRYPT_MODE, rawKey, new IvParameterSpec(iv));
            } catch (InvalidKeyException sameKeyAndNonce) {
                // The JDK (17) refuses any re-init with the previous key and nonce, even to decrypt.
                // Opening twice is harmless, so pass through another nonce first and retry.
                System.arraycopy(iv, 0, detourNonce, 0, NONCE_LENGTH);
                detourNonce[0] ^= 1;
                cipher.init(Cipher.DECRYPT_MODE, rawKey, new IvParameterSpec(detourNonce));
                cipher.init(Cipher.DECRYPT_MODE, rawKey, new IvParameterSpec(iv));
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ChaCha20-Poly1305 init failed: " + e.getMessage(), e);
        } finally {
            rawKey.key = null;
        }
    }

    /**
     * A RAW ChaCha20 key that is a view of the caller's array during one init: the Cipher takes its
     * copy through {@link #getEncoded()}, so no key object with a clone of its own is left behind.
     * Never serialised (the array is transient).
     */
    private static final class RawKey implements SecretKey {
        private static final long serialVersionUID = 1L;
        private transient byte[] key;

        @Override
        public String getAlgorithm() {
            return "ChaCha20";
        }

        @Override
        public String getFormat() {
            return "RAW";
        }

        @Override
        public byte[] getEncoded() {
            return key == null ? null : key.clone();
        }
    }

    private void addAad(byte[] aad) {
        if (aad != null && aad.length > 0) {
            cipher.updateAAD(aad);
        }
    }

    private static void checkKey(byte[] key) {
        if (key.length != KEY_LENGTH) {
            throw new IllegalArgumentException("ChaCha20-Poly1305 key must be 32 bytes, got " + key.length);
        }
    }

    private static void checkNonce(byte[] nonce) {
        if (nonce.length != NONCE_LENGTH) {
            throw new IllegalArgumentException("ChaCha20-Poly1305 nonce must be 12 bytes, got " + nonce.length);
        }
    }
}
