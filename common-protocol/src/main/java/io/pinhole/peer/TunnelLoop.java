package io.pinhole.peer;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * TunnelLoop recognises an IP packet read from the TUN device that is one of pinhole's own UDP
 * datagrams to one endpoint (the partner's direct path, or the rendezvous server): the routing
 * table sends our UDP into the tunnel, which would carry it inside itself, again and again. Such
 * a packet is dropped, never encrypted.
 *
 * <p>{@link #matches} reads the IPv4 or IPv6 header and the UDP destination port in place
 * (absolute reads; position and limit untouched) and allocates nothing: the endpoint's address
 * bytes are taken once, by {@link #watch}. An IPv6 packet with extension headers before UDP, and
 * an IPv4 fragment after the first, are not recognised.
 *
 * <p>Not thread-safe: the owner's thread sets and reads it.
 */
final class TunnelLoop {
    private static final int UDP = 17;
    private static final int IPV4_MIN_HEADER = 20;
    private static final int IPV6_HEADER = 40;

    private InetSocketAddress watched;
    private byte[] address;
    private int port;

    /** Watches {@code endpoint} from now on (null or unresolved: nothing matches). */
    void watch(InetSocketAddress endpoint) {
        if (Objects.equals(endpoint, watched)) {
            return;
        }
        watched = endpoint;
        address = endpoint == null || endpoint.isUnresolved() ? null : endpoint.getAddress().getAddress();
        port = endpoint == null ? 0 : endpoint.getPort();
    }

    /** The endpoint watched, or null. */
    InetSocketAddress watched() {
        return address == null ? null : watched;
    }

    /** True if {@code packet} is a UDP datagram to the watched endpoint (address and port). */
    boolean matches(ByteBuffer packet) {
        byte[] a = address;
        int p = packet.position();
        int length = packet.remaining();
        if (a == null || length < 1) {
            return false;
        }
        int version = (packet.get(p) & 0xff) >>> 4;
        int addressAt;
        int udpAt;
        if (version == 4 && a.length == 4) {
            int ihl = (packet.get(p) & 0x0f) * 4;
            if (ihl < IPV4_MIN_HEADER || length < ihl + 4 || (packet.get(p + 9) & 0xff) != UDP
                    || (packet.getShort(p + 6) & 0x1fff) != 0) {
                return false; // too short, not UDP, or a later fragment (no UDP header in it)
            }
            addressAt = p + 16;
            udpAt = p + ihl;
        } else if (version == 6 && a.length == 16) {
            if (length < IPV6_HEADER + 4 || (packet.get(p + 6) & 0xff) != UDP) {
                return false;
            }
            addressAt = p + 24;
            udpAt = p + IPV6_HEADER;
        } else {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if (packet.get(addressAt + i) != a[i]) {
                return false;
            }
        }
        return (packet.getShort(udpAt + 2) & 0xffff) == port;
    }
}
