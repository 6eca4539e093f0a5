package io.pinhole.crypto;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Base64;
import javax.crypto.KeyAgreement;

/**
 * NoisePrivateKey: a peer's static Curve25519 private key, clamped as RFC 7748 and
 * {@code wg genkey} do, so the same base64 text works with WireGuard tools.
 *
 * <p>Immutable and thread-safe. {@link #toString()} never reveals the key; {@link #toBase64()}
 * does, for writing key files. Public-key derivation uses the JDK's X25519 (no own curve code).
 */
public final class NoisePrivateKey {
    private static final byte[] BASE_POINT = basePoint();

    private final byte[] scalar;
    private final NoisePublicKey publicKey;

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

    /** The base64 form, for key files. */
    public String toBase64() {
        return Base64.getEncoder().encodeToString(scalar);
    }

    /** The matching public key: X25519(scalar, 9). */
    public NoisePublicKey publicKey() {
        return publicKey;
    }

    /**
     * X25519 of this key with {@code peerPublic}: the Diffie-Hellman shared secret.
     *
     * @throws IllegalArgumentException if the result is all zero (a low-order peer key)
     */
    public byte[] sharedSecret(NoisePublicKey peerPublic) {
        return x25519(peerPublic.toBytes());
    }

    private byte[] x25519(byte[] uCoordinate) {
        try {
            KeyFactory factory = KeyFactory.getInstance("X25519");
            KeyAgreement agreement = KeyAgreement.getInstance("X25519");
            agreement.init(factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar.clone())));
            agreement.doPhase(factory.generatePublic(
                    new XECPublicKeySpec(NamedParameterSpec.X25519, littleEndianToInteger(uCoordinate))), true);
            return agreement.generateSecret();
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("X25519 failed: " + e.getMessage(), e);
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
