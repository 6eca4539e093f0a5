package io.pinhole.client.tun;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Validation and encoding of Linux interface names, mirroring the kernel's
 * {@code dev_valid_name()}: 1 to 15 bytes, not "." or "..", no '/', ':' or whitespace. Control
 * characters are rejected too. A single {@code %d} (e.g. {@code "tun%d"}) asks the kernel to pick
 * the first free number.
 *
 * <p>Stateless and thread-safe. {@link #isValid} never throws (and loads no native code, so a
 * caller can check a name before anything is opened); {@link #encode} throws
 * {@link IllegalArgumentException} naming the rule that was broken.
 */
public final class InterfaceName {
    static final int MAX_BYTES = If.IFNAMSIZ - 1;

    private InterfaceName() {
    }

    /** Whether {@code name} is a name {@link TunDevice#open} takes. */
    public static boolean isValid(String name) {
        try {
            encode(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Returns the UTF-8 bytes of {@code name}, without a terminating NUL.
     *
     * @throws IllegalArgumentException with a message naming the rule that was broken
     */
    static byte[] encode(String name) {
        if (name == null) {
            throw new IllegalArgumentException("invalid TUN device name: name is null");
        }
        if (name.isEmpty()) {
            throw invalid(name, "it is empty; a Linux interface name has 1 to " + MAX_BYTES + " bytes");
        }
        if (name.equals(".") || name.equals("..")) {
            throw invalid(name, "\".\" and \"..\" are not allowed");
        }
        for (int i = 0; i < name.length(); ) {
            int cp = name.codePointAt(i);
            if (cp == '/') {
                throw invalid(name, "it contains '/'");
            }
            if (cp == ':') {
                throw invalid(name, "it contains ':' (reserved for interface aliases)");
            }
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp)) {
                throw invalid(name, "it contains whitespace at index " + i);
            }
            if (Character.isISOControl(cp)) {
                throw invalid(name, "it contains a control character at index " + i);
            }
            i += Character.charCount(cp);
        }
        byte[] bytes;
        try {
            ByteBuffer bb = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(name));
            bytes = new byte[bb.remaining()];
            bb.get(bytes);
        } catch (CharacterCodingException e) {
            throw invalid(name, "it is not valid Unicode (unpaired surrogate)");
        }
        if (bytes.length > MAX_BYTES) {
            throw invalid(name, "it is " + bytes.length + " bytes long; Linux allows at most "
                    + MAX_BYTES + " bytes (IFNAMSIZ - 1)");
        }
        return bytes;
    }

    private static IllegalArgumentException invalid(String name, String why) {
        return new IllegalArgumentException("invalid TUN device name " + quote(name) + ": " + why);
    }

    /** Quotes a name for messages, escaping control characters so they stay visible. */
    static String quote(String name) {
        StringBuilder sb = new StringBuilder(name.length() + 2).append('"');
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c) || c == '"' || c == '\\') {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        return sb.append('"').toString();
    }
}
