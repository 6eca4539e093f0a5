package io.pinhole.peer;

/**
 * OncePer: at most one log line per interval, for a line that the partner's, the server's or
 * anyone's datagrams can trigger over and over (a refused packet, a refused server key, a lost
 * path, the tunnel carrying itself). Its one job: say whether the line is due now; the first one
 * always is, then one each time the interval has passed since the last.
 *
 * <p>Pure: time is an argument (monotonic nanoseconds, any origin, overflow-safe). Error
 * contract: never throws after construction. Not thread-safe: owned by the control side of its
 * {@link PeerMachine}, which the edge serialises.
 */
final class OncePer {
    /** The client's interval for repeated lines: a minute. */
    static final long MINUTE = 60_000_000_000L;

    private final long intervalNanos;
    private boolean said;
    private long saidAt;

    /** @param intervalNanos the least time between two lines (0 or more) */
    OncePer(long intervalNanos) {
        if (intervalNanos < 0) {
            throw new IllegalArgumentException("the interval cannot be negative: " + intervalNanos);
        }
        this.intervalNanos = intervalNanos;
    }

    /** A throttle of one line a minute. */
    static OncePer minute() {
        return new OncePer(MINUTE);
    }

    /** True if the line is due at {@code now} (then it counts as said now); false while it waits. */
    boolean due(long now) {
        if (said && now - saidAt < intervalNanos) {
            return false;
        }
        said = true;
        saidAt = now;
        return true;
    }
}
