package io.pinhole.ratelimiter;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * HandshakeRateLimiter: a token bucket per source IP address for handshake messages that are
 * processed while under load (WireGuard's ratelimiter: 20 per second, bursts of 5). Memory is
 * bounded: at most {@code maxAddresses} buckets; idle buckets are forgotten after a second, and
 * when the table is full a new address is refused until some go idle.
 *
 * <p>Not thread-safe; time is passed in (nanoseconds, monotonic).
 */
public final class HandshakeRateLimiter {
    private static final long NANOS_PER_TOKEN = 1_000_000_000L / 20;
    private static final long BURST_NANOS = 5 * NANOS_PER_TOKEN;
    private static final long IDLE_NANOS = 1_000_000_000L;

    private static final class Bucket {
        long tokens; // in nanoseconds of budget
        long lastAt;
    }

    private final int maxAddresses;
    private final Map<java.nio.ByteBuffer, Bucket> buckets = new HashMap<>();
    private long lastSweep;
    private boolean swept;

    public HandshakeRateLimiter(int maxAddresses) {
        this.maxAddresses = maxAddresses;
    }

    /** True if a handshake message from {@code address} (raw IP bytes) may be processed now. */
    public boolean allow(byte[] address, long now) {
        if (!swept || now - lastSweep >= IDLE_NANOS) {
            sweep(now);
        }
        java.nio.ByteBuffer key = java.nio.ByteBuffer.wrap(address.clone());
        Bucket b = buckets.get(key);
        if (b == null) {
            if (buckets.size() >= maxAddresses) {
                return false;
            }
            b = new Bucket();
            b.tokens = BURST_NANOS;
            b.lastAt = now;
            buckets.put(key, b);
        }
        b.tokens = Math.min(BURST_NANOS, b.tokens + (now - b.lastAt));
        b.lastAt = now;
        if (b.tokens >= NANOS_PER_TOKEN) {
            b.tokens -= NANOS_PER_TOKEN;
            return true;
        }
        return false;
    }

    private void sweep(long now) {
        lastSweep = now;
        swept = true;
        Iterator<Bucket> it = buckets.values().iterator();
        while (it.hasNext()) {
            if (now - it.next().lastAt >= IDLE_NANOS) {
                it.remove();
            }
        }
    }

    /** Buckets held now. */
    public int size() {
        return buckets.size();
    }
}
