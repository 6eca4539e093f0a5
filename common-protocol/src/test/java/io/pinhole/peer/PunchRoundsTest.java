package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.MS;
import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PunchRounds.Step;
import io.pinhole.wire.WireSamples;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PunchRoundsTest: when rounds probe, settle, end, and when the next upgrade and birthday turns come. */
class PunchRoundsTest {
    private static final long T0 = -3 * SECOND; // time has any origin
    private final PunchRounds rounds = new PunchRounds(PeerTimers.defaults(), Traversal.defaults(),
            WireSamples.seededRandom(3));

    /** The times of the PROBE steps of a round ticked every 10 ms from {@code from} until it stops. */
    private List<Long> probeTimes(long from) {
        List<Long> times = new ArrayList<>();
        for (long now = from; rounds.running() && now - from < 20 * SECOND; now += 10 * MS) {
            if (rounds.tick(now) == Step.PROBE) {
                times.add(now - from);
            }
        }
        return times;
    }

    /** When a tick every 10 ms from {@code from} first answers {@code step} (within 20 s). */
    private long firstStep(long from, Step step) {
        for (long now = from; now - from < 20 * SECOND; now += 10 * MS) {
            if (rounds.tick(now) == step) {
                return now;
            }
        }
        throw new AssertionError("no " + step + " within 20 s");
    }

    @Test
    void aRoundProbesAtOnceThenEveryTwoHundredMillisecondsWithJitterForTenSeconds() {
        rounds.begin(T0, List.of(PEER_LAN, PEER_PUBLIC), false);
        assertTrue(rounds.running());
        assertTrue(rounds.probesDue(T0));
        assertEquals(List.of(PEER_LAN, PEER_PUBLIC), rounds.targets());
        List<Long> times = probeTimes(T0);
        assertEquals(0L, times.get(0));
        for (int i = 1; i < times.size(); i++) {
            long gap = times.get(i) - times.get(i - 1);
            assertTrue(gap >= 200 * MS && gap <= 260 * MS, "gap " + gap / MS + " ms"); // 200-250 ms, on 10 ms ticks
        }
        assertTrue(times.get(times.size() - 1) < 10 * SECOND);
        assertTrue(times.size() >= 40 && times.size() <= 51, times.size() + " probe steps");
        assertFalse(rounds.running());
        assertEquals(1, rounds.attempts());
        assertEquals(T0, rounds.startedAt());
    }

    @Test
    void theEndOfARoundIsSaidOnce() {
        rounds.begin(T0, List.of(PEER_PUBLIC), false);
        assertEquals(Step.PROBE, rounds.tick(T0));
        assertEquals(Step.OVER, rounds.tick(T0 + 10 * SECOND));
        assertFalse(rounds.running());
    }

    @Test
    void withOpenersTheFullProbesWaitTheOpenerLead() {
        rounds.begin(T0, List.of(PEER_PUBLIC), true);
        assertFalse(rounds.probesDue(T0));
        assertEquals(Step.WAIT, rounds.tick(T0));
        assertEquals(Step.WAIT, rounds.tick(T0 + SECOND - 1));
        assertEquals(Step.PROBE, rounds.tick(T0 + SECOND));
    }

    @Test
    void aDirectPathStopsTheRoundUnlessABetterTargetMayAnswer() {
        rounds.begin(T0, List.of(PEER_LAN, PEER_PUBLIC), false);
        rounds.settle(T0 + SECOND, 0, a -> a.equals(PEER_LAN) ? 0 : 100); // on the LAN address: nothing better
        assertFalse(rounds.running());

        rounds.begin(T0, List.of(PEER_LAN, PEER_PUBLIC), false);
        rounds.settle(T0 + SECOND, 100, a -> a.equals(PEER_LAN) ? 0 : 100); // on the public one: the LAN may answer
        assertTrue(rounds.running());
        assertEquals(T0 + 2 * SECOND, firstStep(T0 + SECOND, Step.SETTLED), "1 s of LAN settling");
        assertFalse(rounds.running());
        assertEquals(2, rounds.attempts());
    }

    @Test
    void settlingNeverOutlastsTheRound() {
        rounds.begin(T0, List.of(PEER_LAN, PEER_PUBLIC), false);
        rounds.settle(T0 + 9_500 * MS, 100, a -> a.equals(PEER_LAN) ? 0 : 100);
        assertEquals(T0 + 10 * SECOND, firstStep(T0 + 9_500 * MS, Step.OVER));
    }

    @Test
    void settlingEndsOnTimeAcrossTheWrapOfTheClockAndAtTimeZero() {
        long nearWrap = Long.MAX_VALUE - 3 * SECOND; // the round's end wraps to a negative value
        rounds.begin(nearWrap, List.of(PEER_LAN, PEER_PUBLIC), false);
        rounds.settle(nearWrap + SECOND, 100, a -> a.equals(PEER_LAN) ? 0 : 100);
        assertEquals(nearWrap + 2 * SECOND, firstStep(nearWrap + SECOND, Step.SETTLED), "1 s, not the whole round");

        rounds.begin(-2 * SECOND, List.of(PEER_LAN, PEER_PUBLIC), false);
        rounds.settle(-SECOND, 100, a -> a.equals(PEER_LAN) ? 0 : 100); // settles at time 0, a time like any other
        assertEquals(0L, firstStep(-SECOND, Step.SETTLED));
    }

    @Test
    void upgradesComeEverySixtySecondsPlusUpToATenth() {
        for (int i = 0; i < 20; i++) {
            long wait = rounds.scheduleUpgrade(T0);
            assertTrue(wait >= 60 * SECOND && wait < 66 * SECOND, wait / MS + " ms");
            assertFalse(rounds.upgradeDue(T0 + wait - 1));
            assertTrue(rounds.upgradeDue(T0 + wait));
        }
        rounds.retrySoon(T0);
        assertFalse(rounds.upgradeDue(T0 + 10 * SECOND - 1));
        assertTrue(rounds.upgradeDue(T0 + 10 * SECOND), "nothing to punch to: again after a round's length");
    }

    @Test
    void birthdayTakesTheFirstFailedUpgradeAndThenEveryFifth() {
        List<Integer> turns = new ArrayList<>();
        for (int failed = 1; failed <= 12; failed++) {
            rounds.upgradeFailed();
            if (rounds.birthdayTurn()) {
                turns.add(failed);
            }
        }
        assertEquals(List.of(1, 6, 11), turns);
    }

    @Test
    void stopEndsTheRound() {
        rounds.begin(T0, List.of(PEER_PUBLIC), false);
        rounds.stop();
        assertFalse(rounds.running());
    }
}
