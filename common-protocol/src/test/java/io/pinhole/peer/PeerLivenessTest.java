package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.MS;
import static io.pinhole.peer.PeerHarness.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PeerLiveness.Quiet;
import org.junit.jupiter.api.Test;

/** PeerLivenessTest: the dead-peer, keepalive, path-probe and quiet-spell rules, on their own. */
class PeerLivenessTest {
    private static final long T0 = Long.MAX_VALUE - 10 * SECOND; // comparisons survive the wrap
    private final PeerLiveness liveness = new PeerLiveness(PeerTimers.defaults());

    @Test
    void deadAfterFifteenSecondsWithoutHearingThePartner() {
        liveness.opened(T0);
        assertFalse(liveness.dead(T0 + 15 * SECOND - 1));
        assertTrue(liveness.dead(T0 + 15 * SECOND));
        liveness.heard(T0 + 15 * SECOND);
        assertFalse(liveness.dead(T0 + 30 * SECOND - 1), "heard again: a fresh start");
        liveness.authenticated(T0 + 20 * SECOND);
        assertEquals(3 * SECOND, liveness.silentFor(T0 + 23 * SECOND));
        assertEquals(15 * SECOND, liveness.deadNanos());
    }

    @Test
    void keepaliveAfterFiveSecondsWithoutSending() {
        liveness.opened(T0);
        assertFalse(liveness.keepaliveDue(T0 + 5 * SECOND - 1));
        assertTrue(liveness.keepaliveDue(T0 + 5 * SECOND));
        liveness.sent(T0 + 4 * SECOND);
        assertFalse(liveness.keepaliveDue(T0 + 9 * SECOND - 1));
        assertTrue(liveness.keepaliveDue(T0 + 9 * SECOND));
        liveness.authenticated(T0 + 8 * SECOND);
        assertTrue(liveness.keepaliveDue(T0 + 9 * SECOND), "receiving is no keepalive");
    }

    @Test
    void aPathProbeIsDueAtOnceOnANewPathThenEveryFiveSecondsAndTimesOutOnce() {
        liveness.newPath(T0);
        assertTrue(liveness.pathProbeDue(T0));
        liveness.pathProbeSent(7, T0);
        assertFalse(liveness.pathProbeDue(T0 + 5 * SECOND - 1));
        assertTrue(liveness.pathProbeDue(T0 + 5 * SECOND));
        assertEquals(T0, liveness.probeSentAt());
        assertFalse(liveness.probeTimedOut(T0 + SECOND - 1));
        assertTrue(liveness.probeTimedOut(T0 + SECOND));
        assertFalse(liveness.probeTimedOut(T0 + 2 * SECOND), "once per probe");
    }

    @Test
    void onlyThePathProbesOwnAckEndsItsWait() {
        liveness.pathProbeSent(7, T0);
        liveness.acked(6);
        assertTrue(liveness.probeTimedOut(T0 + SECOND), "another probe's ack");
        liveness.pathProbeSent(8, T0);
        liveness.acked(8);
        assertFalse(liveness.probeTimedOut(T0 + SECOND));
        liveness.pathProbeSent(9, T0);
        liveness.newPath(T0);
        assertFalse(liveness.probeTimedOut(T0 + SECOND), "a new path forgets the old path's probe");
    }

    /** A stream: {@code n} authenticated packets spread over the second after {@code from}, with the rate ticks. */
    private long stream(long from, int n) {
        liveness.tick(from);
        for (int i = 0; i < n; i++) {
            liveness.authenticated(from + i * (SECOND / n));
        }
        long last = from + (n - 1) * (SECOND / n);
        liveness.tick(from + SECOND);
        return last;
    }

    @Test
    void aStreamThatStopsForHalfASecondIsProbedOncePerSpell() {
        liveness.opened(T0);
        liveness.tick(T0);
        long last = stream(T0 + SECOND, 10);
        assertEquals(Quiet.NONE, liveness.quiet(last + 500 * MS - 1, false, true));
        assertEquals(Quiet.NONE, liveness.quiet(last + 500 * MS, false, false), "the partner's session unknown");
        assertEquals(Quiet.STREAM_STOPPED, liveness.quiet(last + 500 * MS, false, true));
        assertEquals(Quiet.NONE, liveness.quiet(last + 600 * MS, false, true), "one probe per quiet spell");
        liveness.authenticated(last + 700 * MS);
        assertEquals(Quiet.STREAM_STOPPED, liveness.quiet(last + 1_200 * MS, false, true), "a new spell");
    }

    @Test
    void aTrickleIsNoStream() {
        liveness.opened(T0);
        liveness.tick(T0);
        long last = stream(T0 + SECOND, 4);
        assertEquals(Quiet.NONE, liveness.quiet(last + SECOND, false, true));
    }

    @Test
    void aWaitingPathProbeHoldsTheQuietProbeBack() {
        liveness.opened(T0);
        liveness.tick(T0);
        long last = stream(T0 + SECOND, 10);
        liveness.pathProbeSent(3, last);
        assertEquals(Quiet.NONE, liveness.quiet(last + 500 * MS, false, true));
        liveness.acked(3);
        assertEquals(Quiet.STREAM_STOPPED, liveness.quiet(last + 500 * MS, false, true));
    }

    @Test
    void onTheRelaySendingWhileHearingNothingForTwoSecondsIsProbed() {
        liveness.opened(T0);
        liveness.sent(T0 + 1_900 * MS);
        assertEquals(Quiet.NONE, liveness.quiet(T0 + 2 * SECOND - 1, true, true));
        assertEquals(Quiet.NONE, liveness.quiet(T0 + 2 * SECOND, false, true), "a direct path has other rules");
        assertEquals(Quiet.RELAY_QUIET, liveness.quiet(T0 + 2 * SECOND, true, true));
        assertEquals(Quiet.NONE, liveness.quiet(T0 + 2_100 * MS, true, true), "once per spell");
    }

    @Test
    void onTheRelayNotSendingIsNoQuietSpell() {
        liveness.opened(T0);
        assertEquals(Quiet.NONE, liveness.quiet(T0 + 3 * SECOND, true, true), "nothing sent since opening");
        liveness.sent(T0 + SECOND);
        assertEquals(Quiet.NONE, liveness.quiet(T0 + 3_100 * MS, true, true), "the last send is 2 s old");
    }
}
