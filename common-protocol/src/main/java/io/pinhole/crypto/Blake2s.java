package io.pinhole.crypto;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Blake2s: the BLAKE2s hash function of RFC 7693, with a digest length of 1 to 32 bytes and an
 * optional key of 0 to 32 bytes (keyed BLAKE2s, the MAC that WireGuard calls {@code MAC}).
 * WireGuard's {@code HASH} is unkeyed BLAKE2s with a 32-byte digest: {@code hash(32, ...)}.
 *
 * <p>An instance is incremental: {@link #update(byte[], int, int)} any number of times, then
 * {@link #digest(byte[], int)}, which also resets the instance to its initial (keyed) state so it
 * can be used again; {@link #reset()} discards input without producing a digest. After
 * construction no method allocates, except the convenience {@link #digest()}.
 *
 * <p>Thread-safety: an instance is mutable and NOT thread-safe; confine it to one thread. The
 * static helpers {@link #hash} and {@link #mac} use a fresh instance per call and are safe from
 * any thread.
 *
 * <p>Errors: an out-of-range digest or key length is an {@link IllegalArgumentException}; an
 * offset/length outside an array is an {@link IndexOutOfBoundsException}; a null array is a
 * {@link NullPointerException} (a null key means "unkeyed"). Hashing itself cannot fail.
 */
public final class Blake2s {
    /** The largest (and WireGuard's {@code HASH}) digest length in bytes. */
    public static final int MAX_DIGEST_LENGTH = 32;
    /** The largest key length in bytes. */
    public static final int MAX_KEY_LENGTH = 32;
    /** The compression function's block length in bytes. */
    public static final int BLOCK_LENGTH = 64;

    private static final int[] IV = {
        0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
        0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
    };

    /** RFC 7693 section 2.7: the message word permutations of the ten rounds. */
    private static final byte[][] SIGMA = {
        {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
        {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
        {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
        {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
        {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
        {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
        {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
        {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
        {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
        {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    };

    private final int digestLength;
    private final int keyLength;
    /** The key zero-padded to a block (RFC 7693 section 3.3), or null when unkeyed. */
    private final byte[] keyBlock;

    private final int[] h = new int[8];
    private final int[] m = new int[16];
    private final int[] v = new int[16];
    private final byte[] buffer = new byte[BLOCK_LENGTH];
    private int bufferLength;
    /** Bytes compressed so far (RFC 7693's t, a 64-bit counter). */
    private long counter;

    /**
     * An unkeyed instance.
     *
     * @throws IllegalArgumentException unless {@code 1 <= digestLength <= 32}
     */
    public Blake2s(int digestLength) {
        this(digestLength, null);
    }

    /**
     * A keyed instance; {@code key} is copied. A null or empty key gives the unkeyed hash.
     *
     * @throws IllegalArgumentException unless {@code 1 <= digestLength <= 32} and the key has at most 32 bytes
     */
    public Blake2s(int digestLength, byte[] key) {
        if (digestLength < 1 || digestLength > MAX_DIGEST_LENGTH) {
            throw new IllegalArgumentException("BLAKE2s digest length must be 1..32, got " + digestLength);
        }
        int kl = key == null ? 0 : key.length;
        if (kl > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("BLAKE2s key length must be 0..32, got " + kl);
        }
        this.digestLength = digestLength;
        this.keyLength = kl;
        if (kl > 0) {
            keyBlock = new byte[BLOCK_LENGTH];
            System.arraycopy(key, 0, keyBlock, 0, kl);
        } else {
            keyBlock = null;
        }
        reset();
    }

    /**
     * One-shot unkeyed BLAKE2s of the concatenation of {@code parts}.
     *
     * @return a new array of {@code outLen} bytes
     * @throws IllegalArgumentException unless {@code 1 <= outLen <= 32}
     */
    public static byte[] hash(int outLen, byte[]... parts) {
        return mac(outLen, null, parts);
    }

    /**
     * One-shot keyed BLAKE2s of the concatenation of {@code parts} (WireGuard's {@code MAC} is
     * {@code mac(16, key, message)}).
     *
     * @return a new array of {@code outLen} bytes
     * @throws IllegalArgumentException unless {@code 1 <= outLen <= 32} and the key has at most 32 bytes
     */
    public static byte[] mac(int outLen, byte[] key, byte[]... parts) {
        Blake2s b = new Blake2s(outLen, key);
        for (byte[] part : parts) {
            b.update(part, 0, part.length);
        }
        byte[] out = new byte[outLen];
        b.digest(out, 0);
        b.wipeKey();
        return out;
    }

    /** The digest length in bytes that {@link #digest(byte[], int)} writes. */
    public int digestLength() {
        return digestLength;
    }

    /**
     * Returns to the initial state (with the key, if any), discarding all input so far; the
     * working words of the last compression (which held input words) are zeroed too.
     */
    public void reset() {
        Arrays.fill(m, 0);
        Arrays.fill(v, 0);
        System.arraycopy(IV, 0, h, 0, 8);
        h[0] ^= 0x01010000 ^ (keyLength << 8) ^ digestLength;
        counter = 0;
        if (keyBlock != null) {
            System.arraycopy(keyBlock, 0, buffer, 0, BLOCK_LENGTH);
            bufferLength = BLOCK_LENGTH;
        } else {
            Arrays.fill(buffer, (byte) 0);
            bufferLength = 0;
        }
    }

    /** Absorbs all of {@code in}. */
    public void update(byte[] in) {
        update(in, 0, in.length);
    }

    /** Absorbs {@code in[off .. off+len)}. */
    public void update(byte[] in, int off, int len) {
        Objects.checkFromIndexSize(off, len, in.length);
        while (len > 0) {
            if (bufferLength == BLOCK_LENGTH) {
                // Only now is it known that the buffered block is not the last one.
                counter += BLOCK_LENGTH;
                compress(buffer, 0, false);
                bufferLength = 0;
            }
            if (bufferLength == 0 && len > BLOCK_LENGTH) {
                // Whole blocks straight from the input, always keeping at least one byte back.
                counter += BLOCK_LENGTH;
                compress(in, off, false);
                off += BLOCK_LENGTH;
                len -= BLOCK_LENGTH;
                continue;
            }
            int n = Math.min(BLOCK_LENGTH - bufferLength, len);
            System.arraycopy(in, off, buffer, bufferLength, n);
            bufferLength += n;
            off += n;
            len -= n;
        }
    }

    /** Absorbs the remaining bytes of {@code in}, advancing its position to its limit. */
    public void update(ByteBuffer in) {
        if (in.hasArray()) {
            int len = in.remaining();
            update(in.array(), in.arrayOffset() + in.position(), len);
            in.position(in.position() + len);
            return;
        }
        while (in.hasRemaining()) {
            if (bufferLength == BLOCK_LENGTH) {
                counter += BLOCK_LENGTH;
                compress(buffer, 0, false);
                bufferLength = 0;
            }
            int n = Math.min(BLOCK_LENGTH - bufferLength, in.remaining());
            in.get(buffer, bufferLength, n);
            bufferLength += n;
        }
    }

    /**
     * Finishes the hash, writes {@link #digestLength()} bytes at {@code out[off]}, then resets
     * this instance for reuse with the same key and digest length.
     */
    public void digest(byte[] out, int off) {
        Objects.checkFromIndexSize(off, digestLength, out.length);
        counter += bufferLength;
        Arrays.fill(buffer, bufferLength, BLOCK_LENGTH, (byte) 0);
        compress(buffer, 0, true);
        for (int i = 0; i < digestLength; i++) {
            out[off + i] = (byte) (h[i >>> 2] >>> (8 * (i & 3)));
        }
        reset();
    }

    /** Finishes the hash into a new array (see {@link #digest(byte[], int)}). */
    public byte[] digest() {
        byte[] out = new byte[digestLength];
        digest(out, 0);
        return out;
    }

    /** Zeroes the copy of the key; used by the one-shot helpers, whose instance is then dropped. */
    private void wipeKey() {
        if (keyBlock != null) {
            Arrays.fill(keyBlock, (byte) 0);
        }
        Arrays.fill(buffer, (byte) 0);
        Arrays.fill(h, 0);
    }

    private void compress(byte[] block, int off, boolean last) {
        for (int i = 0; i < 16; i++) {
            int p = off + 4 * i;
            m[i] = (block[p] & 0xff) | (block[p + 1] & 0xff) << 8
                    | (block[p + 2] & 0xff) << 16 | (block[p + 3] & 0xff) << 24;
        }
        System.arraycopy(h, 0, v, 0, 8);
        System.arraycopy(IV, 0, v, 8, 8);
        v[12] ^= (int) counter;
        v[13] ^= (int) (counter >>> 32);
        if (last) {
            v[14] = ~v[14];
        }
        for (int r = 0; r < 10; r++) {
            byte[] s = SIGMA[r];
            g(0, 4, 8, 12, m[s[0]], m[s[1]]);
            g(1, 5, 9, 13, m[s[2]], m[s[3]]);
            g(2, 6, 10, 14, m[s[4]], m[s[5]]);
            g(3, 7, 11, 15, m[s[6]], m[s[7]]);
            g(0, 5, 10, 15, m[s[8]], m[s[9]]);
            g(1, 6, 11, 12, m[s[10]], m[s[11]]);
            g(2, 7, 8, 13, m[s[12]], m[s[13]]);
            g(3, 4, 9, 14, m[s[14]], m[s[15]]);
        }
        for (int i = 0; i < 8; i++) {
            h[i] ^= v[i] ^ v[i + 8];
        }
    }

    /** RFC 7693 section 3.1, with BLAKE2s's rotations 16, 12, 8 and 7. */
    private void g(int a, int b, int c, int d, int x, int y) {
        int[] w = v;
        w[a] = w[a] + w[b] + x;
        w[d] = Integer.rotateRight(w[d] ^ w[a], 16);
        w[c] = w[c] + w[d];
        w[b] = Integer.rotateRight(w[b] ^ w[c], 12);
        w[a] = w[a] + w[b] + y;
        w[d] = Integer.rotateRight(w[d] ^ w[a], 8);
        w[c] = w[c] + w[d];
        w[b] = Integer.rotateRight(w[b] ^ w[c], 7);
    }
}
