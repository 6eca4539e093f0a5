package io.pinhole.config;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.StringJoiner;

/**
 * HostPort: parses the {@code HOST:PORT} form users type ({@code 203.0.113.10:7777},
 * {@code rdv.example.net:7777}, {@code [2001:db8::1]:7777}) into an unresolved
 * {@link InetSocketAddress}, and {@linkplain #format formats} addresses back into that form for
 * log lines, messages and the status file (never Java's {@code host/addr:port}). Resolution is
 * the caller's job (it may block on DNS); formatting never resolves or looks anything up.
 *
 * <p>Stateless and thread-safe. Parse errors are {@link IllegalArgumentException}s whose message
 * names the bad text and the expected form, ready to show to a user; formatting never throws.
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

    /**
     * {@code address} as a user reads and types it: {@code 203.0.113.10:7777};
     * {@code [2001:db8::1]:7777} for IPv6 (the shortest form, RFC 5952, with its zone as
     * {@code %eth0} if it has one); {@code host:port} when unresolved. A resolved address prints
     * its numeric address only, not the name it was resolved from, so the same endpoint reads the
     * same in every line. {@code "none"} for null.
     */
    public static String format(InetSocketAddress address) {
        if (address == null) {
            return "none";
        }
        InetAddress ip = address.getAddress();
        String host;
        if (ip == null) {
            host = address.getHostString();
            host = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        } else if (ip instanceof Inet6Address v6) {
            host = "[" + ipv6(v6) + "]";
        } else {
            host = ip.getHostAddress();
        }
        return host + ":" + address.getPort();
    }

    /** The addresses, each as {@link #format}, joined by {@code ", "}; {@code "none"} for an empty or null list. */
    public static String formatAll(Collection<? extends InetSocketAddress> addresses) {
        if (addresses == null || addresses.isEmpty()) {
            return "none";
        }
        StringJoiner joined = new StringJoiner(", ");
        for (InetSocketAddress address : addresses) {
            joined.add(format(address));
        }
        return joined.toString();
    }

    /** RFC 5952 text: lower-case hex groups without leading zeros, the longest run of two or more zero groups as "::". */
    private static String ipv6(Inet6Address address) {
        byte[] raw = address.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (raw[2 * i] & 0xff) << 8 | raw[2 * i + 1] & 0xff;
        }
        int bestStart = -1;
        int bestLength = 1; // a single zero group is written as 0, not ::
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder text = new StringBuilder(41);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        if (address.getScopedInterface() != null) {
            text.append('%').append(address.getScopedInterface().getName());
        } else if (address.getScopeId() != 0) {
            text.append('%').append(address.getScopeId());
        }
        return text.toString();
    }

    private static IllegalArgumentException bad(String text) {
        return new IllegalArgumentException("'" + text + "' is not HOST:PORT (IPv6 as [ADDR]:PORT)");
    }
}
