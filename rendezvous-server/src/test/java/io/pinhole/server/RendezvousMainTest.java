package io.pinhole.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RendezvousMainTest: {@code pinhole-rendezvous} reads byte counts with K and M suffixes, and
 * refuses bad relay options before binding anything, with exit code 2 and one line naming the
 * option.
 */
class RendezvousMainTest {
    private record Result(int code, String err) {
    }

    /** Runs the command; returns the exit code and what it printed on stderr. */
    private static Result run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return new Result(RendezvousMain.run(args), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    @Test
    void byteCountsArePlainOrKibiOrMebi() {
        assertEquals(0, RendezvousMain.byteCount("--relay-rate", "0", 0));
        assertEquals(1500, RendezvousMain.byteCount("--relay-rate", "1500", 0));
        assertEquals(64 * 1024, RendezvousMain.byteCount("--relay-rate", "64K", 0));
        assertEquals(64 * 1024, RendezvousMain.byteCount("--relay-rate", "64k", 0));
        assertEquals(2 * 1024 * 1024, RendezvousMain.byteCount("--relay-rate", "2M", 0));
        assertEquals(4096L << 20, RendezvousMain.byteCount("--relay-rate", "4096M", 0), "the largest");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "1.5M", "2G", "2 M", "M", "K2", "4097M", "99999999999999999999", "0x10"})
    void anythingElseIsNotAByteCount(String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RendezvousMain.byteCount("--relay-rate", value, 0));
        assertTrue(e.getMessage().startsWith("--relay-rate: '" + value + "' is not a byte count"), e.getMessage());
    }

    @Test
    void aBadRelayRateExitsTwoWithOneLine() {
        Result r = run("--listen", "127.0.0.1:0", "--relay-rate", "fast");
        assertEquals(2, r.code(), r.err());
        assertEquals("pinhole-rendezvous: --relay-rate: 'fast' is not a byte count from 0 to 4294967296 "
                + "(a whole number, or with K = 1024 or M = 1048576, e.g. 2M)\n", r.err().replace("\r", ""));
    }

    @Test
    void aBurstTooSmallForOneFullSizeFrameExitsTwo() {
        Result r = run("--listen", "127.0.0.1:0", "--relay-burst", "8K");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("pinhole-rendezvous: --relay-burst: '8K' is not a byte count from 9216 "),
                r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }
}
