package io.pinhole.config;

/**
 * KeyFileException: a key file given by the user cannot be used: it is missing, unreadable,
 * readable by group or others, or holds no key. The message is one line for a user that names
 * the file, what is wrong and what to do; it never quotes the key.
 */
public final class KeyFileException extends Exception {
    private static final long serialVersionUID = 1L;

    public KeyFileException(String message) {
        super(message);
    }
}
