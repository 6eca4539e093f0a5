package io.pinhole.crypto;

/**
 * KeyFormatException: a key given by the user (a file, a command-line argument) is not a
 * base64-encoded 32-byte Curve25519 key. The message says what was wrong with it, never the key.
 */
public final class KeyFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public KeyFormatException(String message) {
        super(message);
    }
}
