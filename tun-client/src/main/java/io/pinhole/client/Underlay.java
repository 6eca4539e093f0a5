package io.pinhole.client;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;

/**
 * Underlay: which network device the kernel would use to reach an address now. pinhole binds its
 * own UDP sockets to the device that reaches the rendezvous server (or the static peer), so that
 * no route through the tunnel can capture them, and asks the same question of every candidate
 * address ({@link TunnelRoutes}).
 *
 * <p>The lookup connects a throw-away UDP socket (a route lookup in the kernel; nothing is sent)
 * and names the device that holds the source address the kernel picked. That is the route's
 * device unless the route names a {@code src} of another device. Stateless; thread-safe.
 */
final class Underlay {
    /** {@code --underlay} value: the device of the route to the server or the static peer. */
    static final String AUTO = "auto";
    /** {@code --underlay} value: do not bind. */
    static final String NONE = "none";

    private Underlay() {
    }

    /**
     * The device the kernel routes datagrams to {@code target} through now, or null when there is
     * no route or the source address belongs to no device.
     */
    static String routeDevice(InetSocketAddress target) {
        if (target == null || target.isUnresolved()) {
            return null;
        }
        try (DatagramChannel lookup = DatagramChannel.open(target.getAddress() instanceof Inet4Address
                ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6)) {
            lookup.connect(target);
            InetAddress source = ((InetSocketAddress) lookup.getLocalAddress()).getAddress();
            NetworkInterface device = NetworkInterface.getByInetAddress(source);
            return device == null ? null : device.getName();
        } catch (IOException | RuntimeException e) {
            return null; // no route (ENETUNREACH), or the lookup itself failed: not through any device we know
        }
    }
}
