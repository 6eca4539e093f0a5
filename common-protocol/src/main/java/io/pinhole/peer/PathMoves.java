package io.pinhole.peer;

/**
 * PathMoves: the brake on path changes. A healthy tunnel moves its direct path a handful of times
 * in its life (relay to a public address, then to a LAN address; a roaming partner); a path that
 * changes more than {@code max} times within {@code window} is a routing loop or an attack, not a
 * better path. Then moves are held off for {@code hold}, and the caller falls back to a path it
 * can trust (the relay).
 *
 * <p>Pure (time is an argument, monotonic nanoseconds, overflow-safe); not thread-safe.
 */
final class PathMoves {
    private final long[] recent;
    private final long windowNanos;
    private final long holdNanos;
    private int next;
    private int count;
    private boolean holding;
    private long heldUntil;

    /**
     * @param max most moves allowed within {@code windowNanos}
     * @param windowNanos the sliding window
     * @param holdNanos how long moves are refused once the limit is passed
     */
    PathMoves(int max, long windowNanos, long holdNanos) {
        if (max < 1 || windowNanos <= 0 || holdNanos < 0) {
            throw new IllegalArgumentException("max >= 1, window > 0 and hold >= 0 required");
        }
        this.recent = new long[max];
        this.windowNanos = windowNanos;
        this.holdNanos = holdNanos;
    }

    /** The defaults: more than 4 direct moves in 5 s hold moves off for 60 s. */
    static PathMoves defaults() {
        return new PathMoves(4, 5_000_000_000L, 60_000_000_000L);
    }

    /** True while moves are held off. */
    boolean held(long now) {
        if (holding && now - heldUntil >= 0) {
            holding = false;
            count = 0;
        }
        return holding;
    }

    /**
     * Records a move at {@code now}.
     *
     * @return true if it may go ahead; false if it passes the limit (moves are then held off
     *     from now on) or moves are held already
     */
    boolean allow(long now) {
        if (held(now)) {
            return false;
        }
        if (count == recent.length && now - recent[next] < windowNanos) {
            holding = true;
            heldUntil = now + holdNanos;
            return false;
        }
        recent[next] = now;
        next = (next + 1) % recent.length;
        count = Math.min(count + 1, recent.length);
        return true;
    }

    /** Most moves allowed within the window. */
    int max() {
        return recent.length;
    }
}
