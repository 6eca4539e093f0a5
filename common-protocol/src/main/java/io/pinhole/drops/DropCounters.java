package io.pinhole.drops;

import java.util.EnumMap;
import java.util.Map;

/**
 * DropCounters: how many inputs a protocol core dropped, by reason, one counter per constant of
 * the reason enum {@code E}. The one drop-counting type of the cores ({@code PeerMachine} and its
 * parts with {@code PeerDrop}, {@code Rendezvous} with {@code ServerDrop}).
 *
 * <p>Counting is an array increment indexed by the reason's ordinal: no boxing, no allocation on
 * the data path. {@link #snapshot()} copies out the reasons that happened.
 *
 * <p>Error contract: counts never throw (they wrap past {@link Long#MAX_VALUE}, which no run
 * reaches); a null reason is a programming error ({@link NullPointerException}), as is a negative
 * {@link #add} ({@link IllegalArgumentException}).
 *
 * <p>Not thread-safe: owned by the core that counts (the edge serialises its calls); a snapshot
 * is a copy, safe to hand to any thread.
 *
 * @param <E> the reasons
 */
public final class DropCounters<E extends Enum<E>> {
    private final Class<E> reasons;
    private final E[] constants;
    private final long[] counts;

    /** Counters for every constant of {@code reasons}, all zero. */
    public DropCounters(Class<E> reasons) {
        this.reasons = reasons;
        this.constants = reasons.getEnumConstants();
        this.counts = new long[constants.length];
    }

    /** Counts one drop for {@code reason}. */
    public void count(E reason) {
        counts[reason.ordinal()]++;
    }

    /** Counts {@code n} drops (0 or more) for {@code reason}. */
    public void add(E reason, long n) {
        if (n < 0) {
            throw new IllegalArgumentException("a drop count cannot go down: " + n);
        }
        counts[reason.ordinal()] += n;
    }

    /** The drops counted for {@code reason} so far. */
    public long get(E reason) {
        return counts[reason.ordinal()];
    }

    /** All drops counted so far, every reason together. */
    public long total() {
        long sum = 0;
        for (long n : counts) {
            sum += n;
        }
        return sum;
    }

    /** A copy: every reason counted at least once, with its count (reasons never counted are absent). */
    public Map<E, Long> snapshot() {
        EnumMap<E, Long> snapshot = new EnumMap<>(reasons);
        for (E reason : constants) {
            if (counts[reason.ordinal()] != 0) {
                snapshot.put(reason, counts[reason.ordinal()]);
            }
        }
        return snapshot;
    }

    @Override
    public String toString() {
        return snapshot().toString();
    }
}
