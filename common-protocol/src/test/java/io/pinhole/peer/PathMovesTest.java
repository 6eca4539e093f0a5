package io.pinhole.peer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PathMovesTest {
    private static final long S = 1_000_000_000L;

    @Test
    void allowsMaxMovesInTheWindowThenHoldsForTheHoldTime() {
        PathMoves moves = new PathMoves(3, 5 * S, 60 * S);
        long t = 1_000 * S;
        assertTrue(moves.allow(t));
        assertTrue(moves.allow(t + S));
        assertTrue(moves.allow(t + 2 * S));
        assertFalse(moves.allow(t + 3 * S), "the 4th within 5 s");
        assertTrue(moves.held(t + 3 * S));
        assertFalse(moves.allow(t + 30 * S), "held");
        assertFalse(moves.held(t + 63 * S), "the hold is over");
        assertTrue(moves.allow(t + 63 * S));
    }

    @Test
    void movesSpreadOverTheWindowAreFine() {
        PathMoves moves = PathMoves.defaults();
        long t = -7 * S; // any origin, overflow-safe comparisons
        for (int i = 0; i < 100; i++) {
            assertTrue(moves.allow(t + i * 1_300_000_000L), "move " + i);
        }
        assertFalse(moves.held(t + 100 * S));
    }

    @Test
    void theBoundaryOfTheWindowCounts() {
        PathMoves moves = new PathMoves(2, 5 * S, 10 * S);
        assertTrue(moves.allow(0));
        assertTrue(moves.allow(S));
        assertTrue(moves.allow(5 * S), "exactly one window after the first: it has left the window");
        assertFalse(moves.allow(5 * S + 1));
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new PathMoves(0, S, S));
        assertThrows(IllegalArgumentException.class, () -> new PathMoves(1, 0, S));
    }
}
