package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TunnelRoutesTest {
    private static InetSocketAddress at(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    @Test
    void theTunnelsOwnAddressesAndAddressesRoutedThroughTheTunAreInside() throws Exception {
        Map<InetAddress, String> routes = new HashMap<>();
        routes.put(InetAddress.getByName("192.168.50.1"), "tun0");
        routes.put(InetAddress.getByName("192.0.2.2"), "eth0");
        int[] lookups = {0};
        long[] now = {0};
        TunnelRoutes check = new TunnelRoutes("tun0",
                Set.of(InetAddress.getByName("10.10.0.1"), InetAddress.getByName("10.10.0.2")), a -> {
                    lookups[0]++;
                    return routes.get(a.getAddress());
                }, () -> now[0]);

        assertTrue(check.throughTunnel(at("10.10.0.2", 51820)), "the partner's tunnel address");
        assertTrue(check.throughTunnel(at("10.10.0.1", 1)), "ours");
        assertEquals(0, lookups[0], "no route lookup needed for those");
        assertTrue(check.throughTunnel(at("192.168.50.1", 51820)), "a network routed through tun0");
        assertFalse(check.throughTunnel(at("192.0.2.2", 40000)), "the underlay");
        assertFalse(check.throughTunnel(at("198.51.100.9", 1)), "no route at all");
        assertEquals(3, lookups[0]);

        assertFalse(check.throughTunnel(at("192.0.2.2", 40001)), "cached per address, any port");
        assertEquals(3, lookups[0]);
        routes.put(InetAddress.getByName("192.0.2.2"), "tun0"); // someone routes it through the tunnel
        now[0] += 999_000_000L;
        assertFalse(check.throughTunnel(at("192.0.2.2", 40000)), "the cached answer lives a second");
        now[0] += 1_000_000L;
        assertTrue(check.throughTunnel(at("192.0.2.2", 40000)), "then the new route is seen");
        assertFalse(check.throughTunnel(InetSocketAddress.createUnresolved("example.org", 1)));
    }

    @Test
    void theKernelsRouteToLoopbackIsLo() throws Exception {
        assertEquals("lo", Underlay.routeDevice(at("127.0.0.1", 9)));
        assertEquals(null, Underlay.routeDevice(null));
    }
}
