package io.pinhole.client.tun;

/**
 * Constants from {@code <linux/route.h>}: the {@code struct rtentry} that {@code SIOCADDRT} takes
 * on an AF_INET socket, laid out for 64-bit Linux (LP64: x86-64, arm64, riscv64), and its
 * {@code rt_flags}. This and {@link TunDevice#addRoute} are the only places that know it.
 *
 * <pre>
 * struct rtentry on LP64: 120 bytes
 *    0  unsigned long   rt_pad1
 *    8  struct sockaddr rt_dst       sockaddr_in: family (host order), port, address (network order)
 *   24  struct sockaddr rt_gateway   (unused: no gateway, the route goes out of the device)
 *   40  struct sockaddr rt_genmask   sockaddr_in holding the netmask
 *   56  unsigned short  rt_flags
 *   58  short           rt_pad2
 *   64  unsigned long   rt_pad3
 *   72  void *          rt_pad4
 *   80  short           rt_metric    0: the kernel's priority 0 (it stores rt_metric - 1 when non-zero)
 *   88  char *          rt_dev       the device name; the kernel copies IFNAMSIZ - 1 bytes from it
 *   96  unsigned long   rt_mtu
 *  104  unsigned long   rt_window
 *  112  unsigned short  rt_irtt
 * </pre>
 */
final class Route {
    private Route() {
    }

    static final int RTENTRY_SIZE = 120;
    static final int RT_DST_OFFSET = 8;
    static final int RT_GENMASK_OFFSET = 40;
    static final int RT_FLAGS_OFFSET = 56;
    static final int RT_DEV_OFFSET = 88;

    /** The route is usable. */
    static final short RTF_UP = 0x0001;
    /** A host route (a /32). */
    static final short RTF_HOST = 0x0004;
}
