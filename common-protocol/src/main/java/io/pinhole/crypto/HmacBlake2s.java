package io.pinhole.crypto;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * HmacBlake2s: HMAC (RFC 2104) over unkeyed BLAKE2s-256 with BLAKE2s's 64-byte block, the
 * {@code HMAC} of the WireGuard whitepaper (used only inside its {@code KDF}). This is NOT keyed
 * BLAKE2s; for that (WireGuard's {@code MAC}) use {@link Blake2s#mac}.
 *
 * <p>Use: {@link #init(byte[])}, any number of {@code update} calls, then
 * {@link #doFinal(byte[], int)}, which leaves the instance initialised with the same key for the
 * next message. A key longer than 64 bytes is first hashed, as RFC 2104 says. After construction
 * no method allocates, except the one-shot {@link #mac}.
 *
 * <p>Thread-safety: an instance is mutable and NOT thread-safe; confine it to one thread. The
 * static {@link #mac} is safe from any thread.
 *
 * <p>Errors: {@code update}/{@code doFinal} before any {@code init} is an
 * {@link IllegalStateException}; bad offsets are {@link IndexOutOfBoundsException}s; null arrays
 * are {@link NullPointerException}s. {@link #destroy()} zeroes the key material held.
 */
public final class HmacBlake2s {
    /** The output length in bytes. */
    public static final int LENGTH = 32;

    private static final int BLOCK = Blake2s.BLOCK_LENGTH;

    private final Blake2s hash = new Blake2s(LENGTH);
    /** The key, hashed if long, zero-padded to a block: RFC 2104's K. */
    private final byte[] k0 = new byte[BLOCK];
    private final byte[] pad = new byte[BLOCK];
    private final byte[] inner = new byte[LENGTH];
    private boolean initialised;

    /** An instance with no key yet; call {@link #init(byte[])} before use. */
    public HmacBlake2s() {
    }

    /** {@code HMAC-BLAKE2s(key, concatenation of parts)} into a new 32-byte array. */
    public static byte[] mac(byte[] key, byte[]... parts) {
        HmacBlake2s hmac = new HmacBlake2s();
        hmac.init(key);
        for (byte[] part : parts) {
            hmac.update(part, 0, part.length);
        }
        byte[] out = new byte[LENGTH];
        hmac.doFinal(out, 0);
        hmac.destroy();
        return out;
    }

    /** Sets the key (any length; copied) and starts a new message. */
    public void init(byte[] key) {
        init(key, 0, key.length);
    }

    /** Sets the key {@code key[off .. off+len)} (copied) and starts a new message. */
    public void init(byte[] key, int off, int len) {
        Objects.checkFromIndexSize(off, len, key.length);
        if (len > BLOCK) {
            hash.reset();
            hash.update(key, off, len);
            Arrays.fill(k0, (byte) 0);
            hash.digest(k0, 0);
        } else {
            System.arraycopy(key, off, k0, 0, len);
            Arrays.fill(k0, len, BLOCK, (byte) 0);
        }
        initialised = true;
        startInner();
    }

    /** Absorbs all of {@code in}. */
    public void update(byte[] in) {
        update(in, 0, in.length);
    }

    /** Absorbs {@code in[off .. off+len)}. */
    public void update(byte[] in, int off, int len) {
        checkInitialised();
        hash.update(in, off, len);
    }

    /** Absorbs the remaining bytes of {@code in}, advancing its position to its limit. */
    public void update(ByteBuffer in) {
        checkInitialised();
        hash.update(in);
    }

    /**
     * Writes the 32-byte HMAC at {@code out[off]} and starts a new message with the same key.
     * {@code out} may alias the key array passed to {@code init}: the key was copied.
     */
    public void doFinal(byte[] out, int off) {
        checkInitialised();
        Objects.checkFromIndexSize(off, LENGTH, out.length);
        hash.digest(inner, 0);
        for (int i = 0; i < BLOCK; i++) {
            pad[i] = (byte) (k0[i] ^ 0x5c);
        }
        hash.update(pad, 0, BLOCK);
        hash.update(inner, 0, LENGTH);
        hash.digest(out, off);
        Arrays.fill(inner, (byte) 0);
        startInner();
    }

    /** Zeroes the key material held; {@link #init(byte[])} is needed before the next use. */
    public void destroy() {
        Arrays.fill(k0, (byte) 0);
        Arrays.fill(pad, (byte) 0);
        Arrays.fill(inner, (byte) 0);
        hash.reset();
        initialised = false;
    }

    private void startInner() {
        for (int i = 0; i < BLOCK; i++) {
            pad[i] = (byte) (k0[i] ^ 0x36);
        }
        hash.reset();
        hash.update(pad, 0, BLOCK);
        Arrays.fill(pad, (byte) 0);
    }

    private void checkInitialised() {
        if (!initialised) {
            throw new IllegalStateException("HmacBlake2s used before init(key)");
        }
    }
}
