package io.pinhole.client.tun;

/**
 * Constants from {@code <netinet/in.h>} (with {@code <bits/in.h>}, where glibc keeps the socket
 * options) for the per-datagram TTL of a UDP socket; the values are Linux's and the same on every
 * architecture.
 */
final class In {
    private In() {
    }

    static final int IPPROTO_IP = 0;
    static final int IPPROTO_IPV6 = 41;

    /** {@code int}: the TTL of unicast datagrams sent on an IPv4 socket (or IPv4-mapped on an IPv6 one). */
    static final int IP_TTL = 2;
    /** {@code int}: deliver each received datagram's TTL as an {@code IP_TTL} control message. */
    static final int IP_RECVTTL = 12;
    /** {@code int}: the hop limit of unicast datagrams sent on an IPv6 socket. */
    static final int IPV6_UNICAST_HOPS = 16;
    /** {@code int}: deliver each received datagram's hop limit as an {@code IPV6_HOPLIMIT} control message. */
    static final int IPV6_RECVHOPLIMIT = 51;
    /** The control-message type carrying a received IPv6 hop limit. */
    static final int IPV6_HOPLIMIT = 52;
}
