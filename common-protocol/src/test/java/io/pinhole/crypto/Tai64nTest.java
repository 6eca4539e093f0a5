package io.pinhole.crypto;

import static io.pinhole.crypto.CryptoHex.bytes;
import static io.pinhole.crypto.CryptoHex.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.DateTimeException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Tai64nTest: WireGuard's TAI64N encoding (label 2^62 + 10 + unix seconds, big-endian; then
 * nanoseconds, big-endian) and its replay ordering. Expected bytes are worked out by hand in the
 * comments.
 */
class Tai64nTest {

    @Test
    void unixEpoch() {
        assertEquals("400000000000000a" + "00000000", hex(Tai64n.of(Instant.EPOCH).toBytes()));
    }

    @Test
    void knownInstant() {
        // 1_700_000_000 s = 0x6553f100, so the label is 0x400000006553f10a; 123_456_789 ns = 0x075bcd15
        Tai64n t = Tai64n.of(Instant.ofEpochSecond(1_700_000_000L, 123_456_789));
        assertEquals("400000006553f10a" + "075bcd15", hex(t.toBytes()));
        assertEquals(0x400000006553f10aL, t.label());
        assertEquals(123_456_789L, t.nanos());
        assertEquals("400000006553f10a075bcd15", t.toString());
    }

    @Test
    void beforeTheEpoch() {
        // one nanosecond before 1970: label 2^62 + 10 - 1, nanos 999_999_999 = 0x3b9ac9ff
        assertEquals("4000000000000009" + "3b9ac9ff",
                hex(Tai64n.of(Instant.EPOCH.minusNanos(1)).toBytes()));
    }

    @Test
    void bytesRoundTrip() {
        Instant instant = Instant.parse("2024-02-29T12:34:56.000000789Z");
        Tai64n t = Tai64n.of(instant);
        assertEquals(instant, t.toInstant());
        assertEquals(t, Tai64n.fromBytes(t.toBytes()));
        assertEquals(t.hashCode(), Tai64n.fromBytes(t.toBytes()).hashCode());
        byte[] packet = new byte[20];
        t.writeTo(packet, 4);
        assertEquals(t, Tai64n.fromBytes(packet, 4));
        byte[] raw = t.toBytes();
        raw[0] ^= 1; // the copy is not the timestamp's own array
        assertNotEquals(t, Tai64n.fromBytes(raw));
        assertArrayEquals(Tai64n.of(instant).toBytes(), t.toBytes());
    }

    @Test
    void replayOrdering() {
        Tai64n base = Tai64n.of(Instant.ofEpochSecond(1_700_000_000L, 500));
        Tai64n oneNanoLater = Tai64n.of(Instant.ofEpochSecond(1_700_000_000L, 501));
        Tai64n nextSecondSmallerNanos = Tai64n.of(Instant.ofEpochSecond(1_700_000_001L, 0));
        Tai64n same = Tai64n.of(Instant.ofEpochSecond(1_700_000_000L, 500));

        assertTrue(oneNanoLater.isAfter(base));
        assertTrue(nextSecondSmallerNanos.isAfter(oneNanoLater));
        assertFalse(base.isAfter(oneNanoLater));
        assertFalse(same.isAfter(base), "an equal timestamp is a replay");
        assertEquals(0, same.compareTo(base));
        assertTrue(Tai64n.of(Instant.EPOCH).isAfter(Tai64n.of(Instant.EPOCH.minusSeconds(1))));
    }

    @Test
    void ordersReceivedBytesAsUnsignedNumbers() {
        // 0x80 in the last nanosecond byte is bigger than 0x7f, not a negative byte
        Tai64n low = Tai64n.fromBytes(bytes("400000006553f10a0000007f"));
        Tai64n high = Tai64n.fromBytes(bytes("400000006553f10a00000080"));
        assertTrue(high.isAfter(low));
        assertTrue(Tai64n.fromBytes(bytes("ff0000000000000000000000")).isAfter(low));
    }

    @Test
    void rejectsMalformedInput() {
        assertThrows(IllegalArgumentException.class, () -> Tai64n.fromBytes(new byte[11]));
        assertThrows(IndexOutOfBoundsException.class, () -> Tai64n.fromBytes(new byte[12], 1));
        assertThrows(DateTimeException.class, () -> Tai64n.fromBytes(bytes("400000000000000a3b9aca00")).toInstant());
        // labels beyond what an Instant can hold, below and above 2^63
        assertThrows(DateTimeException.class, () -> Tai64n.fromBytes(bytes("7f0000000000000000000000")).toInstant());
        assertThrows(DateTimeException.class, () -> Tai64n.fromBytes(bytes("ff0000000000000000000000")).toInstant());
    }
}
