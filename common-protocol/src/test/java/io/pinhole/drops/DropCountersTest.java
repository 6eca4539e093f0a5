package io.pinhole.drops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DropCountersTest {
    private enum Reason { FIRST, SECOND, THIRD }

    @Test
    void startsEmpty() {
        DropCounters<Reason> drops = new DropCounters<>(Reason.class);
        assertTrue(drops.snapshot().isEmpty());
        assertEquals(0, drops.total());
        assertEquals(0, drops.get(Reason.SECOND));
    }

    @Test
    void countsEachReasonApart() {
        DropCounters<Reason> drops = new DropCounters<>(Reason.class);
        drops.count(Reason.THIRD);
        drops.count(Reason.FIRST);
        drops.count(Reason.THIRD);
        drops.add(Reason.FIRST, 5);
        assertEquals(6, drops.get(Reason.FIRST));
        assertEquals(0, drops.get(Reason.SECOND));
        assertEquals(2, drops.get(Reason.THIRD));
        assertEquals(8, drops.total());
    }

    @Test
    void snapshotHoldsOnlyReasonsThatHappenedInEnumOrderAndIsACopy() {
        DropCounters<Reason> drops = new DropCounters<>(Reason.class);
        drops.count(Reason.THIRD);
        drops.count(Reason.FIRST);
        drops.add(Reason.SECOND, 0); // nothing happened
        Map<Reason, Long> snapshot = drops.snapshot();
        assertEquals(Map.of(Reason.FIRST, 1L, Reason.THIRD, 1L), snapshot);
        assertEquals("[FIRST, THIRD]", snapshot.keySet().toString());
        drops.count(Reason.FIRST);
        assertEquals(1L, snapshot.get(Reason.FIRST), "a snapshot does not follow later counts");
        snapshot.put(Reason.SECOND, 9L);
        assertEquals(0, drops.get(Reason.SECOND), "changing a snapshot changes no counter");
        assertEquals("{FIRST=2, THIRD=1}", drops.toString());
    }

    @Test
    void refusesANegativeAdd() {
        DropCounters<Reason> drops = new DropCounters<>(Reason.class);
        assertThrows(IllegalArgumentException.class, () -> drops.add(Reason.FIRST, -1));
        assertEquals(0, drops.total());
    }

    @Test
    void refusesANullReason() {
        DropCounters<Reason> drops = new DropCounters<>(Reason.class);
        assertThrows(NullPointerException.class, () -> drops.count(null));
    }
}
