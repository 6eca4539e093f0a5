package io.pinhole.ratelimiter;

/**
 * FairBudget: one budget (a {@link ByteBucket}: operations or bytes per second, with a burst)
 * shared by many sources, so that no source can take all of it. While the bucket holds at least
 * half its burst, anyone may take from it. Below half (under pressure), a source may take only
 * while what it took in the current one-second window is below its fair share: the rate divided
 * by one more than the number of sources that asked in this window or the last one, whichever is
 * more (and at least one take per window, while the bucket holds it); and it must leave in the
 * bucket the part of its last quarter that its use so far stands for (nothing for a first take in
 * the window, all of it near the end of its share). The shares add up to less than the rate, and
 * heavy users stop at a higher level than light ones, so under a flood the bucket holds
 * something for a source that asks little (a newcomer among many flooders, a light relay user
 * beside a heavy one): max-min fairness, roughly, with O(1) work and no allocation per take. Only
 * more sources asking at once than half the burst can empty it for a moment (their first takes at
 * the start of a window), and only more sources than the rate can keep it empty.
 *
 * <p>Each source keeps its own {@link Share} (made by {@link #newShare()}); the budget only counts
 * the sources that asked. Time is passed in (nanoseconds, monotonic, any origin).
 *
 * <p>Error contract: the constructor throws IllegalArgumentException as {@link ByteBucket}'s does;
 * {@link #take} throws it for a negative amount. Not thread-safe.
 */
public final class FairBudget {
    private static final long WINDOW = 1_000_000_000L;

    /** What {@link #take} decided. */
    public enum Verdict {
        /** Taken from the budget. */
        TAKEN,
        /** Refused: the budget is under pressure and this source has had its share of the window. */
        OVER_SHARE,
        /** Refused: the budget is spent. */
        SPENT
    }

    /** One source's use of the budget in the current window. Owned by the caller, used with one budget. */
    public static final class Share {
        private long epoch = -1;
        private long used;
    }

    private final ByteBucket bucket;
    private final long rate;
    private final long pressureLevel;
    private final long reserve;
    private long windowStart;
    private long epoch;
    private long activeNow;
    private long activePrev;

    /**
     * @param perSecond what the budget refills per second
     * @param burst what it holds at most, and at {@code now}
     * @param now the current time
     */
    public FairBudget(long perSecond, long burst, long now) {
        this.bucket = new ByteBucket(perSecond, burst, now);
        this.rate = perSecond;
        this.pressureLevel = (burst + 1) / 2;
        this.reserve = pressureLevel / 2;
        this.windowStart = now;
    }

    /** A new source's share, nothing used yet. */
    public Share newShare() {
        return new Share();
    }

    /** Takes {@code amount} for the source of {@code share} at {@code now}, or refuses and takes nothing. */
    public Verdict take(long now, Share share, long amount) {
        if (now - windowStart >= WINDOW) {
            activePrev = now - windowStart < 2 * WINDOW ? activeNow : 0;
            activeNow = 0;
            epoch++;
            windowStart = now;
        }
        if (share.epoch != epoch) {
            share.epoch = epoch;
            share.used = 0;
            activeNow++;
        }
        if (!bucket.holds(now, pressureLevel)) {
            long sources = Math.max(1, Math.max(activeNow, activePrev));
            // one share more than there are sources: what is left over is room for a newcomer
            long fair = Math.max(1, rate / (sources + 1));
            // the more of its share a source has used, the more of the last quarter of the burst it must leave to
            // the others (reserve * used / fair < 2^30 * 2^32: no overflow)
            if (share.used >= fair || share.used > 0 && !bucket.holds(now, amount + reserve * share.used / fair)) {
                return Verdict.OVER_SHARE;
            }
        }
        if (!bucket.take(now, amount)) {
            return Verdict.SPENT;
        }
        share.used += amount;
        return Verdict.TAKEN;
    }
}
