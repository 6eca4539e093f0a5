package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

class CryptoWarmUpTest {
    @Test
    void everyRoundTripIsMadeAndChecked() {
        // two packet sizes, each sealed and opened through arrays and through direct buffers
        assertEquals(2 * 50, CryptoWarmUp.run(50));
    }

    @Test
    void startRunsOnADaemonThreadThatEnds() throws InterruptedException {
        Thread t = CryptoWarmUp.start();
        assertEquals("pinhole-warm-up", t.getName());
        t.join(60_000);
        assertFalse(t.isAlive());
    }
}
