package io.pinhole.client.tun;

/** Constants from {@code <linux/if.h>}: interface name size and {@code ifr_flags} bits. */
final class If {
    private If() {
    }

    /** Size of {@code ifr_name}, including the terminating NUL: names are at most 15 bytes. */
    static final int IFNAMSIZ = 16;

    static final int IFF_UP = 0x1;
    static final int IFF_BROADCAST = 0x2;
    static final int IFF_LOOPBACK = 0x8;
    static final int IFF_POINTOPOINT = 0x10;
    static final int IFF_RUNNING = 0x40;
    static final int IFF_NOARP = 0x80;
    static final int IFF_MULTICAST = 0x1000;
}
