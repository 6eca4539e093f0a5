package io.pinhole.client;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * TunnelRoutes answers {@link io.pinhole.peer.PeerOutput#throughTunnel}: is an address inside our
 * own tunnel? Yes for the tunnel's own addresses (ours and the partner's) and for any address the
 * kernel routes through our TUN device now (a network routed through it, a default route through
 * it). The machine then never probes it and never takes it as a path.
 *
 * <p>Route answers are cached for a second per address (at most {@value #CACHE} addresses), so a
 * punching round asks the kernel once per candidate, and a route added later is seen within a
 * second.
 *
 * <p>Not thread-safe: {@link ClientRuntime} calls it under its machine lock.
 */
final class TunnelRoutes {
    private static final int CACHE = 256;
    private static final long TTL_NANOS = 1_000_000_000L;

    private record Answer(boolean inside, long at) {
    }

    private final String tunDevice;
    private final Set<InetAddress> tunnelAddresses;
    private final Function<InetSocketAddress, String> routeDevice;
    private final LongSupplier clock;
    private final Map<InetAddress, Answer> answers = new LinkedHashMap<>(64, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Answer> eldest) {
            return size() > CACHE;
        }
    };

    /**
     * @param tunDevice our TUN device's name
     * @param tunnelAddresses the tunnel's addresses (ours and the partner's)
     * @param routeDevice the device the kernel routes an address through now ({@link Underlay#routeDevice})
     * @param clock monotonic nanoseconds
     */
    TunnelRoutes(String tunDevice, Set<InetAddress> tunnelAddresses, Function<InetSocketAddress, String> routeDevice,
                 LongSupplier clock) {
        this.tunDevice = tunDevice;
        this.tunnelAddresses = Set.copyOf(tunnelAddresses);
        this.routeDevice = routeDevice;
        this.clock = clock;
    }

    /** True if datagrams to {@code address} would travel inside our own tunnel. */
    boolean throughTunnel(InetSocketAddress address) {
        InetAddress host = address.getAddress();
        if (host == null) {
            return false;
        }
        if (tunnelAddresses.contains(host)) {
            return true;
        }
        long now = clock.getAsLong();
        Answer answer = answers.get(host);
        if (answer == null || now - answer.at() >= TTL_NANOS) {
            answer = new Answer(tunDevice.equals(routeDevice.apply(address)), now);
            answers.put(host, answer);
        }
        return answer.inside();
    }
}
