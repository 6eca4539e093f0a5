package io.pinhole.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class IndexTableTest {
    /** A value that knows the index it was stored under, so a reader can tell a torn answer. */
    record Value(int index, int version) {
    }

    /** Hands out the given ints, then delegates; to force collisions and the reserved values. */
    static RandomGenerator scripted(int[] first, RandomGenerator then) {
        int[] next = {0};
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                return then.nextLong();
            }

            @Override
            public int nextInt() {
                return next[0] < first.length ? first[next[0]++] : then.nextInt();
            }
        };
    }

    @Test
    void agreesWithAMapUnderRandomOperations() {
        SplittableRandom r = new SplittableRandom(5);
        IndexTable<Value> table = new IndexTable<>(new SplittableRandom(6));
        Map<Integer, Value> oracle = new HashMap<>();
        List<Integer> held = new ArrayList<>();
        for (int op = 0; op < 200_000; op++) {
            int kind = r.nextInt(10);
            if (kind < 5 || held.isEmpty()) {
                Value v = new Value(0, op);
                int index = table.allocate(v);
                assertNotEquals(0, index);
                assertNotEquals(Integer.MIN_VALUE, index);
                assertNull(oracle.put(index, v), "allocated an index in use");
                held.add(index);
            } else if (kind < 8) {
                int index = held.remove(r.nextInt(held.size()));
                assertSame(oracle.remove(index), table.remove(index));
                assertNull(table.remove(index));
            } else {
                int index = held.get(r.nextInt(held.size()));
                Value v = new Value(index, op);
                assertSame(oracle.put(index, v), table.replace(index, v));
            }
            assertEquals(oracle.size(), table.size());
            int probe = r.nextInt(4) == 0 || held.isEmpty() ? r.nextInt() : held.get(r.nextInt(held.size()));
            assertSame(oracle.get(probe), table.get(probe));
            if (held.size() > 3000) { // drain now and then: tombstones, then rehashing them away
                while (held.size() > 10) {
                    int index = held.remove(held.size() - 1);
                    assertSame(oracle.remove(index), table.remove(index));
                }
            }
        }
        for (Map.Entry<Integer, Value> e : oracle.entrySet()) {
            assertSame(e.getValue(), table.get(e.getKey()));
        }
    }

    @Test
    void neverAllocatesZeroTheTombstoneOrAnIndexInUse() {
        IndexTable<String> table = new IndexTable<>(scripted(new int[] {0, Integer.MIN_VALUE, 7, 7, 0, 7, 9},
                new SplittableRandom(7)));
        assertEquals(7, table.allocate("a"));
        assertEquals(9, table.allocate("b"));
        assertEquals("a", table.get(7));
        assertEquals("b", table.get(9));
        assertNull(table.get(0));
        assertNull(table.get(Integer.MIN_VALUE));
        assertNull(table.replace(8, "c"));
        assertNull(table.get(8));
        assertEquals("a", table.replace(7, "c"));
        assertEquals("c", table.get(7));
        assertEquals("c", table.remove(7));
        assertNull(table.get(7));
        assertNull(table.remove(Integer.MIN_VALUE));
        assertEquals(1, table.size());
        assertThrows(NullPointerException.class, () -> table.allocate(null));
        assertThrows(NullPointerException.class, () -> table.replace(9, null));
    }

    @Test
    void collidingIndicesAndTombstonesOnTheProbePath() {
        // indices with the same home slot in a 16-slot table: multiples of 2^28 times an odd factor
        // differ only in the top bits the Fibonacci hash keeps; rather than rely on that, use many
        int[] many = new int[2000];
        for (int i = 0; i < many.length; i++) {
            many[i] = (i + 1) << 20; // low bits equal: a weak hash would pile them up
        }
        IndexTable<Integer> table = new IndexTable<>(scripted(many, new SplittableRandom(8)));
        Map<Integer, Integer> oracle = new HashMap<>();
        for (int i = 0; i < many.length; i++) {
            int index = table.allocate(i);
            oracle.put(index, i);
            if (i % 3 == 0) {
                int gone = many[i / 2];
                assertEquals(oracle.remove(gone), table.remove(gone));
            }
        }
        for (int i = 0; i < many.length; i++) {
            assertEquals(oracle.get(many[i]), table.get(many[i]));
        }
        assertEquals(oracle.size(), table.size());
    }

    @Test
    void aThousandPeersWorthOfIndicesFromSecureRandom() {
        IndexTable<String> table = new IndexTable<>(new SecureRandom());
        Map<Integer, String> oracle = new HashMap<>();
        for (int i = 0; i < 3000; i++) {
            String v = "keypair " + i;
            int index = table.allocate(v);
            assertNull(oracle.put(index, v));
        }
        oracle.forEach((k, v) -> assertSame(v, table.get(k)));
        assertEquals(3000, table.size());
    }

    /** A generator whose next draw the test sets: the writer knows an index before it allocates. */
    static final class Chosen implements RandomGenerator {
        int next;

        @Override
        public int nextInt() {
            return next;
        }

        @Override
        public long nextLong() {
            return next;
        }
    }

    /**
     * One writer allocates, replaces and removes (growing, shrinking and rehashing the table)
     * while readers look up: a stable set of indices is always found with its own value, and any
     * answer for any index is a value stored under that index.
     */
    @Test
    void readersNeverSeeATornOrMissingEntry() throws Exception {
        Chosen chosen = new Chosen();
        IndexTable<Value> table = new IndexTable<>(chosen);
        SplittableRandom r = new SplittableRandom(10);
        java.util.Set<Integer> inUse = new java.util.HashSet<>();
        java.util.function.IntUnaryOperator allocate = version -> {
            int index;
            do {
                index = r.nextInt(1 << 16) - (1 << 15); // a small space: collisions, reuse of removed indices
            } while (index == 0 || !inUse.add(index));
            chosen.next = index;
            assertEquals(index, table.allocate(new Value(index, version)));
            return index;
        };
        int[] stable = new int[64];
        for (int i = 0; i < stable.length; i++) {
            stable[i] = allocate.applyAsInt(0);
        }
        int[] churn = new int[4096]; // indices the writer is using, published racily to the readers
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        long[] found = new long[2];
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int id = t;
            Thread reader = new Thread(() -> {
                SplittableRandom rr = new SplittableRandom(100 + id);
                long hits = 0;
                while (!stop.get() && failure.get() == null) {
                    int s = stable[rr.nextInt(stable.length)];
                    Value v = table.get(s);
                    if (v == null || v.index() != s) {
                        failure.set("stable index " + s + " gave " + v);
                    }
                    int c = rr.nextBoolean() ? churn[rr.nextInt(churn.length)] : rr.nextInt(1 << 16) - (1 << 15);
                    Value w = table.get(c);
                    if (w != null) {
                        hits++;
                        if (w.index() != c) {
                            failure.set("index " + c + " gave the value of " + w.index());
                        }
                    }
                }
                found[id] = hits;
            });
            readers.add(reader);
            reader.start();
        }
        int live = 0;
        for (int op = 1; op <= 300_000 && failure.get() == null; op++) {
            int slot = r.nextInt(churn.length);
            if (churn[slot] == 0) {
                churn[slot] = allocate.applyAsInt(op);
                live++;
            } else if (r.nextInt(3) == 0) {
                table.replace(churn[slot], new Value(churn[slot], op));
            } else {
                table.remove(churn[slot]);
                inUse.remove(churn[slot]);
                churn[slot] = 0;
                live--;
            }
        }
        stop.set(true);
        for (Thread reader : readers) {
            reader.join();
        }
        assertNull(failure.get());
        assertEquals(stable.length + live, table.size());
        assertTrue(found[0] + found[1] > 0, "readers met the churn");
    }

    /**
     * The narrowest race: two indices with the same home slot take turns in that one slot (each
     * removal leaves a tombstone the next allocation reuses) while readers ask for both: a reader
     * must never get one index's value for the other.
     */
    @Test
    void aReusedSlotNeverAnswersForItsPreviousIndex() throws Exception {
        int first = 1;
        int second = 2;
        while (((second * 0x9E3779B9) >>> 28) != ((first * 0x9E3779B9) >>> 28)) {
            second++; // same home slot in the first, 16-slot table
        }
        int[] pair = {first, second};
        Chosen chosen = new Chosen();
        IndexTable<Value> table = new IndexTable<>(chosen);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        List<Thread> readers = new ArrayList<>();
        long[] hits = new long[2];
        for (int t = 0; t < 2; t++) {
            int id = t;
            Thread reader = new Thread(() -> {
                long n = 0;
                while (!stop.get() && failure.get() == null) {
                    for (int k : pair) {
                        Value v = table.get(k);
                        if (v != null) {
                            n++;
                            if (v.index() != k) {
                                failure.set("index " + k + " gave the value of " + v.index());
                            }
                        }
                    }
                }
                hits[id] = n;
            });
            readers.add(reader);
            reader.start();
        }
        for (int op = 0; op < 2_000_000 && failure.get() == null; op++) {
            int k = pair[op & 1];
            chosen.next = k;
            assertEquals(k, table.allocate(new Value(k, op)));
            assertEquals(k, table.remove(k).index());
        }
        stop.set(true);
        for (Thread reader : readers) {
            reader.join();
        }
        assertNull(failure.get());
        assertTrue(hits[0] + hits[1] > 0, "readers met the entries");
    }
}
