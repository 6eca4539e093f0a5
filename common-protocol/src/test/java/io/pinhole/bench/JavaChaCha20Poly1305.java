package io.pinhole.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * JavaChaCha20Poly1305: a plain-Java RFC 8439 AEAD, written for {@link AeadBench} only, to put a
 * number on what a pinhole-owned implementation would cost (issue 10): the key is set once per
 * keypair ({@link #setKey}), the nonce is WireGuard's (a 64-bit counter), seal and open work in
 * place in a heap array and allocate nothing. Scalar ChaCha20 (one block at a time) and Poly1305
 * in 26-bit limbs. Not for production: no RFC vector suite or fuzzing beyond the bench's own
 * comparison with the JDK's Cipher ({@link AeadBench} refuses to run if they disagree), no
 * zeroing of state. Not thread-safe.
 */
final class JavaChaCha20Poly1305 {
    static final int TAG_LENGTH = 16;
    private static final VarHandle LE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long M26 = 0x3ffffff;

    private final int[] key = new int[8];
    private final int[] block = new int[16];
    private final byte[] polyKey = new byte[32];
    private final byte[] lengths = new byte[16];
    private final byte[] tagScratch = new byte[16];
    private final byte[] last = new byte[16];
    private final long[] hState = new long[5];

    void setKey(byte[] k) {
        for (int i = 0; i < 8; i++) {
            key[i] = (int) LE32.get(k, 4 * i);
        }
    }

    /** Seals {@code buf[off .. off+len)} in place and writes the tag after it; returns len + 16. */
    int seal(long counter, byte[] aad, byte[] buf, int off, int len) {
        chachaBlock(counter, 0);
        keyFromBlock();
        xorStream(counter, buf, off, len);
        tag(aad, buf, off, len, buf, off + len);
        return len + TAG_LENGTH;
    }

    /** Opens {@code buf[off .. off+len)} (ciphertext then tag) in place if the tag verifies; returns len - 16 or -1. */
    int open(long counter, byte[] aad, byte[] buf, int off, int len) {
        int n = len - TAG_LENGTH;
        if (n < 0) {
            return -1;
        }
        chachaBlock(counter, 0);
        keyFromBlock();
        if (tagDiffers(aad, buf, off, n)) {
            return -1;
        }
        xorStream(counter, buf, off, n);
        return n;
    }

    /** Whether the tag after {@code buf[off .. off+n)} differs from the computed one (in constant time). */
    private boolean tagDiffers(byte[] aad, byte[] buf, int off, int n) {
        tag(aad, buf, off, n, tagScratch, 0);
        int diff = 0;
        for (int i = 0; i < TAG_LENGTH; i++) {
            diff |= tagScratch[i] ^ buf[off + n + i];
        }
        return diff != 0;
    }

    private void keyFromBlock() {
        for (int i = 0; i < 8; i++) {
            LE32.set(polyKey, 4 * i, block[i]);
        }
    }

    private void xorStream(long counter, byte[] buf, int off, int len) {
        int blockCounter = 1;
        int p = off;
        int end = off + len;
        while (p < end) {
            chachaBlock(counter, blockCounter++);
            if (end - p >= 64) {
                for (int i = 0; i < 16; i++) {
                    int at = p + 4 * i;
                    LE32.set(buf, at, (int) LE32.get(buf, at) ^ block[i]);
                }
                p += 64;
            } else {
                for (int i = 0; p < end; i++, p++) {
                    buf[p] ^= (byte) (block[i >>> 2] >>> (8 * (i & 3)));
                }
            }
        }
    }

    /** The ChaCha20 block for WireGuard nonce {@code counter} and block counter {@code n}, into {@link #block}. */
    private void chachaBlock(long counter, int n) {
        int k0 = key[0], k1 = key[1], k2 = key[2], k3 = key[3], k4 = key[4], k5 = key[5], k6 = key[6], k7 = key[7];
        int n1 = (int) counter, n2 = (int) (counter >>> 32);
        int x0 = 0x61707865, x1 = 0x3320646e, x2 = 0x79622d32, x3 = 0x6b206574;
        int x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7;
        int x12 = n, x13 = 0, x14 = n1, x15 = n2;
        for (int i = 0; i < 10; i++) {
            x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 16); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 12);
            x0 += x4; x12 = Integer.rotateLeft(x12 ^ x0, 8); x8 += x12; x4 = Integer.rotateLeft(x4 ^ x8, 7);
            x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 16); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 12);
            x1 += x5; x13 = Integer.rotateLeft(x13 ^ x1, 8); x9 += x13; x5 = Integer.rotateLeft(x5 ^ x9, 7);
            x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 16); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 12);
            x2 += x6; x14 = Integer.rotateLeft(x14 ^ x2, 8); x10 += x14; x6 = Integer.rotateLeft(x6 ^ x10, 7);
            x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 16); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 12);
            x3 += x7; x15 = Integer.rotateLeft(x15 ^ x3, 8); x11 += x15; x7 = Integer.rotateLeft(x7 ^ x11, 7);
            x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 16); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 12);
            x0 += x5; x15 = Integer.rotateLeft(x15 ^ x0, 8); x10 += x15; x5 = Integer.rotateLeft(x5 ^ x10, 7);
            x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 16); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 12);
            x1 += x6; x12 = Integer.rotateLeft(x12 ^ x1, 8); x11 += x12; x6 = Integer.rotateLeft(x6 ^ x11, 7);
            x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 16); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 12);
            x2 += x7; x13 = Integer.rotateLeft(x13 ^ x2, 8); x8 += x13; x7 = Integer.rotateLeft(x7 ^ x8, 7);
            x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 16); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 12);
            x3 += x4; x14 = Integer.rotateLeft(x14 ^ x3, 8); x9 += x14; x4 = Integer.rotateLeft(x4 ^ x9, 7);
        }
        int[] b = block;
        b[0] = x0 + 0x61707865; b[1] = x1 + 0x3320646e; b[2] = x2 + 0x79622d32; b[3] = x3 + 0x6b206574;
        b[4] = x4 + k0; b[5] = x5 + k1; b[6] = x6 + k2; b[7] = x7 + k3;
        b[8] = x8 + k4; b[9] = x9 + k5; b[10] = x10 + k6; b[11] = x11 + k7;
        b[12] = x12 + n; b[13] = x13; b[14] = x14 + n1; b[15] = x15 + n2;
    }

    /** Poly1305 under {@link #polyKey} of RFC 8439's AEAD input (aad, ciphertext, lengths), written at out[outOff]. */
    private void tag(byte[] aad, byte[] ct, int off, int len, byte[] out, int outOff) {
        long t0 = u32(polyKey, 0), t1 = u32(polyKey, 4), t2 = u32(polyKey, 8), t3 = u32(polyKey, 12);
        long r0 = t0 & 0x3ffffff;
        long r1 = ((t0 >>> 26) | (t1 << 6)) & 0x3ffff03;
        long r2 = ((t1 >>> 20) | (t2 << 12)) & 0x3ffc0ff;
        long r3 = ((t2 >>> 14) | (t3 << 18)) & 0x3f03fff;
        long r4 = (t3 >>> 8) & 0x00fffff;
        long s1 = r1 * 5, s2 = r2 * 5, s3 = r3 * 5, s4 = r4 * 5;
        long[] h = hState;
        h[0] = h[1] = h[2] = h[3] = h[4] = 0;
        int aadLen = aad == null ? 0 : aad.length;
        if (aadLen > 0) {
            blocks(h, aad, 0, aadLen, r0, r1, r2, r3, r4, s1, s2, s3, s4);
        }
        blocks(h, ct, off, len, r0, r1, r2, r3, r4, s1, s2, s3, s4);
        for (int i = 0; i < 8; i++) {
            lengths[i] = (byte) ((long) aadLen >>> (8 * i));
            lengths[8 + i] = (byte) ((long) len >>> (8 * i));
        }
        blocks(h, lengths, 0, 16, r0, r1, r2, r3, r4, s1, s2, s3, s4);
        long h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4];
        long c = h1 >>> 26; h1 &= M26; h2 += c;
        c = h2 >>> 26; h2 &= M26; h3 += c;
        c = h3 >>> 26; h3 &= M26; h4 += c;
        c = h4 >>> 26; h4 &= M26; h0 += c * 5;
        c = h0 >>> 26; h0 &= M26; h1 += c;
        long g0 = h0 + 5; c = g0 >>> 26; g0 &= M26;
        long g1 = h1 + c; c = g1 >>> 26; g1 &= M26;
        long g2 = h2 + c; c = g2 >>> 26; g2 &= M26;
        long g3 = h3 + c; c = g3 >>> 26; g3 &= M26;
        long g4 = h4 + c - (1L << 26);
        long useG = (g4 >> 63) + 1; // 1 when h + 5 - 2^130 did not go negative: h >= p
        long mask = -useG;
        h0 = (h0 & ~mask) | (g0 & mask);
        h1 = (h1 & ~mask) | (g1 & mask);
        h2 = (h2 & ~mask) | (g2 & mask);
        h3 = (h3 & ~mask) | (g3 & mask);
        h4 = (h4 & ~mask) | (g4 & mask & M26);
        long w0 = (h0 | (h1 << 26)) & 0xffffffffL;
        long w1 = ((h1 >>> 6) | (h2 << 20)) & 0xffffffffL;
        long w2 = ((h2 >>> 12) | (h3 << 14)) & 0xffffffffL;
        long w3 = ((h3 >>> 18) | (h4 << 8)) & 0xffffffffL;
        long f = w0 + u32(polyKey, 16);
        LE32.set(out, outOff, (int) f);
        f = w1 + u32(polyKey, 20) + (f >>> 32);
        LE32.set(out, outOff + 4, (int) f);
        f = w2 + u32(polyKey, 24) + (f >>> 32);
        LE32.set(out, outOff + 8, (int) f);
        f = w3 + u32(polyKey, 28) + (f >>> 32);
        LE32.set(out, outOff + 12, (int) f);
    }

    /** Absorbs m[off .. off+len) as 16-byte blocks, the last one zero-padded (RFC 8439's pad16). */
    private void blocks(long[] h, byte[] m, int off, int len, long r0, long r1, long r2, long r3, long r4,
                        long s1, long s2, long s3, long s4) {
        long h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4];
        int end = off + len;
        while (off < end) {
            byte[] src = m;
            int p = off;
            if (end - off < 16) {
                java.util.Arrays.fill(last, (byte) 0);
                System.arraycopy(m, off, last, 0, end - off);
                src = last;
                p = 0;
            }
            long m0 = u32(src, p), m1 = u32(src, p + 4), m2 = u32(src, p + 8), m3 = u32(src, p + 12);
            h0 += m0 & 0x3ffffff;
            h1 += ((m0 >>> 26) | (m1 << 6)) & 0x3ffffff;
            h2 += ((m1 >>> 20) | (m2 << 12)) & 0x3ffffff;
            h3 += ((m2 >>> 14) | (m3 << 18)) & 0x3ffffff;
            h4 += (m3 >>> 8) | (1L << 24);
            long d0 = h0 * r0 + h1 * s4 + h2 * s3 + h3 * s2 + h4 * s1;
            long d1 = h0 * r1 + h1 * r0 + h2 * s4 + h3 * s3 + h4 * s2;
            long d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s4 + h4 * s3;
            long d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s4;
            long d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0;
            long c = d0 >>> 26; h0 = d0 & M26;
            d1 += c; c = d1 >>> 26; h1 = d1 & M26;
            d2 += c; c = d2 >>> 26; h2 = d2 & M26;
            d3 += c; c = d3 >>> 26; h3 = d3 & M26;
            d4 += c; c = d4 >>> 26; h4 = d4 & M26;
            h0 += c * 5; c = h0 >>> 26; h0 &= M26; h1 += c;
            off += 16;
        }
        h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4;
    }

    private static long u32(byte[] b, int at) {
        return (int) LE32.get(b, at) & 0xffffffffL;
    }
}
