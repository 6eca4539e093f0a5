package io.pinhole.crypto;

import java.util.Arrays;
import java.util.Base64;

/** Base64Key: decoding of the base64 key format shared by public and private keys. Stateless. */
final class Base64Key {
    private Base64Key() {
    }

    static byte[] decode(String text, String what) throws KeyFormatException {
        if (text == null) {
            throw new KeyFormatException(what + " is missing");
        }
        String trimmed = text.strip();
        if (trimmed.isEmpty()) {
            throw new KeyFormatException(what + " is empty");
        }
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(trimmed);
        } catch (IllegalArgumentException e) {
            // the JDK's message quotes the offending character: never echo key material
            throw new KeyFormatException(what + " is not valid base64 (expected 44 characters of A-Z a-z 0-9 + / =)");
        }
        if (raw.length != NoisePublicKey.LENGTH) {
            Arrays.fill(raw, (byte) 0); // it may still be key material, just cut short
            throw new KeyFormatException(what + " must decode to 32 bytes, got " + raw.length
                    + " (expected 44 base64 characters, as `pinhole genkey` writes)");
        }
        return raw;
    }
}
