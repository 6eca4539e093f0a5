package io.pinhole.wireguard;

import static io.pinhole.wireguard.SessionPair.drops;
import static io.pinhole.wireguard.SessionPair.ipv4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ClockOriginTest: the monotonic time passed to a session is System.nanoTime-like: its origin is
 * arbitrary (it may be negative) and it may wrap around Long.MAX_VALUE. Nothing in the session
 * may depend on where it starts.
 */
class ClockOriginTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    @ParameterizedTest(name = "origin {0}")
    @ValueSource(longs = {0, 1_000_000_000_000L, -1, -4_000_000_000_000_000_000L, Long.MIN_VALUE,
            Long.MAX_VALUE - 60_000_000_000L, Long.MAX_VALUE - 300_000_000_000L})
    void theSessionWorksWhateverTheClockOrigin(long origin) {
        SessionPair pair = new SessionPair(71, origin, SessionTimers.defaults(), new SessionTimers(1420, 128, 2, 4096),
                null);
        // One handshake message every 2 s is never "under load".
        for (int i = 0; i < 10; i++) {
            pair.handshake();
            pair.advanceSeconds(2);
        }
        assertEquals(0L, drops(pair.b, SessionDrop.COOKIE_DEMANDED), pair.b.drops().toString());

        // Rekey by time when sending.
        pair.advanceSeconds(121);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.deliverAll();
        assertEquals(11, pair.a.handshakesCompleted());
        assertEquals(1, pair.sideB.delivered.size());

        // Retry after REKEY_TIMEOUT plus jitter.
        pair.a.initiate(pair.now, pair.sideA, true);
        pair.dropAll();
        long sentAt = pair.now;
        do {
            pair.now += MS;
            pair.a.tick(pair.now, pair.sideA);
        } while (pair.sideA.toPeer.isEmpty());
        long waited = pair.now - sentAt;
        assertTrue(waited >= 5 * S && waited <= 5334 * MS, waited + " ns");

        // Nothing gets through for ten minutes: the attempt is given up and the keys are wiped.
        for (int i = 0; i < 6000; i++) {
            pair.now += 100 * MS;
            pair.tickBoth();
            pair.dropAll();
        }
        assertNull(pair.a.currentKeypair());
        assertNull(pair.b.currentKeypair());

        // And it all comes back.
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideA);
        pair.deliverAll();
        assertEquals(2, pair.sideB.delivered.size());
    }
}
