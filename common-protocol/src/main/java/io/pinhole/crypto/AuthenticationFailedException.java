package io.pinhole.crypto;

/**
 * AuthenticationFailedException: an AEAD open found that the ciphertext, its tag, the associated
 * data, the key or the nonce do not belong together, so the message is not authentic (forged,
 * corrupted, truncated below the 16-byte tag, or sealed under another key or counter). No
 * plaintext is released when this is thrown.
 *
 * <p>It is expected on a network path (anyone can send a packet), so it carries no stack trace
 * and no cause, which makes it cheap to throw; the message names the algorithm only, never data.
 * Immutable and thread-safe.
 */
public final class AuthenticationFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    public AuthenticationFailedException(String message) {
        super(message, null, false, false);
    }
}
