package io.pinhole.replay;

/**
 * ReplayFilter: the sliding-window replay check on WireGuard transport counters (RFC 6479's
 * ring of bitmap blocks). Counters up to {@link #WINDOW_SIZE} behind the highest one accepted
 * are accepted once each, in any order; older or repeated counters, and counters at or beyond
 * the caller's limit, are rejected. The window is as large as WireGuard's: 8192 bits in a ring
 * of 128 64-bit blocks, of which 8128 are usable.
 *
 * <p>Counters are unsigned 64-bit values held in a {@code long}.
 *
 * <p>Not thread-safe: one receiving keypair owns one filter and checks counters on one thread
 * (or under its own lock). Never throws.
 */
public final class ReplayFilter {
    private static final int BLOCK_BITS = 64;
    private static final int BLOCK_SHIFT = 6;
    private static final int RING_BLOCKS = 128;
    private static final int RING_MASK = RING_BLOCKS - 1;
    /** How far behind the highest accepted counter a counter may be and still be accepted. */
    public static final long WINDOW_SIZE = (long) (RING_BLOCKS - 1) * BLOCK_BITS;

    private final long[] ring = new long[RING_BLOCKS];
    private long last;

    /** Forgets everything, as for a new keypair. */
    public void reset() {
        last = 0;
        java.util.Arrays.fill(ring, 0);
    }

    /**
     * Accepts {@code counter} if it is below {@code limit} (unsigned), not older than the window
     * and not seen before; marks it seen.
     *
     * @return true if the packet with this counter may be used
     */
    public boolean accept(long counter, long limit) {
        if (Long.compareUnsigned(counter, limit) >= 0) {
            return false;
        }
        long block = counter >>> BLOCK_SHIFT;
        if (Long.compareUnsigned(counter, last) > 0) {
            long current = last >>> BLOCK_SHIFT;
            long advance = block - current;
            if (Long.compareUnsigned(advance, RING_BLOCKS) > 0) {
                advance = RING_BLOCKS;
            }
            for (long i = 1; i <= advance; i++) {
                ring[(int) ((current + i) & RING_MASK)] = 0;
            }
            last = counter;
        } else if (Long.compareUnsigned(last - counter, WINDOW_SIZE) > 0) {
            return false;
        }
        int index = (int) (block & RING_MASK);
        long bit = 1L << (counter & (BLOCK_BITS - 1));
        if ((ring[index] & bit) != 0) {
            return false;
        }
        ring[index] |= bit;
        return true;
    }
}
