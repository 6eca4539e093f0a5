package io.pinhole.rendezvous;

import io.pinhole.ratelimiter.ByteBucket;
import java.time.Duration;

/**
 * RendezvousConfig: the server's tunables. Immutable, so thread-safe.
 *
 * <p>Error contract: the constructor throws IllegalArgumentException for values the server cannot
 * work with (named in the message).
 *
 * @param registrationTtl how long a registration lives without a refresh
 * @param refreshInterval how often peers are told to refresh (well below the TTL)
 * @param maxRegistrations memory bound: registrations beyond this are refused and counted
 * @param peerInfoMinInterval a peer is sent an unchanged PEER_INFO at most this often
 * @param relayBytesPerSecond how many bytes of RELAY frames each registration may have forwarded
 *     per second, on average; 0 turns the relay off
 * @param relayBurstBytes how many bytes each registration may have forwarded at once (its token
 *     bucket's size, at least {@link #RELAY_MIN_BURST}); every frame costs at least
 *     {@link #RELAY_MIN_COST} bytes
 */
public record RendezvousConfig(Duration registrationTtl, Duration refreshInterval, int maxRegistrations,
                               Duration peerInfoMinInterval, long relayBytesPerSecond, long relayBurstBytes) {
    /** What the smallest relayed frame costs against its sender's budget, so tiny frames are bounded too. */
    public static final int RELAY_MIN_COST = 64;
    /**
     * The largest RELAY frame a pinhole peer sends: a WireGuard message of the largest tunnel MTU
     * (9000 bytes, plus 32 of WireGuard) behind the 4-byte RELAY header, rounded up to 9 KiB.
     */
    public static final int RELAY_LARGEST_FRAME = 9_216;
    /** The smallest burst: one largest frame; a smaller bucket could never pass such a frame. */
    public static final long RELAY_MIN_BURST = RELAY_LARGEST_FRAME;

    /**
     * Defaults: 60 s TTL, 20 s refresh, 65,536 registrations, PEER_INFO at most once a second, relay
     * at 2 MiB/s with bursts of 256 KiB per registration.
     */
    public static RendezvousConfig defaults() {
        return new RendezvousConfig(Duration.ofSeconds(60), Duration.ofSeconds(20), 65_536, Duration.ofSeconds(1),
                2L << 20, 256L << 10);
    }

    public RendezvousConfig {
        if (maxRegistrations < 1) {
            throw new IllegalArgumentException("maxRegistrations must be at least 1");
        }
        if (refreshInterval.compareTo(registrationTtl) >= 0) {
            throw new IllegalArgumentException("refresh interval must be shorter than the registration TTL");
        }
        if (relayBytesPerSecond < 0 || relayBytesPerSecond > ByteBucket.MAX) {
            throw new IllegalArgumentException("relay rate must be 0 (off) to " + ByteBucket.MAX
                    + " bytes per second, not " + relayBytesPerSecond);
        }
        if (relayBurstBytes < RELAY_MIN_BURST || relayBurstBytes > ByteBucket.MAX) {
            throw new IllegalArgumentException("relay burst must be " + RELAY_MIN_BURST + " to " + ByteBucket.MAX
                    + " bytes, not " + relayBurstBytes);
        }
    }

    /** A copy with another registration cap. */
    public RendezvousConfig withMaxRegistrations(int max) {
        return new RendezvousConfig(registrationTtl, refreshInterval, max, peerInfoMinInterval, relayBytesPerSecond,
                relayBurstBytes);
    }

    /** A copy with another relay budget per registration; a rate of 0 turns the relay off. */
    public RendezvousConfig withRelay(long bytesPerSecond, long burstBytes) {
        return new RendezvousConfig(registrationTtl, refreshInterval, maxRegistrations, peerInfoMinInterval,
                bytesPerSecond, burstBytes);
    }

    /** True when RELAY frames are forwarded at all. */
    public boolean relayOn() {
        return relayBytesPerSecond > 0;
    }
}
