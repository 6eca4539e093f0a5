package io.pinhole.rendezvous;

import java.util.function.ObjLongConsumer;

/**
 * LogThrottle: rate limits for log lines that someone else's datagrams trigger. Per kind of line,
 * at most {@code allowance} lines are logged per interval (the interval starts with the first
 * line); the rest are counted, and once the interval is over {@link #flush} hands on one summary
 * per kind with the count. A kind with a summary pending logs nothing more until the next
 * interval's summary, so a flood gets one line per kind per interval, however long it lasts; a
 * kind that went quiet for a whole interval logs its next line at once again.
 *
 * <p>Time is passed in (nanoseconds, monotonic, any origin). Nothing is allocated after
 * construction. Not thread-safe; never throws after construction.
 *
 * @param <K> the kinds of line
 */
final class LogThrottle<K extends Enum<K>> {
    private final K[] kinds;
    private final long interval;
    private final long[] windowStart;
    private final boolean[] open;
    private final int[] logged;
    private final long[] suppressed;

    /**
     * @param type the enum of kinds
     * @param intervalNanos the interval
     */
    LogThrottle(Class<K> type, long intervalNanos) {
        this.kinds = type.getEnumConstants();
        this.interval = intervalNanos;
        this.windowStart = new long[kinds.length];
        this.open = new boolean[kinds.length];
        this.logged = new int[kinds.length];
        this.suppressed = new long[kinds.length];
    }

    /**
     * True if a line of {@code kind} may be logged at {@code now}, at most {@code allowance} per
     * interval; otherwise the line is counted for the next summary.
     */
    boolean allow(long now, K kind, int allowance) {
        int k = kind.ordinal();
        if (!open[k] || now - windowStart[k] >= interval) {
            if (open[k] && suppressed[k] > 0) {
                suppressed[k]++; // the summary of the last interval is due: flush tells it, this one included
                return false;
            }
            open[k] = true;
            windowStart[k] = now;
            logged[k] = 0;
        }
        if (logged[k] < allowance) {
            logged[k]++;
            return true;
        }
        suppressed[k]++;
        return false;
    }

    /**
     * For each kind whose interval is over with lines suppressed in it: hands on the count, and
     * starts a new interval in which that summary was the one line. Call it about once a second.
     */
    void flush(long now, ObjLongConsumer<K> summary) {
        for (int k = 0; k < kinds.length; k++) {
            if (open[k] && now - windowStart[k] >= interval) {
                if (suppressed[k] > 0) {
                    long n = suppressed[k];
                    suppressed[k] = 0;
                    windowStart[k] = now;
                    logged[k] = Integer.MAX_VALUE;
                    summary.accept(kinds[k], n);
                } else {
                    open[k] = false;
                }
            }
        }
    }
}
