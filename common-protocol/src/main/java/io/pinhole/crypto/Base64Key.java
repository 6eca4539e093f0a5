package io.pinhole.crypto;

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
            throw new KeyFormatException(what + " is not valid base64 (" + e.getMessage() + ")");
        }
        if (raw.length != NoisePublicKey.LENGTH) {
            throw new KeyFormatException(what + " must decode to 32 bytes, got " + raw.length
                    + " (expected 44 base64 characters, as `pinhole genkey` writes)");
        }
        return raw;
    }
}
