package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** OncePerTest: the first line is due at once, then one a minute however often it is asked, across the clock's wrap. */
class OncePerTest {
    @Test
    void theFirstLineIsDueAtAnyTimeEvenTheLeastValue() {
        assertTrue(OncePer.minute().due(Long.MIN_VALUE));
        assertTrue(OncePer.minute().due(0));
    }

    @Test
    void thenOneLineAMinuteHoweverOftenAsked() {
        OncePer log = OncePer.minute();
        long t0 = Long.MAX_VALUE - 90 * SECOND; // the second minute wraps
        List<Long> said = new ArrayList<>();
        for (long now = t0; now - t0 <= 150 * SECOND; now += SECOND / 2) {
            if (log.due(now)) {
                said.add((now - t0) / SECOND);
            }
        }
        assertEquals(List.of(0L, 60L, 120L), said);
    }

    @Test
    void anIntervalCountsFromTheLastLineSaid() {
        OncePer log = new OncePer(10 * SECOND);
        assertTrue(log.due(0));
        assertFalse(log.due(10 * SECOND - 1));
        assertTrue(log.due(25 * SECOND));
        assertFalse(log.due(34 * SECOND));
        assertTrue(log.due(35 * SECOND));
    }

    @Test
    void aNegativeIntervalIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new OncePer(-1));
        OncePer always = new OncePer(0);
        assertTrue(always.due(5));
        assertTrue(always.due(5), "0: every time");
    }
}
