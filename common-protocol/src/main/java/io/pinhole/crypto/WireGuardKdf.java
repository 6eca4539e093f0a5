package io.pinhole.crypto;

import java.util.Arrays;
import java.util.Objects;

/**
 * WireGuardKdf: the key derivation {@code KDF_n(key, input)} of the WireGuard whitepaper
 * (section 5.4), HKDF-like over {@link HmacBlake2s}:
 * <pre>
 *   τ0 = HMAC(key, input)
 *   τ1 = HMAC(τ0, 0x1)
 *   τi = HMAC(τ0, τ(i-1) || i)      for i = 2, 3
 *   KDF_n = (τ1, ..., τn)
 * </pre>
 * Every output is 32 bytes. {@code key} is the 32-byte chaining key in WireGuard, but any length
 * is accepted; {@code input} may be empty (as in the final {@code KDF2(C, ε)}).
 *
 * <p>The static {@code kdf1/kdf2/kdf3} allocate their results and are safe from any thread. The
 * instance method {@link #derive} writes into caller arrays without allocating; an instance is
 * NOT thread-safe (confine it to one thread).
 *
 * <p>Errors: a null argument is a {@link NullPointerException}; an output array shorter than 32
 * bytes is an {@link IndexOutOfBoundsException}. Intermediate values (τ0) are zeroed after use.
 */
public final class WireGuardKdf {
    /** The length in bytes of each output. */
    public static final int LENGTH = HmacBlake2s.LENGTH;

    private final HmacBlake2s hmac = new HmacBlake2s();
    private final byte[] tau0 = new byte[LENGTH];
    private final byte[] counterByte = new byte[1];

    /** A reusable instance for {@link #derive}. */
    public WireGuardKdf() {
    }

    /** {@code KDF1(key, input)}: one 32-byte output. */
    public static byte[] kdf1(byte[] key, byte[] input) {
        byte[] t1 = new byte[LENGTH];
        new WireGuardKdf().derive(key, input, t1, null, null);
        return t1;
    }

    /** {@code KDF2(key, input)}: two 32-byte outputs, in order. */
    public static byte[][] kdf2(byte[] key, byte[] input) {
        byte[][] t = {new byte[LENGTH], new byte[LENGTH]};
        new WireGuardKdf().derive(key, input, t[0], t[1], null);
        return t;
    }

    /** {@code KDF3(key, input)}: three 32-byte outputs, in order. */
    public static byte[][] kdf3(byte[] key, byte[] input) {
        byte[][] t = {new byte[LENGTH], new byte[LENGTH], new byte[LENGTH]};
        new WireGuardKdf().derive(key, input, t[0], t[1], t[2]);
        return t;
    }

    /**
     * Writes τ1, τ2, τ3 into the first 32 bytes of {@code out1}, {@code out2}, {@code out3};
     * {@code out3}, or both {@code out2} and {@code out3}, may be null to derive fewer. Outputs may
     * alias {@code key} or {@code input} (e.g. {@code derive(ck, dh, ck, k, null)}): both are
     * consumed before anything is written.
     *
     * @throws IllegalArgumentException if {@code out3} is given without {@code out2}
     */
    public void derive(byte[] key, byte[] input, byte[] out1, byte[] out2, byte[] out3) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(out1, "out1");
        if (out3 != null && out2 == null) {
            throw new IllegalArgumentException("out3 given without out2");
        }
        Objects.checkFromIndexSize(0, LENGTH, out1.length);
        if (out2 != null) {
            Objects.checkFromIndexSize(0, LENGTH, out2.length);
        }
        if (out3 != null) {
            Objects.checkFromIndexSize(0, LENGTH, out3.length);
        }
        hmac.init(key);
        hmac.update(input);
        hmac.doFinal(tau0, 0);

        hmac.init(tau0);
        counterByte[0] = 1;
        hmac.update(counterByte);
        hmac.doFinal(out1, 0);
        if (out2 != null) {
            hmac.update(out1, 0, LENGTH);
            counterByte[0] = 2;
            hmac.update(counterByte);
            hmac.doFinal(out2, 0);
        }
        if (out3 != null) {
            hmac.update(out2, 0, LENGTH);
            counterByte[0] = 3;
            hmac.update(counterByte);
            hmac.doFinal(out3, 0);
        }
        Arrays.fill(tau0, (byte) 0);
        hmac.destroy();
    }
}
