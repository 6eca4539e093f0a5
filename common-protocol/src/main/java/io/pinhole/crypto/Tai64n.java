package io.pinhole.crypto;

import java.time.DateTimeException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * Tai64n: the 12-byte TAI64N timestamp carried (encrypted) in WireGuard's handshake initiation:
 * 8 bytes big-endian of {@code 2^62 + 10 + unix seconds} (WireGuard's TAI64 label offset
 * {@code 0x400000000000000a}, which ignores leap seconds exactly as the WireGuard implementations
 * do), then 4 bytes big-endian of the nanoseconds within the second.
 *
 * <p>It is built from an {@link Instant} the caller passes in; this class never reads a clock.
 * (The WireGuard implementations coarsen the nanoseconds before sending, to avoid leaking timing;
 * that policy belongs to the caller, which can truncate the Instant first.)
 *
 * <p>Ordering is that of the 12 bytes compared as unsigned big-endian numbers, which is how
 * WireGuard applies its replay rule (accept an initiation only if its timestamp is strictly
 * greater than the greatest seen from that peer): {@link #isAfter}, {@link #compareTo}.
 *
 * <p>Immutable and thread-safe; equality is by value. Errors: {@link #fromBytes} of anything but 12
 * bytes is an {@link IllegalArgumentException}; {@link #toInstant()} of a value outside the range
 * an Instant can hold, or with nanoseconds of 10^9 or more, is a {@link DateTimeException}.
 */
public final class Tai64n implements Comparable<Tai64n> {
    /** Encoded length in bytes. */
    public static final int LENGTH = 12;
    /** TAI64 label of the Unix epoch as WireGuard writes it: 2^62 + 10. */
    public static final long UNIX_EPOCH_LABEL = 0x400000000000000aL;

    private final byte[] bytes;

    private Tai64n(byte[] bytes) {
        this.bytes = bytes;
    }

    /** The timestamp of {@code instant} (any Instant fits). */
    public static Tai64n of(Instant instant) {
        byte[] b = new byte[LENGTH];
        putLong(UNIX_EPOCH_LABEL + instant.getEpochSecond(), b, 0);
        int nanos = instant.getNano();
        b[8] = (byte) (nanos >>> 24);
        b[9] = (byte) (nanos >>> 16);
        b[10] = (byte) (nanos >>> 8);
        b[11] = (byte) nanos;
        return new Tai64n(b);
    }

    /**
     * Wraps a copy of 12 received bytes. Any bytes are accepted, so the replay comparison works on
     * exactly what the peer sent.
     */
    public static Tai64n fromBytes(byte[] raw) {
        Objects.requireNonNull(raw, "raw");
        if (raw.length != LENGTH) {
            throw new IllegalArgumentException("TAI64N timestamp must be 12 bytes, got " + raw.length);
        }
        return new Tai64n(raw.clone());
    }

    /** Wraps a copy of {@code raw[off .. off+12)}. */
    public static Tai64n fromBytes(byte[] raw, int off) {
        Objects.checkFromIndexSize(off, LENGTH, raw.length);
        return new Tai64n(Arrays.copyOfRange(raw, off, off + LENGTH));
    }

    /** A copy of the 12 bytes. */
    public byte[] toBytes() {
        return bytes.clone();
    }

    /** Writes the 12 bytes at {@code out[off]}. */
    public void writeTo(byte[] out, int off) {
        Objects.checkFromIndexSize(off, LENGTH, out.length);
        System.arraycopy(bytes, 0, out, off, LENGTH);
    }

    /** The 64-bit seconds label (unsigned; WireGuard's is {@code 2^62 + 10 + unix seconds}). */
    public long label() {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (bytes[i] & 0xff);
        }
        return v;
    }

    /** The 32-bit nanoseconds field (unsigned; below 10^9 in any well-formed timestamp). */
    public long nanos() {
        return ((bytes[8] & 0xffL) << 24) | ((bytes[9] & 0xff) << 16) | ((bytes[10] & 0xff) << 8) | (bytes[11] & 0xff);
    }

    /**
     * The Instant this timestamp denotes.
     *
     * @throws DateTimeException if it is outside Instant's range or its nanoseconds field is 10^9 or more
     */
    public Instant toInstant() {
        long nanos = nanos();
        if (nanos >= 1_000_000_000L) {
            throw new DateTimeException("TAI64N nanoseconds out of range: " + nanos);
        }
        long label = label();
        if (label < 0) {
            // above 2^63: no Instant is that far away
            throw new DateTimeException("TAI64N label out of Instant's range");
        }
        return Instant.ofEpochSecond(label - UNIX_EPOCH_LABEL, nanos);
    }

    /** True if this timestamp is strictly later than {@code other} (WireGuard's replay rule). */
    public boolean isAfter(Tai64n other) {
        return compareTo(other) > 0;
    }

    /** Orders as the 12 bytes read as one unsigned big-endian number. */
    @Override
    public int compareTo(Tai64n other) {
        return Arrays.compareUnsigned(bytes, other.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tai64n && Arrays.equals(bytes, ((Tai64n) o).bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** The 24 hex digits, as TAI64N is usually printed (with a leading {@code @} in daemontools). */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(2 * LENGTH);
        for (byte b : bytes) {
            s.append(Character.forDigit((b >>> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return s.toString();
    }

    private static void putLong(long v, byte[] b, int off) {
        for (int i = 7; i >= 0; i--) {
            b[off + i] = (byte) v;
            v >>>= 8;
        }
    }
}
