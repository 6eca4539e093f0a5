package io.pinhole.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pinhole.rendezvous.RendezvousConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** ByteSizesTest: the server logs byte counts as --relay-rate and --relay-burst take them, not as raw bytes. */
class ByteSizesTest {

    @ParameterizedTest
    @CsvSource({
        "0, 0",
        "1, 1",
        "1500, 1500",
        "1024, 1K",
        "9216, 9K",
        "262144, 256K",
        "1572864, 1536K",
        "2097152, 2M",
        "2097153, 2097153",
        "4294967296, 4096M",
    })
    void aCountTakesTheLargestSuffixThatDividesItExactly(long bytes, String expected) {
        assertEquals(expected, ByteSizes.format(bytes));
    }

    @ParameterizedTest
    @CsvSource({"2M, 2M", "256K, 256K", "2048K, 2M", "64k, 64K", "1500, 1500", "9216, 9K", "0, 0"})
    void whatTheUserWroteComesBackOrItsExactEquivalent(String written, String logged) {
        assertEquals(logged, ByteSizes.format(RendezvousMain.byteCount("--relay-rate", written, 0)));
    }

    @Test
    void theStartLineGivesTheRelayBudgetInTheOptionsUnits() {
        RendezvousConfig asGiven = RendezvousConfig.defaults().withRelay(
                RendezvousMain.byteCount("--relay-rate", "2M", 0),
                RendezvousMain.byteCount("--relay-burst", "256K", RendezvousConfig.RELAY_MIN_BURST));
        assertEquals("2M/s per peer, burst 256K", RendezvousServer.relayText(asGiven));
        assertEquals("1500/s per peer, burst 9K", RendezvousServer.relayText(
                RendezvousConfig.defaults().withRelay(1500, 9216)));
        assertEquals("off", RendezvousServer.relayText(RendezvousConfig.defaults().withRelay(0, 9216)));
    }
}
