package io.pinhole.client;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NetNamespace: which network namespace a process is in, as the inode number of its
 * {@code /proc/PID/ns/net} link ({@code net:[4026531840]}), the id {@code ip netns identify} and
 * {@code lsns} use. Two pinholes with the same device name in two namespaces keep their status
 * files apart by it. Stateless; thread-safe.
 *
 * <p>Error contract: never throws; 0 stands for "unknown" (no {@code /proc}, or not allowed to
 * read another process's link).
 */
final class NetNamespace {
    private static final Pattern LINK = Pattern.compile("net:\\[(\\d{1,19})]");

    private NetNamespace() {
    }

    /** This process's network namespace, or 0 if unknown. */
    static long current() {
        return of(Path.of("/proc/self/ns/net"));
    }

    /**
     * True when this process is in the namespace of PID 1 (the host's, outside containers); false
     * when it is not, or when that cannot be told (reading PID 1's link needs root).
     */
    static boolean initial() {
        long self = current();
        return self != 0 && self == of(Path.of("/proc/1/ns/net"));
    }

    /** The namespace a {@code /proc/PID/ns/net} link names, or 0. */
    static long of(Path link) {
        try {
            Matcher m = LINK.matcher(Files.readSymbolicLink(link).toString());
            return m.matches() ? Long.parseUnsignedLong(m.group(1)) : 0;
        } catch (IOException | UnsupportedOperationException | SecurityException | NumberFormatException e) {
            return 0;
        }
    }
}
