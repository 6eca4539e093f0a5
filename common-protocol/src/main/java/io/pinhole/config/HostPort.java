package io.pinhole.config;

import java.net.InetSocketAddress;

/**
 * HostPort: parses the {@code HOST:PORT} form users type ({@code 203.0.113.10:7777},
 * {@code rdv.example.net:7777}, {@code [2001:db8::1]:7777}) into an unresolved
 * {@link InetSocketAddress}. Resolution is the caller's job (it may block on DNS).
 *
 * <p>Stateless and thread-safe. Errors are {@link IllegalArgumentException}s whose message names
 * the bad text and the expected form, ready to show to a user.
 */
public final class HostPort {
    private HostPort() {
    }

    /** Parses {@code text}; the port must be 1..65535 unless {@code allowPortZero}. */
    public static InetSocketAddress parse(String text, boolean allowPortZero) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("missing HOST:PORT");
        }
        String s = text.strip();
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw bad(text);
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || s.indexOf(':') != colon) {
                throw bad(text);
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        int number;
        try {
            number = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "': port '" + port + "' is not a number");
        }
        if (number < (allowPortZero ? 0 : 1) || number > 65_535) {
            throw new IllegalArgumentException("'" + text + "': port " + number + " is out of range "
                    + (allowPortZero ? "0" : "1") + "-65535");
        }
        if (host.isEmpty()) {
            throw bad(text);
        }
        return InetSocketAddress.createUnresolved(host, number);
    }

    private static IllegalArgumentException bad(String text) {
        return new IllegalArgumentException("'" + text + "' is not HOST:PORT (IPv6 as [ADDR]:PORT)");
    }
}
