package io.pinhole.client.tun;

/**
 * Constants from {@code <linux/sockios.h>}: interface ioctls issued on an AF_INET socket with a
 * {@code struct ifreq} argument (see {@link Ifreq}), and the routing-table ioctl.
 */
final class Sockios {
    private Sockios() {
    }

    static final int SIOCGIFFLAGS = 0x8913;
    static final int SIOCSIFFLAGS = 0x8914;
    static final int SIOCGIFADDR = 0x8915;
    static final int SIOCSIFADDR = 0x8916;
    static final int SIOCGIFDSTADDR = 0x8917;
    static final int SIOCSIFDSTADDR = 0x8918;
    static final int SIOCGIFNETMASK = 0x891b;
    static final int SIOCSIFNETMASK = 0x891c;
    static final int SIOCGIFMTU = 0x8921;
    static final int SIOCSIFMTU = 0x8922;
    static final int SIOCGIFINDEX = 0x8933;
    /** Set the device's transmit queue length ({@code ifr_qlen}, the int member). */
    static final int SIOCSIFTXQLEN = 0x8943;
    /** Add a route: {@code struct rtentry} ({@link Route}) on AF_INET, {@code struct in6_rtmsg} ({@link Ipv6Route}) on AF_INET6. */
    static final int SIOCADDRT = 0x890B;
}
