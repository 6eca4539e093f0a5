package io.pinhole.ratelimiter;

/**
 * ByteBucket: a token bucket counted in bytes. It holds at most {@code burstBytes}, refills at
 * {@code bytesPerSecond}, and starts full. The arithmetic is exact: tokens are kept in
 * byte-nanoseconds, so no rounding leaks or loses budget however often it is asked.
 *
 * <p>Time is passed in (nanoseconds, monotonic, any origin; differences are overflow-safe); a time
 * earlier than the last one seen refills nothing.
 *
 * <p>Error contract: the constructor throws IllegalArgumentException for a rate or burst outside
 * 1..{@link #MAX}; {@link #take} and {@link #holds} throw it for a negative size. Not thread-safe.
 */
public final class ByteBucket {
    /** The largest rate (bytes per second) and burst (bytes): 4 GiB, far from overflowing the arithmetic. */
    public static final long MAX = 1L << 32;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long rate;
    private final long capacity;
    private long tokens;
    private long lastAt;

    /**
     * @param bytesPerSecond refill rate
     * @param burstBytes size of the bucket, and what it holds at {@code now}
     * @param now the current time
     */
    public ByteBucket(long bytesPerSecond, long burstBytes, long now) {
        if (bytesPerSecond < 1 || bytesPerSecond > MAX) {
            throw new IllegalArgumentException("rate must be 1 to " + MAX + " bytes per second, not " + bytesPerSecond);
        }
        if (burstBytes < 1 || burstBytes > MAX) {
            throw new IllegalArgumentException("burst must be 1 to " + MAX + " bytes, not " + burstBytes);
        }
        this.rate = bytesPerSecond;
        this.capacity = burstBytes * NANOS_PER_SECOND;
        this.tokens = capacity;
        this.lastAt = now;
    }

    /**
     * Takes {@code bytes} if the bucket holds that many at {@code now}; takes nothing otherwise.
     *
     * @return true if taken
     */
    public boolean take(long now, long bytes) {
        if (!holds(now, bytes)) {
            return false;
        }
        tokens -= bytes * NANOS_PER_SECOND;
        return true;
    }

    /**
     * True if the bucket holds at least {@code bytes} at {@code now}; takes nothing.
     *
     * @throws IllegalArgumentException for a negative size
     */
    public boolean holds(long now, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative size " + bytes);
        }
        long elapsed = now - lastAt;
        if (elapsed > 0) {
            lastAt = now;
            // elapsed * rate only when it cannot pass the capacity (and so cannot overflow)
            tokens = elapsed >= (capacity - tokens) / rate + 1 ? capacity : tokens + elapsed * rate;
        }
        return bytes <= MAX && tokens >= bytes * NANOS_PER_SECOND;
    }
}
