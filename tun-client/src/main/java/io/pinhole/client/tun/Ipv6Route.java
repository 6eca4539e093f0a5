package io.pinhole.client.tun;

/**
 * Constants from {@code <linux/ipv6_route.h>}: the {@code struct in6_rtmsg} that
 * {@code SIOCADDRT} takes on an AF_INET6 socket, laid out for 64-bit Linux (LP64), and the
 * values used in it. This and {@link TunDevice#addRoute} are the only places that know it.
 *
 * <pre>
 * struct in6_rtmsg on LP64: 80 bytes
 *    0  struct in6_addr rtmsg_dst       network order
 *   16  struct in6_addr rtmsg_src
 *   32  struct in6_addr rtmsg_gateway   (unused: no gateway)
 *   48  __u32           rtmsg_type      RTN_UNICAST
 *   52  __u16           rtmsg_dst_len   the prefix length
 *   54  __u16           rtmsg_src_len
 *   56  __u32           rtmsg_metric    IP6_RT_PRIO_USER, as {@code ip -6 route add}
 *   64  unsigned long   rtmsg_info
 *   72  __u32           rtmsg_flags     RTF_UP
 *   76  int             rtmsg_ifindex   the device (SIOCGIFINDEX)
 * </pre>
 */
final class Ipv6Route {
    private Ipv6Route() {
    }

    static final int IN6_RTMSG_SIZE = 80;
    static final int RTMSG_DST_OFFSET = 0;
    static final int RTMSG_TYPE_OFFSET = 48;
    static final int RTMSG_DST_LEN_OFFSET = 52;
    static final int RTMSG_METRIC_OFFSET = 56;
    static final int RTMSG_FLAGS_OFFSET = 72;
    static final int RTMSG_IFINDEX_OFFSET = 76;

    /** {@code <linux/rtnetlink.h>}: a gateway or direct route. */
    static final int RTN_UNICAST = 1;
    /** {@code <linux/ipv6_route.h>}: the metric of routes added by a user. */
    static final int IP6_RT_PRIO_USER = 1024;
    /** {@code <linux/ipv6_route.h>} (as {@code <linux/route.h>}): the route is usable. */
    static final int RTF_UP = 0x0001;
}
