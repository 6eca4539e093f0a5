package io.pinhole.crypto;

import java.util.Arrays;
import java.util.Objects;

/**
 * HChaCha20: the subkey derivation of draft-irtf-cfrg-xchacha-03 section 2.2. The ChaCha20 state
 * is set up as usual (constants, 256-bit key) except that the 128-bit nonce fills words 12-15 (no
 * block counter); after the 20 ChaCha rounds (without the final feed-forward addition), words 0-3
 * and 12-15, little-endian, are the 32-byte subkey.
 *
 * <p>Stateless; thread-safe. Errors: a key that is not 32 bytes is an
 * {@link IllegalArgumentException}; offsets that leave fewer than 16 nonce bytes or 32 output
 * bytes are {@link IndexOutOfBoundsException}s; null arrays are {@link NullPointerException}s. The
 * working state is zeroed before returning.
 */
public final class HChaCha20 {
    /** Key length in bytes. */
    public static final int KEY_LENGTH = 32;
    /** Nonce length in bytes. */
    public static final int NONCE_LENGTH = 16;
    /** Output (subkey) length in bytes. */
    public static final int OUTPUT_LENGTH = 32;

    private HChaCha20() {
    }

    /** HChaCha20 of {@code key} and the 16-byte {@code nonce}, into a new 32-byte array. */
    public static byte[] subkey(byte[] key, byte[] nonce) {
        if (nonce.length != NONCE_LENGTH) {
            throw new IllegalArgumentException("HChaCha20 nonce must be 16 bytes, got " + nonce.length);
        }
        byte[] out = new byte[OUTPUT_LENGTH];
        subkey(key, nonce, 0, out, 0);
        return out;
    }

    /** HChaCha20 of {@code key} and {@code nonce[nonceOff .. nonceOff+16)}, written at {@code out[outOff]}. */
    public static void subkey(byte[] key, byte[] nonce, int nonceOff, byte[] out, int outOff) {
        if (key.length != KEY_LENGTH) {
            throw new IllegalArgumentException("HChaCha20 key must be 32 bytes, got " + key.length);
        }
        Objects.checkFromIndexSize(nonceOff, NONCE_LENGTH, nonce.length);
        Objects.checkFromIndexSize(outOff, OUTPUT_LENGTH, out.length);
        int[] x = new int[16];
        // "expand 32-byte k"
        x[0] = 0x61707865;
        x[1] = 0x3320646e;
        x[2] = 0x79622d32;
        x[3] = 0x6b206574;
        for (int i = 0; i < 8; i++) {
            x[4 + i] = le32(key, 4 * i);
        }
        for (int i = 0; i < 4; i++) {
            x[12 + i] = le32(nonce, nonceOff + 4 * i);
        }
        for (int round = 0; round < 10; round++) {
            // column round
            quarterRound(x, 0, 4, 8, 12);
            quarterRound(x, 1, 5, 9, 13);
            quarterRound(x, 2, 6, 10, 14);
            quarterRound(x, 3, 7, 11, 15);
            // diagonal round
            quarterRound(x, 0, 5, 10, 15);
            quarterRound(x, 1, 6, 11, 12);
            quarterRound(x, 2, 7, 8, 13);
            quarterRound(x, 3, 4, 9, 14);
        }
        for (int i = 0; i < 4; i++) {
            putLe32(x[i], out, outOff + 4 * i);
            putLe32(x[12 + i], out, outOff + 16 + 4 * i);
        }
        Arrays.fill(x, 0);
    }

    /** RFC 8439 section 2.1. */
    private static void quarterRound(int[] x, int a, int b, int c, int d) {
        x[a] += x[b];
        x[d] = Integer.rotateLeft(x[d] ^ x[a], 16);
        x[c] += x[d];
        x[b] = Integer.rotateLeft(x[b] ^ x[c], 12);
        x[a] += x[b];
        x[d] = Integer.rotateLeft(x[d] ^ x[a], 8);
        x[c] += x[d];
        x[b] = Integer.rotateLeft(x[b] ^ x[c], 7);
    }

    private static int le32(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    private static void putLe32(int v, byte[] b, int off) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }
}
