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
 * @param maxPerSource registrations one source (an IPv4 address, or an IPv6 /64) may hold; a new
 *     key from a source holding this many is refused
 * @param dhPerSecond the global budget of Diffie-Hellman operations per second (bursts of one
 *     second's worth), shared fairly among the sources that ask
 * @param relayTotalBytesPerSecond the global budget of relayed bytes per second (bursts of a
 *     quarter second's worth, at least {@link #relayBurstBytes}), shared fairly among the sources
 *     that relay
 */
public record RendezvousConfig(Duration registrationTtl, Duration refreshInterval, int maxRegistrations,
                               Duration peerInfoMinInterval, long relayBytesPerSecond, long relayBurstBytes,
                               int maxPerSource, int dhPerSecond, long relayTotalBytesPerSecond) {
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
     * Default registrations per source: 256. A carrier-grade NAT shares one public IPv4 address
     * among some tens of subscribers (port blocks of 1,000-2,000 ports), each perhaps with a few
     * peers, so 256 leaves a busy shared address room; and one address holds at most 1/256 of the
     * default table, so filling it takes 256 addresses (or /64s), not one host.
     */
    public static final int DEFAULT_MAX_PER_SOURCE = 256;
    /**
     * Default global Diffie-Hellman budget: 1,000 a second. One X25519 takes about 130 us on the
     * 2-core machine the lab runs on, so the budget costs at most about an eighth of the event
     * loop's core, while 1,000 new peers a second is far beyond what a server of 65,536
     * registrations sees when nobody attacks it.
     */
    public static final int DEFAULT_DH_PER_SECOND = 1_000;
    /**
     * Default global relay budget: 32 MiB/s (about 270 Mbit/s each way), 16 relayed peers at the
     * default per-peer rate, within a 1 Gbit/s server link in and out.
     */
    public static final long DEFAULT_RELAY_TOTAL = 32L << 20;
    /** The largest global Diffie-Hellman budget. */
    public static final int MAX_DH_PER_SECOND = 1_000_000;

    /**
     * Defaults: 60 s TTL, 20 s refresh, 65,536 registrations, PEER_INFO at most once a second, relay
     * at 2 MiB/s with bursts of 256 KiB per registration; the per-source and global budgets of
     * {@link #DEFAULT_MAX_PER_SOURCE}, {@link #DEFAULT_DH_PER_SECOND} and {@link #DEFAULT_RELAY_TOTAL}.
     */
    public static RendezvousConfig defaults() {
        return new RendezvousConfig(Duration.ofSeconds(60), Duration.ofSeconds(20), 65_536, Duration.ofSeconds(1),
                2L << 20, 256L << 10);
    }

    /** The first six tunables; the per-source and global budgets at their defaults. */
    public RendezvousConfig(Duration registrationTtl, Duration refreshInterval, int maxRegistrations,
                            Duration peerInfoMinInterval, long relayBytesPerSecond, long relayBurstBytes) {
        this(registrationTtl, refreshInterval, maxRegistrations, peerInfoMinInterval, relayBytesPerSecond,
                relayBurstBytes, DEFAULT_MAX_PER_SOURCE, DEFAULT_DH_PER_SECOND, DEFAULT_RELAY_TOTAL);
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
        if (maxPerSource < 1) {
            throw new IllegalArgumentException("registrations per source must be at least 1, not " + maxPerSource);
        }
        if (dhPerSecond < 1 || dhPerSecond > MAX_DH_PER_SECOND) {
            throw new IllegalArgumentException("the Diffie-Hellman budget must be 1 to " + MAX_DH_PER_SECOND
                    + " a second, not " + dhPerSecond);
        }
        if (relayTotalBytesPerSecond < 1 || relayTotalBytesPerSecond > ByteBucket.MAX) {
            throw new IllegalArgumentException("the total relay rate must be 1 to " + ByteBucket.MAX
                    + " bytes per second, not " + relayTotalBytesPerSecond);
        }
    }

    /** A copy with another registration cap. */
    public RendezvousConfig withMaxRegistrations(int max) {
        return new RendezvousConfig(registrationTtl, refreshInterval, max, peerInfoMinInterval, relayBytesPerSecond,
                relayBurstBytes, maxPerSource, dhPerSecond, relayTotalBytesPerSecond);
    }

    /** A copy with another relay budget per registration; a rate of 0 turns the relay off. */
    public RendezvousConfig withRelay(long bytesPerSecond, long burstBytes) {
        return new RendezvousConfig(registrationTtl, refreshInterval, maxRegistrations, peerInfoMinInterval,
                bytesPerSecond, burstBytes, maxPerSource, dhPerSecond, relayTotalBytesPerSecond);
    }

    /** A copy with other per-source and global budgets (see the record's parameters). */
    public RendezvousConfig withBudgets(int perSource, int dhRate, long relayTotal) {
        return new RendezvousConfig(registrationTtl, refreshInterval, maxRegistrations, peerInfoMinInterval,
                relayBytesPerSecond, relayBurstBytes, perSource, dhRate, relayTotal);
    }

    /** The global relay budget's burst: a quarter second of {@link #relayTotalBytesPerSecond}, at least one registration's burst. */
    public long relayTotalBurstBytes() {
        return Math.min(ByteBucket.MAX, Math.max(relayBurstBytes, relayTotalBytesPerSecond / 4));
    }

    /** True when RELAY frames are forwarded at all. */
    public boolean relayOn() {
        return relayBytesPerSecond > 0;
    }
}
