package io.pinhole.device;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * IndexTable: WireGuard's receiver indices for a whole device: a 32-bit index, non-zero and chosen
 * at random, mapped to what a message carrying it as its receiver belongs to (a peer's keypair or
 * handshake). The control side allocates a fresh unused index for a value ({@link #allocate}),
 * points it at another value ({@link #replace}, as when a handshake's index becomes its keypair's)
 * and removes it; data threads look indices up ({@link #get}) with no lock, no boxing and no
 * allocation.
 *
 * <p>Structure: an open-addressing hash table with linear probing over an {@code int[]} of keys
 * and a parallel array of immutable {@code (index, value)} entries; free slots hold 0, removed
 * ones a tombstone, so a slot, once taken, never becomes free again in the same arrays. The load
 * (live entries plus tombstones) is kept at most 1/2; past it the writer builds new arrays sized for
 * the live entries and publishes them through one volatile field. Inserts, replacements and
 * removals write the current arrays in place: O(1) each, no copy.
 *
 * <p>Thread safety: single writer, many readers. {@link #allocate}, {@link #replace} and
 * {@link #remove} are meant for the control side's owner thread; they are also serialised by this
 * object's monitor, so a second writer is safe, only slower. {@link #get} and {@link #size} take
 * no lock and may run on any number of threads at once.
 *
 * <p>Memory-model argument. The writer fills a slot by a release write of its entry, then a
 * release write of its key; it replaces a value by a release write of a new entry; it removes by
 * a release write of the tombstone key, then of a null entry. A reader reads the volatile arrays
 * field once, then keys and entries with acquire reads, and returns a value only from an entry
 * whose own (final) index equals the one asked for. So:
 * <ul>
 *   <li>no torn answer: entries are immutable with final fields, so a reader that sees an entry
 *       sees its index and value as constructed; the value returned for index {@code i} is one
 *       the writer stored for {@code i}, which was in the table at some moment of the lookup
 *       (a reader that meets a slot being reused sees a mismatching or null entry and goes on);
 *   <li>the value's own state: everything the writer did to it before inserting it
 *       happens-before (release, then acquire) the reader's use of it;
 *   <li>nothing missed: an entry present since before the lookup (in happens-before order) is
 *       found, because the slots on its probe path were taken before it was inserted, are never
 *       freed, and those writes are visible to the reader;
 *   <li>a resize publishes arrays filled before the volatile write; a reader still in the old
 *       arrays sees the table as it was when they were replaced, which is an earlier state.
 * </ul>
 *
 * <p>Error contract: {@link #get} never throws (0, the tombstone and unknown indices are
 * {@code null}); a null value is refused with {@link NullPointerException}; {@link #allocate} on
 * a table of {@link #MAX_SIZE} entries throws {@link FullException}.
 *
 * @param <V> the value type
 */
public final class IndexTable<V> {
    /** The most entries a table holds; far beyond any device's keypairs and handshakes. */
    public static final int MAX_SIZE = 1 << 24;
    private static final int EMPTY = 0;
    /** Marks a removed slot; never allocated as an index. */
    private static final int TOMBSTONE = Integer.MIN_VALUE;
    private static final int MIN_CAPACITY = 16;
    private static final VarHandle KEYS = MethodHandles.arrayElementVarHandle(int[].class);
    private static final VarHandle ENTRIES = MethodHandles.arrayElementVarHandle(Entry[].class);

    /** {@link #allocate} found the table holding {@link #MAX_SIZE} entries. */
    public static final class FullException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        FullException() {
            super("index table holds " + MAX_SIZE + " entries, its maximum");
        }
    }

    private record Entry<V>(int index, V value) {
    }

    private static final class Slots {
        final int[] keys;
        final Entry<?>[] entries;
        final int mask;
        final int shift;

        Slots(int capacity) {
            keys = new int[capacity];
            entries = new Entry<?>[capacity];
            mask = capacity - 1;
            shift = 32 - Integer.numberOfTrailingZeros(capacity);
        }

        int home(int index) {
            return (index * 0x9E3779B9) >>> shift;
        }
    }

    private final RandomGenerator random;
    private volatile Slots slots = new Slots(MIN_CAPACITY);
    private volatile int size;
    /** Live entries plus tombstones in {@link #slots}; writer only. */
    private int taken;

    /**
     * An empty table drawing its indices from {@code random} (a {@link java.security.SecureRandom}
     * in production: WireGuard's indices must not be guessable). Only the writer uses it.
     */
    public IndexTable(RandomGenerator random) {
        this.random = Objects.requireNonNull(random, "random");
    }

    /**
     * Maps a fresh index to {@code value} and returns it: random, non-zero, not
     * {@code Integer.MIN_VALUE}, and held by no other entry.
     *
     * @throws FullException when the table holds {@link #MAX_SIZE} entries
     */
    public synchronized int allocate(V value) {
        Objects.requireNonNull(value, "value");
        if (size >= MAX_SIZE) {
            throw new FullException();
        }
        int index;
        do {
            index = random.nextInt();
        } while (index == EMPTY || index == TOMBSTONE || find(slots, index) >= 0);
        if (taken + 1 > (slots.mask + 1) / 2) {
            resize();
        }
        Slots s = slots;
        int i = s.home(index);
        while (true) {
            int k = s.keys[i];
            if (k == EMPTY || k == TOMBSTONE) {
                break;
            }
            i = (i + 1) & s.mask;
        }
        if (s.keys[i] == EMPTY) {
            taken++;
        }
        ENTRIES.setRelease(s.entries, i, new Entry<>(index, value));
        KEYS.setRelease(s.keys, i, index);
        size = size + 1;
        return index;
    }

    /**
     * Points {@code index} at {@code value} if the table holds it; returns the previous value, or
     * null (and changes nothing) if it does not.
     */
    public synchronized V replace(int index, V value) {
        Objects.requireNonNull(value, "value");
        Slots s = slots;
        int i = find(s, index);
        if (i < 0) {
            return null;
        }
        V previous = valueAt(s, i);
        ENTRIES.setRelease(s.entries, i, new Entry<>(index, value));
        return previous;
    }

    /** Removes {@code index}; returns its value, or null if the table did not hold it. */
    public synchronized V remove(int index) {
        Slots s = slots;
        int i = find(s, index);
        if (i < 0) {
            return null;
        }
        V previous = valueAt(s, i);
        KEYS.setRelease(s.keys, i, TOMBSTONE);
        ENTRIES.setRelease(s.entries, i, null);
        size = size - 1;
        return previous;
    }

    /** The value of {@code index}, or null. Lock-free, allocation-free, never throws. */
    public V get(int index) {
        if (index == EMPTY || index == TOMBSTONE) {
            return null;
        }
        Slots s = slots;
        int[] keys = s.keys;
        Entry<?>[] entries = s.entries;
        int mask = s.mask;
        int i = s.home(index);
        for (int n = 0; n <= mask; n++, i = (i + 1) & mask) {
            int k = (int) KEYS.getAcquire(keys, i);
            if (k == index) {
                Entry<?> e = (Entry<?>) ENTRIES.getAcquire(entries, i);
                if (e != null && e.index == index) {
                    @SuppressWarnings("unchecked")
                    V v = (V) e.value;
                    return v;
                }
            } else if (k == EMPTY) {
                return null;
            }
        }
        return null;
    }

    /** The number of indices held. */
    public int size() {
        return size;
    }

    /** The slot holding {@code index}, or -1; writer only (plain reads of its own writes). */
    private static int find(Slots s, int index) {
        if (index == EMPTY || index == TOMBSTONE) {
            return -1;
        }
        int i = s.home(index);
        for (int n = 0; n <= s.mask; n++, i = (i + 1) & s.mask) {
            int k = s.keys[i];
            if (k == index) {
                return i;
            }
            if (k == EMPTY) {
                return -1;
            }
        }
        return -1;
    }

    @SuppressWarnings("unchecked")
    private V valueAt(Slots s, int i) {
        return ((Entry<V>) s.entries[i]).value;
    }

    /** New arrays for the live entries at load at most 1/4, published by the volatile write. */
    private void resize() {
        Slots old = slots;
        int capacity = MIN_CAPACITY;
        while (capacity < 4L * (size + 1)) {
            capacity <<= 1;
        }
        Slots next = new Slots(capacity);
        for (int j = 0; j <= old.mask; j++) {
            int k = old.keys[j];
            if (k != EMPTY && k != TOMBSTONE) {
                int i = next.home(k);
                while (next.keys[i] != EMPTY) {
                    i = (i + 1) & next.mask;
                }
                next.keys[i] = k;
                next.entries[i] = old.entries[j];
            }
        }
        taken = size;
        slots = next;
    }
}
