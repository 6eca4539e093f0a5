package io.pinhole.client.tun;

/** Constants from {@code <netinet/udp.h>} (Linux's {@code <linux/udp.h>}): UDP segmentation offloads. */
final class Udp {
    private Udp() {
    }

    /** The socket level of UDP's own options ({@code IPPROTO_UDP}). */
    static final int SOL_UDP = 17;
    /**
     * {@code uint16}, as a socket option or a control message of {@code sendmsg}: the kernel
     * (or the NIC) cuts the datagram into datagrams of this many payload bytes (UDP GSO, Linux 4.18).
     */
    static final int UDP_SEGMENT = 103;
    /**
     * {@code int} socket option: receive consecutive datagrams of one flow as one buffer, with
     * their size in an {@code UDP_GRO} control message (UDP GRO, Linux 5.0).
     */
    static final int UDP_GRO = 104;
}
