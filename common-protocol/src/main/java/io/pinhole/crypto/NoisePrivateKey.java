package io.pinhole.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.KeyAgreement;
import javax.security.auth.Destroyable;

/**
 * NoisePrivateKey: a peer's static Curve25519 private key, clamped as RFC 7748 and
 * {@code wg genkey} do, so the same base64 text works with WireGuard tools.
 *
 * <p>Thread-safe. {@link #toString()} never reveals the key; {@link #toBase64()} does, for writing
 * key files. Public-key derivation uses the JDK's X25519 (no own curve code).
 *
 * <p>Zeroing: {@link #destroy()} zeroes the 32 key bytes this object holds; afterwards
 * {@link #sharedSecret} and {@link #toBase64()} throw {@link IllegalStateException} (the public
 * key, which is not secret, stays available). Each X25519 works on a copy of the key that is
 * zeroed when the call returns, but the JDK makes copies of its own that cannot be zeroed:
 * {@link XECPrivateKeySpec} clones the scalar, the JDK's X25519 private key object clones it again
 * (its {@code destroy()} throws {@code DestroyFailedException} on JDK 17 and 25) and the key
 * agreement keeps that object; all become garbage when the call returns, unzeroed. So does the
 * base64 text a key was parsed from or encoded to (a {@code String} cannot be zeroed). The
 * shared secret {@link #sharedSecret} returns is the caller's to zero.
 */
public final class NoisePrivateKey implements Destroyable {
    private static final byte[] BASE_POINT = basePoint();

    /** The clamped scalar; all zero once destroyed (a clamped scalar never is: bit 254 is set). */
    private final byte[] scalar;
    private final NoisePublicKey publicKey;
    private boolean destroyed;

    private NoisePrivateKey(byte[] scalar) {
        this.scalar = scalar;
        this.publicKey = NoisePublicKey.fromBytes(x25519(BASE_POINT)); // computed once: callers ask often
    }

    /** A fresh random key from {@code random}. */
    public static NoisePrivateKey generate(SecureRandom random) {
        byte[] raw = new byte[NoisePublicKey.LENGTH];
        random.nextBytes(raw);
        return new NoisePrivateKey(clamp(raw));
    }

    /**
     * Parses the base64 form written by {@code pinhole genkey} or {@code wg genkey}.
     *
     * @throws KeyFormatException if it is not base64 of 32 bytes
     */
    public static NoisePrivateKey parse(String base64) throws KeyFormatException {
        return new NoisePrivateKey(clamp(Base64Key.decode(base64, "private key")));
    }

    /**
     * The base64 form, for key files.
     *
     * @throws IllegalStateException if this key was destroyed
     */
    public String toBase64() {
        byte[] copy = scalarCopy();
        try {
            return Base64.getEncoder().encodeToString(copy);
        } finally {
            Arrays.fill(copy, (byte) 0);
        }
    }

    /** The matching public key: X25519(scalar, 9). */
    public NoisePublicKey publicKey() {
        return publicKey;
    }

    /**
     * X25519 of this key with {@code peerPublic}: the Diffie-Hellman shared secret.
     *
     * The result is a new array, the caller's to zero when it is no longer needed.
     *
     * @throws IllegalArgumentException if the result is all zero (a low-order peer key)
     * @throws IllegalStateException if this key was destroyed
     */
    public byte[] sharedSecret(NoisePublicKey peerPublic) {
        return x25519(peerPublic.toBytes());
    }

    /**
     * Zeroes the key bytes held here. Idempotent; later {@link #sharedSecret} and
     * {@link #toBase64()} calls throw {@link IllegalStateException}. Copies the JDK made during
     * earlier calls are not reached (see the class comment).
     */
    @Override
    public synchronized void destroy() {
        Arrays.fill(scalar, (byte) 0);
        destroyed = true;
    }

    /** True once {@link #destroy()} ran: the key bytes held here are all zero (which a live key never is). */
    @Override
    public synchronized boolean isDestroyed() {
        for (byte b : scalar) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** A copy of the scalar, the caller's to zero; the lock keeps it from racing {@link #destroy()}. */
    private synchronized byte[] scalarCopy() {
        if (destroyed) {
            throw new IllegalStateException("this private key was destroyed");
        }
        return scalar.clone();
    }

    private byte[] x25519(byte[] uCoordinate) {
        byte[] copy = scalarCopy();
        try {
            KeyFactory factory = KeyFactory.getInstance("X25519");
            KeyAgreement agreement = KeyAgreement.getInstance("X25519");
            // The spec and the key object each clone the scalar; neither clone can be zeroed.
            agreement.init(factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, copy)));
            agreement.doPhase(factory.generatePublic(
                    new XECPublicKeySpec(NamedParameterSpec.X25519, littleEndianToInteger(uCoordinate))), true);
            return agreement.generateSecret();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("X25519 failed: " + e.getMessage(), e);
        } finally {
            Arrays.fill(copy, (byte) 0);
        }
    }

    private static BigInteger littleEndianToInteger(byte[] le) {
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        be[0] &= 0x7f; // RFC 7748: the top bit of the u-coordinate is masked
        return new BigInteger(1, be);
    }

    private static byte[] clamp(byte[] raw) {
        raw[0] &= (byte) 248;
        raw[31] &= 127;
        raw[31] |= 64;
        return raw;
    }

    private static byte[] basePoint() {
        byte[] u = new byte[NoisePublicKey.LENGTH];
        u[0] = 9;
        return u;
    }

    @Override
    public String toString() {
        return "NoisePrivateKey[public " + publicKey().shortId() + "]";
    }
}
