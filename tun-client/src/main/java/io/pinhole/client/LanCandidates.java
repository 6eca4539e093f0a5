package io.pinhole.client;

import io.pinhole.wire.ControlMessage;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * LanCandidates: this host's own endpoints (its IPv4 addresses with our UDP port), reported to
 * the partner through the server so that two peers on one LAN can find each other directly.
 * Skips loopback, link-local, down interfaces and the tunnel device itself; when pinhole's UDP is
 * bound to one device (the underlay), only that device's addresses, since the socket hears
 * nothing that arrives elsewhere. Stateless.
 */
final class LanCandidates {
    private LanCandidates() {
    }

    /**
     * Up to {@link ControlMessage#MAX_CANDIDATES} endpoints; empty if interfaces cannot be listed.
     *
     * @param underlay the device our UDP is bound to, or null for any
     */
    static List<InetSocketAddress> discover(int port, String tunnelDevice, String underlay) {
        List<InetSocketAddress> result = new ArrayList<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nif.isUp() || nif.isLoopback() || nif.getName().equals(tunnelDevice)
                        || underlay != null && !nif.getName().equals(underlay)) {
                    continue;
                }
                for (InetAddress address : Collections.list(nif.getInetAddresses())) {
                    if (address instanceof Inet4Address && !address.isLinkLocalAddress()
                            && !address.isLoopbackAddress() && result.size() < ControlMessage.MAX_CANDIDATES) {
                        result.add(new InetSocketAddress(address, port));
                    }
                }
            }
        } catch (SocketException e) {
            return List.of();
        }
        return result;
    }
}
