package io.pinhole.server;

/**
 * ByteSizes: byte counts written back the way {@code --relay-rate} and {@code --relay-burst}
 * take them ({@link RendezvousMain#byteCount}): {@code 2M}, {@code 256K}, {@code 1500}, so that
 * the log repeats what the user wrote (or its exact equivalent) rather than {@code 2097152}.
 *
 * <p>Stateless and thread-safe; never throws.
 */
final class ByteSizes {
    private ByteSizes() {
    }

    /** {@code bytes} with the largest suffix that divides it exactly: M (1048576), K (1024), or none. */
    static String format(long bytes) {
        if (bytes != 0 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + "M";
        }
        if (bytes != 0 && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + "K";
        }
        return Long.toString(bytes);
    }
}
