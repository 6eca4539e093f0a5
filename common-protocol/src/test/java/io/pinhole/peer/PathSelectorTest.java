package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.MS;
import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER_ROAMED;
import static io.pinhole.peer.PeerHarness.RENDEZVOUS;
import static io.pinhole.peer.PeerHarness.SECOND;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PathSelector.Move;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** PathSelectorTest: ranking, the moves an authenticated packet asks for, the brake, the fallback to the relay. */
class PathSelectorTest {
    private static final long T0 = -7 * SECOND; // time has any origin
    private static final List<InetSocketAddress> LAN = List.of(PEER_LAN, WireSamples.endpoint("10.0.3.2", 51820));
    private final PathSelector paths = new PathSelector(RENDEZVOUS, 8 * SECOND);

    @Test
    void lanCandidatesRankInTheirOrderThenPublicAddressesThenTheRelay() {
        assertEquals(0, paths.rank(PEER_LAN, LAN));
        assertEquals(1, paths.rank(LAN.get(1), LAN));
        assertEquals(PathSelector.RANK_PUBLIC, paths.rank(PEER_PUBLIC, LAN));
        assertEquals(PathSelector.RANK_PUBLIC, paths.rank(PEER_LAN, List.of()), "without candidates, public");
        assertEquals(Integer.MAX_VALUE, paths.rank(RENDEZVOUS, LAN));
    }

    @Test
    void noPathAtFirst() {
        assertNull(paths.endpoint());
        assertEquals(0, paths.socket());
        assertEquals(Integer.MAX_VALUE, paths.rank());
        assertEquals(-1, paths.rttNanos());
        assertFalse(paths.relayed());
    }

    @Test
    void theRelayAlwaysUsesTheMainSocketAndADirectPathItsOwn() {
        assertEquals(0, paths.moveDirect(PEER_PUBLIC, 3, PathSelector.RANK_PUBLIC, T0));
        assertEquals(3, paths.socket());
        assertTrue(paths.onPath(PEER_PUBLIC, 3));
        assertFalse(paths.onPath(PEER_PUBLIC, 0), "the right address on another socket is not the path");
        assertTrue(paths.directWithRelay());
        paths.measured(40 * MS);
        assertEquals(40 * MS, paths.rttNanos());

        assertEquals(3, paths.moveToRelay(T0 + SECOND), "the socket left, for the caller to close");
        assertEquals(0, paths.socket());
        assertTrue(paths.relayed());
        assertTrue(paths.onPath(RENDEZVOUS, 0));
        assertTrue(paths.onPath(RENDEZVOUS, 5), "the relay is the path whichever socket (frames are unwrapped)");
        assertEquals(-1, paths.rttNanos(), "a new path has no RTT yet");
        assertEquals(T0 + SECOND, paths.since());
        assertEquals(0, paths.clear());
        assertNull(paths.endpoint());
    }

    @Test
    void aDirectPathBeatsTheRelayAtOnce() {
        paths.moveToRelay(T0);
        assertEquals(Move.UP_FROM_RELAY, paths.choose(PEER_PUBLIC, PathSelector.RANK_PUBLIC, T0 + MS));
    }

    @Test
    void onADirectPathABetterOrEqualAddressTakesOverAtOnceAWorseOneOnlyAfterQuiet() {
        paths.moveDirect(PEER_PUBLIC, 0, PathSelector.RANK_PUBLIC, T0);
        assertEquals(Move.ROAM, paths.choose(PEER_LAN, 0, T0 + MS), "a LAN candidate");
        paths.moveDirect(PEER_LAN, 0, 0, T0 + MS);
        assertEquals(Move.STAY, paths.choose(PEER_ROAMED, PathSelector.RANK_PUBLIC, T0 + MS + 2 * SECOND - 1));
        assertEquals(Move.ROAM, paths.choose(PEER_ROAMED, PathSelector.RANK_PUBLIC, T0 + MS + 2 * SECOND),
                "the LAN path has been quiet 2 s");
        paths.moveDirect(PEER_ROAMED, 0, PathSelector.RANK_PUBLIC, T0 + 3 * SECOND);
        assertEquals(Move.ROAM, paths.choose(PEER_PUBLIC, PathSelector.RANK_PUBLIC, T0 + 3 * SECOND + MS),
                "an equal rank: the partner roamed");
    }

