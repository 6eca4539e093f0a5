package io.pinhole.client.privilege;

/** Constants from {@code <linux/capability.h>}. */
final class Capability {
    private Capability() {
    }

    /** {@code _LINUX_CAPABILITY_VERSION_3}: 64-bit capability sets, two 32-bit words each. */
    static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;
    /** {@code CAP_NET_ADMIN}: interfaces, routes, {@code SO_RCVBUFFORCE}. */
    static final int CAP_NET_ADMIN = 12;
    /** {@code CAP_NET_RAW}: among others, {@code SO_BINDTODEVICE} on kernels before 5.7. */
    static final int CAP_NET_RAW = 13;

    /** The bit of capability {@code cap} in a 64-bit set. */
    static long bit(int cap) {
        return 1L << cap;
    }

    /** {@code CAP_NET_RAW} for a set's bits, e.g. {@code "CAP_NET_RAW"}, or {@code "none"} for 0. */
    static String names(long set) {
        if (set == 0) {
            return "none";
        }
        StringBuilder text = new StringBuilder();
        for (int cap = 0; cap < 64; cap++) {
            if ((set & bit(cap)) != 0) {
                text.append(text.length() == 0 ? "" : ",").append(name(cap));
            }
        }
        return text.toString();
    }

    private static String name(int cap) {
        return switch (cap) {
            case CAP_NET_ADMIN -> "CAP_NET_ADMIN";
            case CAP_NET_RAW -> "CAP_NET_RAW";
            default -> "capability " + cap;
        };
    }
}
