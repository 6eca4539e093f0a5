package io.pinhole.crypto;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/**
 * PresharedKey: WireGuard's optional symmetric key (Q in the handshake), 32 random bytes in
 * base64, as {@code wg genpsk} writes. Stateless and thread-safe. The array {@link #parse} returns
 * is the caller's to zero when it is no longer needed.
 */
public final class PresharedKey {
    private PresharedKey() {
    }

    /** A new random key, base64. */
    public static String generate(SecureRandom random) {
        byte[] raw = new byte[32];
        random.nextBytes(raw);
        try {
            return Base64.getEncoder().encodeToString(raw);
        } finally {
            Arrays.fill(raw, (byte) 0); // the String cannot be zeroed; the array can
        }
    }

    /**
     * Parses the base64 text of a pre-shared key.
     *
     * @throws KeyFormatException if it is not base64 of 32 bytes (the message never quotes the key)
     */
    public static byte[] parse(String base64) throws KeyFormatException {
        return Base64Key.decode(base64, "pre-shared key");
    }
}