    @Test
    void theRelayTakesOverOnlyFromADirectPathQuietForTwoSeconds() {
        paths.moveDirect(PEER_PUBLIC, 0, PathSelector.RANK_PUBLIC, T0);
        paths.directHeard(T0 + SECOND);
        assertEquals(Move.STAY, paths.choose(RENDEZVOUS, Integer.MAX_VALUE, T0 + 3 * SECOND - 1));
        assertEquals(Move.FOLLOW_TO_RELAY, paths.choose(RENDEZVOUS, Integer.MAX_VALUE, T0 + 3 * SECOND));
        assertEquals(T0 + SECOND, paths.lastDirectAt());
    }

    @Test
    void moreThanFourMovesWithinSecondsAreHeldOff() {
        paths.moveDirect(PEER_PUBLIC, 0, PathSelector.RANK_PUBLIC, T0);
        InetSocketAddress[] two = {PEER_ROAMED, PEER_PUBLIC};
        long now = T0;
        for (int i = 0; i < paths.maxMoves(); i++) {
            now += 100 * MS;
            assertEquals(Move.ROAM, paths.choose(two[i % 2], PathSelector.RANK_PUBLIC, now));
            paths.moveDirect(two[i % 2], 0, PathSelector.RANK_PUBLIC, now);
        }
        assertEquals(Move.HOLD, paths.choose(PEER_LAN, 0, now + 100 * MS));
        assertTrue(paths.movesHeld(now + 100 * MS));
        assertTrue(paths.movesHeld(now + 100 * MS + 60 * SECOND - 1), "held for a minute");
        assertFalse(paths.movesHeld(now + 100 * MS + 60 * SECOND));
    }

    @Test
    void aStayCountsNoMoveAgainstTheBrake() {
        paths.moveDirect(PEER_LAN, 0, 0, T0);
        for (int i = 0; i < 10; i++) {
            assertEquals(Move.STAY, paths.choose(PEER_PUBLIC, PathSelector.RANK_PUBLIC, T0 + i * MS));
        }
        assertEquals(Move.ROAM, paths.choose(LAN.get(1), 0, T0 + 10 * MS), "an equal rank still moves");
    }

    @Test
    void aSilentDirectPathFallsBackToTheRelayAfterEightSeconds() {
        paths.moveDirect(PEER_PUBLIC, 0, PathSelector.RANK_PUBLIC, T0);
        assertFalse(paths.directSilent(T0 + 8 * SECOND - 1));
        assertTrue(paths.directSilent(T0 + 8 * SECOND));
        paths.directHeard(T0 + 8 * SECOND);
        assertFalse(paths.directSilent(T0 + 8 * SECOND));
        paths.moveToRelay(T0 + 9 * SECOND);
        assertFalse(paths.directSilent(T0 + 60 * SECOND), "the relay has no fallback");
    }

    @Test
    void withoutTheRelayNothingFallsBackAndEveryAddressIsDirect() {
        PathSelector alone = new PathSelector(null, 8 * SECOND);
        alone.moveDirect(PEER_PUBLIC, 0, PathSelector.RANK_PUBLIC, T0);
        assertFalse(alone.directWithRelay());
        assertFalse(alone.directSilent(T0 + 60 * SECOND));
        assertEquals(PathSelector.RANK_PUBLIC, alone.rank(RENDEZVOUS, LAN));
        assertEquals(Move.ROAM, alone.choose(PEER_ROAMED, PathSelector.RANK_PUBLIC, T0 + MS));
    }
}
