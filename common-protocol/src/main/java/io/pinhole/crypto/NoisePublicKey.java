package io.pinhole.crypto;

import java.util.Arrays;
import java.util.Base64;

/**
 * NoisePublicKey: a peer's static Curve25519 public key, the peer's identity in pinhole.
 *
 * <p>Immutable and thread-safe. Equality is by value, so it can key maps. {@link #toString()}
 * gives the base64 form that {@code pinhole pubkey} prints and {@code --peer} accepts.
 */
public final class NoisePublicKey {
    /** Length in bytes of a Curve25519 public key. */
    public static final int LENGTH = 32;

    private final byte[] bytes;
    private final int hash;

    private NoisePublicKey(byte[] bytes) {
        this.bytes = bytes;
        this.hash = Arrays.hashCode(bytes);
    }

    /** Wraps a copy of {@code raw}, which must hold exactly 32 bytes. */
    public static NoisePublicKey fromBytes(byte[] raw) {
        if (raw.length != LENGTH) {
            throw new IllegalArgumentException("public key must be 32 bytes, got " + raw.length);
        }
        return new NoisePublicKey(raw.clone());
    }

    /**
     * Parses the base64 form. Surrounding white space is ignored.
     *
     * @throws KeyFormatException if it is not base64 or does not decode to 32 bytes
     */
    public static NoisePublicKey parse(String base64) throws KeyFormatException {
        return new NoisePublicKey(Base64Key.decode(base64, "public key"));
    }

    /** A copy of the 32 raw bytes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** Writes the 32 raw bytes at {@code out[offset]}. */
    public void copyTo(byte[] out, int offset) {
        System.arraycopy(bytes, 0, out, offset, LENGTH);
    }

    /**
     * The first 8 characters of the base64 form in double quotes, for log lines:
     * {@code "WMm7enn+"}, so that an id starting with {@code /} or {@code +} does not read as a
     * path or an operator ({@code peer "/x3Tq9Ab" left}).
     */
    public String shortId() {
        return '"' + toString().substring(0, 8) + '"';
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NoisePublicKey other && Arrays.equals(bytes, other.bytes);
    }

    @Override
    public int hashCode() {
        return hash;
    }

    @Override
    public String toString() {
        return Base64.getEncoder().encodeToString(bytes);
    }
}
