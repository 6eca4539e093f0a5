package io.pinhole.rendezvous;

import java.time.Duration;

/**
 * RendezvousConfig: the server's tunables. Immutable.
 *
 * @param registrationTtl how long a registration lives without a refresh
 * @param refreshInterval how often peers are told to refresh (well below the TTL)
 * @param maxRegistrations memory bound: registrations beyond this are refused and counted
 * @param peerInfoMinInterval a peer is sent an unchanged PEER_INFO at most this often
 */
public record RendezvousConfig(Duration registrationTtl, Duration refreshInterval, int maxRegistrations,
                               Duration peerInfoMinInterval) {
    /** Defaults: 60 s TTL, 20 s refresh, 65,536 registrations, PEER_INFO at most once a second. */
    public static RendezvousConfig defaults() {
        return new RendezvousConfig(Duration.ofSeconds(60), Duration.ofSeconds(20), 65_536, Duration.ofSeconds(1));
    }

    public RendezvousConfig {
        if (maxRegistrations < 1) {
            throw new IllegalArgumentException("maxRegistrations must be at least 1");
        }
        if (refreshInterval.compareTo(registrationTtl) >= 0) {
            throw new IllegalArgumentException("refresh interval must be shorter than the registration TTL");
        }
    }

    /** A copy with another registration cap. */
    public RendezvousConfig withMaxRegistrations(int max) {
        return new RendezvousConfig(registrationTtl, refreshInterval, max, peerInfoMinInterval);
    }
}
