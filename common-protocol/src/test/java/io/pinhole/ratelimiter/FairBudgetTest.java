package io.pinhole.ratelimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pinhole.ratelimiter.FairBudget.Share;
import io.pinhole.ratelimiter.FairBudget.Verdict;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * FairBudgetTest: anyone takes freely while the bucket is at least half full; below, each source
 * only its share of the window (the rate over one more than the sources that asked), light users
 * before heavy ones; spent is spent; a new window starts each second; at any time origin.
 */
class FairBudgetTest {
    private static final long MS = 1_000_000L;

    @ParameterizedTest(name = "origin {0}")
    @ValueSource(longs = {0, Long.MAX_VALUE - 500 * MS, Long.MIN_VALUE, -1})
    void freeAboveHalfThenASharePerSourceThenSpent(long origin) {
        FairBudget budget = new FairBudget(10, 10, origin);
        Share heavy = budget.newShare();
        for (int i = 0; i < 6; i++) {
            assertEquals(Verdict.TAKEN, budget.take(origin, heavy, 1), "free while 5 or more are left: " + i);
        }
        assertEquals(Verdict.OVER_SHARE, budget.take(origin, heavy, 1), "4 left: its share is 10 / (1 + 1) = 5");

        Share light = budget.newShare();
        assertEquals(Verdict.TAKEN, budget.take(origin, light, 1), "another source's first take");
        assertEquals(Verdict.TAKEN, budget.take(origin, light, 1), "share 10 / 3 = 3; 3 left, it must leave 2 * 1 / 3");
        assertEquals(Verdict.TAKEN, budget.take(origin, light, 1));
        assertEquals(Verdict.OVER_SHARE, budget.take(origin, light, 1), "its share of 3 is used");
        Share third = budget.newShare();
        assertEquals(Verdict.TAKEN, budget.take(origin, third, 1), "the last one, for a first take");
        assertEquals(Verdict.SPENT, budget.take(origin, budget.newShare(), 1), "nothing left");

        long later = origin + 1000 * MS; // 10 refilled, a new window
        for (int i = 0; i < 6; i++) {
            assertEquals(Verdict.TAKEN, budget.take(later, heavy, 1), "a new window: free again above half " + i);
        }
        assertEquals(Verdict.OVER_SHARE, budget.take(later, heavy, 1), "4 sources asked last window: share 2");
    }

    @ParameterizedTest(name = "origin {0}")
    @ValueSource(longs = {0, Long.MIN_VALUE})
    void aLightUserGetsThroughWhileAHeavyOneHoldsTheBucketUnderPressure(long origin) {
        FairBudget budget = new FairBudget(100_000, 64_000, origin);
        Share heavy = budget.newShare();
        Share light = budget.newShare();
        int lightTaken = 0;
        long heavyTaken = 0;
        for (int ms = 0; ms < 10_000; ms++) {
            long now = origin + ms * MS;
            heavyTaken += budget.take(now, heavy, 1000) == Verdict.TAKEN ? 1000 : 0;
            if (ms % 100 == 0) {
                lightTaken += budget.take(now, light, 1000) == Verdict.TAKEN ? 1 : 0;
            }
        }
        assertEquals(100, lightTaken, "every frame of the light user");
        long total = heavyTaken + lightTaken * 1000L;
        assertEquals(true, total <= 100_000L * 10 + 64_000, total + " bytes in 10 s");
        assertEquals(true, heavyTaken >= 800_000, "the heavy user gets most of the rest: " + heavyTaken);
    }
}
