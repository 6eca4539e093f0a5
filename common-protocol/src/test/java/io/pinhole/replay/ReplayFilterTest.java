package io.pinhole.replay;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** ReplayFilterTest: the window accepts each counter once, in any order, within its size. */
class ReplayFilterTest {
    private static final long NO_LIMIT = -1L; // 2^64 - 1 unsigned
    private final ReplayFilter filter = new ReplayFilter();

    @Test
    void acceptsEachCounterOnceInOrder() {
        for (long c = 0; c < 20_000; c++) {
            assertTrue(filter.accept(c, NO_LIMIT), "first time " + c);
            assertFalse(filter.accept(c, NO_LIMIT), "replay " + c);
        }
    }

    @Test
    void acceptsReorderingWithinTheWindowAndRejectsOlder() {
        long top = 100_000;
        assertTrue(filter.accept(top, NO_LIMIT));
        assertTrue(filter.accept(top - ReplayFilter.WINDOW_SIZE, NO_LIMIT), "the oldest counter still inside");
        assertFalse(filter.accept(top - ReplayFilter.WINDOW_SIZE - 1, NO_LIMIT), "just outside the window");
        assertTrue(filter.accept(top - 1, NO_LIMIT));
        assertFalse(filter.accept(top - 1, NO_LIMIT));
        assertFalse(filter.accept(top, NO_LIMIT));
    }

    @Test
    void aBigJumpClearsTheWholeRing() {
        for (long c = 0; c < 8_000; c++) {
            filter.accept(c, NO_LIMIT);
        }
        long far = 1_000_000_000L;
        assertTrue(filter.accept(far, NO_LIMIT));
        for (long c = far - ReplayFilter.WINDOW_SIZE; c < far; c++) {
            assertTrue(filter.accept(c, NO_LIMIT), "fresh after the jump: " + c);
        }
    }

    @Test
    void rejectsCountersAtOrBeyondTheLimitUnsigned() {
        long limit = -(1L << 13) - 1; // 2^64 - 2^13 - 1, WireGuard's REJECT_AFTER_MESSAGES
        assertFalse(filter.accept(limit, limit));
        assertFalse(filter.accept(-1L, limit), "2^64 - 1 is beyond the limit, not negative");
        assertTrue(filter.accept(limit - 1, limit));
        assertTrue(filter.accept(limit - 2, limit));
    }

    @Test
    void agreesWithAReferenceModelOnRandomTraffic() {
        Random random = new Random(42);
        BitSet seen = new BitSet();
        long highest = -1;
        for (int i = 0; i < 200_000; i++) {
            long counter = Math.max(0, highest + random.nextInt(300) - 200);
            boolean expected = !seen.get((int) counter)
                    && (highest < 0 || counter > highest || highest - counter <= ReplayFilter.WINDOW_SIZE);
            assertTrue(expected == filter.accept(counter, NO_LIMIT), "counter " + counter + " at step " + i);
            if (expected) {
                seen.set((int) counter);
                highest = Math.max(highest, counter);
            }
        }
    }
}
