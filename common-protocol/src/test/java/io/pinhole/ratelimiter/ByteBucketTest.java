package io.pinhole.ratelimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ByteBucketTest: a token bucket in bytes starts full, refills exactly at its rate up to its
 * burst, takes nothing when it cannot take all, and works at any origin of the monotonic clock.
 */
class ByteBucketTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    @ParameterizedTest(name = "origin {0}")
    @ValueSource(longs = {0, -4_000_000_000_000_000_000L, Long.MAX_VALUE - 2_500_000_000L, Long.MIN_VALUE})
    void theBurstAtOnceThenExactlyTheRate(long origin) {
        ByteBucket bucket = new ByteBucket(1000, 5000, origin);
        assertTrue(bucket.take(origin, 3000));
        assertTrue(bucket.take(origin, 2000), "the whole burst at once");
        assertFalse(bucket.take(origin, 1));

        assertFalse(bucket.take(origin + 499 * MS, 500), "499 bytes earned, not 500");
        assertTrue(bucket.take(origin + 500 * MS, 500));
        assertFalse(bucket.take(origin + 500 * MS, 1));
        assertTrue(bucket.take(origin + 2 * S, 1500), "1.5 s later: 1500 bytes");
    }

    @Test
    void aSteadyStreamGetsTheRateAndNoMoreOverManySmallSteps() {
        ByteBucket bucket = new ByteBucket(10_000, 10_000, 0);
        long taken = 0;
        for (long t = 0; t <= 10 * S; t += 7 * MS + 13) { // an uneven step: no rounding may leak
            while (bucket.take(t, 100)) {
                taken += 100;
            }
        }
        long end = 10 * S - (10 * S % (7 * MS + 13));
        assertEquals(10_000 + 10_000 * end / S / 100 * 100, taken, "the burst plus the rate, to the byte");
    }

    @Test
    void idleTimeFillsOnlyUpToTheBurst() {
        ByteBucket bucket = new ByteBucket(1000, 5000, 0);
        assertTrue(bucket.take(0, 5000));
        assertTrue(bucket.take(3600 * S, 5000), "an hour idle: full again");
        assertFalse(bucket.take(3600 * S, 1), "but no fuller");
    }

    @Test
    void aRequestLargerThanWhatIsThereTakesNothing() {
        ByteBucket bucket = new ByteBucket(1000, 5000, 0);
        assertFalse(bucket.take(0, 5001));
        assertTrue(bucket.take(0, 5000), "the refused request left the bucket full");
        assertFalse(bucket.take(0, Long.MAX_VALUE));
    }

    @Test
    void timeGoingBackRefillsNothingAndLosesNothing() {
        ByteBucket bucket = new ByteBucket(1000, 5000, 10 * S);
        assertTrue(bucket.take(10 * S, 5000));
        assertFalse(bucket.take(9 * S, 1));
        assertTrue(bucket.take(11 * S, 1000), "a second after the last time seen");
    }

    @Test
    void theLargestRateAndBurstDoNotOverflow() {
        ByteBucket bucket = new ByteBucket(ByteBucket.MAX, ByteBucket.MAX, Long.MAX_VALUE);
        assertTrue(bucket.take(Long.MAX_VALUE, ByteBucket.MAX));
        assertFalse(bucket.take(Long.MAX_VALUE, 1));
        assertFalse(bucket.take(Long.MIN_VALUE + 1, 9), "two nanoseconds later, across the overflow: 8.6 bytes");
        assertTrue(bucket.take(Long.MIN_VALUE + 1, 8));
        assertTrue(bucket.take(Long.MIN_VALUE + 1 + S, ByteBucket.MAX), "a second later: full");
    }

    @Test
    void nonsenseIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ByteBucket(0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new ByteBucket(1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new ByteBucket(ByteBucket.MAX + 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new ByteBucket(1, ByteBucket.MAX + 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new ByteBucket(1, 1, 0).take(0, -1));
    }
}
