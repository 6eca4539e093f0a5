package io.pinhole.ratelimiter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HandshakeRateLimiterTest: 20 handshakes per second per address with bursts of 5, a bounded
 * table whose idle entries are forgotten; at any origin of the monotonic clock (it may be
 * negative, or wrap during the run).
 */
class HandshakeRateLimiterTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    private static byte[] v4(int last) {
        return new byte[] {(byte) 192, 0, 2, (byte) last};
    }

    private static byte[] v6(int last) {
        byte[] a = new byte[16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = (byte) 0xb8;
        a[15] = (byte) last;
        return a;
    }

    @ParameterizedTest(name = "origin {0}")
    @ValueSource(longs = {0, 1_000_000_000_000L, -4_000_000_000_000_000_000L, Long.MAX_VALUE - 2_500_000_000L,
            Long.MIN_VALUE})
    void aBurstOfFiveThenOnePer50Milliseconds(long origin) {
        HandshakeRateLimiter limiter = new HandshakeRateLimiter(16);
        long now = origin;
        for (int i = 0; i < 5; i++) {
            assertTrue(limiter.allow(v4(1), now), "burst " + i);
        }
        assertFalse(limiter.allow(v4(1), now));
        assertFalse(limiter.allow(v4(1), now + 49 * MS));
        assertTrue(limiter.allow(v4(1), now + 50 * MS));
        assertFalse(limiter.allow(v4(1), now + 50 * MS));
        assertTrue(limiter.allow(v4(2), now + 50 * MS), "another address has its own bucket");
    }

    @ParameterizedTest(name = "origin {0}")
    @ValueSource(longs = {0, -4_000_000_000_000_000_000L, Long.MAX_VALUE - 5_000_000_000L})
    void twentyPerSecondSustained(long origin) {
        HandshakeRateLimiter limiter = new HandshakeRateLimiter(16);
        int allowed = 0;
        for (long t = 0; t < 10 * S; t += MS) {
            if (limiter.allow(v4(1), origin + t)) {
                allowed++;
            }
        }
        // 5 at once, then one per 50 ms for 10 s (the last refill lands at 9.95 s)
        assertEquals(5 + 199, allowed);
    }

    @ParameterizedTest(name = "origin {0}")
    @ValueSource(longs = {0, -4_000_000_000_000_000_000L})
    void idleBucketsDoNotSaveUpMoreThanABurst(long origin) {
        HandshakeRateLimiter limiter = new HandshakeRateLimiter(16);
        assertTrue(limiter.allow(v4(1), origin));
        // keep the entry alive with a refused-free trickle, then pause for 0.9 s
        long t = origin + 900 * MS;
        int allowed = 0;
        while (limiter.allow(v4(1), t)) {
            allowed++;
        }
        assertEquals(5, allowed);
    }

    @ParameterizedTest(name = "origin {0}")
    @ValueSource(longs = {0, 1_000_000_000_000L, -4_000_000_000_000_000_000L, Long.MAX_VALUE - 1_500_000_000L,
            Long.MIN_VALUE})
    void theTableIsBoundedAndIdleEntriesAreForgotten(long origin) {
        HandshakeRateLimiter limiter = new HandshakeRateLimiter(3);
        long now = origin;
        assertTrue(limiter.allow(v4(1), now));
        assertTrue(limiter.allow(v4(2), now));
        assertTrue(limiter.allow(v6(3), now));
        assertFalse(limiter.allow(v4(4), now), "table full: a new address is refused");
        assertEquals(3, limiter.size());
        assertTrue(limiter.allow(v4(1), now + 10 * MS), "known addresses keep their budget");

        now += 2 * S;
        assertTrue(limiter.allow(v4(4), now), "idle entries forgotten, room again");
        assertEquals(1, limiter.size());
        for (int i = 0; i < 1000; i++) {
            limiter.allow(v4(i % 250), now + i * MS);
            assertTrue(limiter.size() <= 3);
        }
    }

    @ParameterizedTest(name = "origin {0}")
    @ValueSource(longs = {0, -4_000_000_000_000_000_000L})
    void anAddressIsForgottenOnlyAfterASecondIdle(long origin) {
        HandshakeRateLimiter limiter = new HandshakeRateLimiter(2);
        limiter.allow(v4(1), origin);
        limiter.allow(v4(2), origin + 500 * MS);
        assertFalse(limiter.allow(v4(3), origin + 900 * MS), "full, and nobody idle for a second");
        assertTrue(limiter.allow(v4(3), origin + 1200 * MS), "address 1 (idle 1.2 s) forgotten");
        assertEquals(2, limiter.size(), "address 2 (idle 0.7 s) kept");
    }

    @ParameterizedTest(name = "origin {0}")
    @ValueSource(longs = {0})
    void ipv4AndIpv6AddressesAreDistinctKeys(long origin) {
        HandshakeRateLimiter limiter = new HandshakeRateLimiter(16);
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xff;
        mapped[11] = (byte) 0xff;
        System.arraycopy(v4(1), 0, mapped, 12, 4);
        for (int i = 0; i < 5; i++) {
            assertTrue(limiter.allow(v4(1), origin));
        }
        assertTrue(limiter.allow(v6(1), origin));
        byte[] caller = v4(9);
        for (int i = 0; i < 5; i++) {
            assertTrue(limiter.allow(caller, origin));
        }
        caller[3] = 10; // the caller reusing its array must not change the stored key
        assertTrue(limiter.allow(caller, origin));
        assertFalse(limiter.allow(v4(9), origin));
    }
}
