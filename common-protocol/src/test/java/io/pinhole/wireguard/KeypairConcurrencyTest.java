package io.pinhole.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.AuthenticationFailedException;
import io.pinhole.crypto.ChaCha20Poly1305;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * KeypairConcurrencyTest: a keypair used by data threads while the control side wipes it. Every
 * seal that returns was made with the whole key (it opens with a copy of the key taken before),
 * a seal or open after the wipe is refused, counters are handed out once each across threads, and
 * the replay check takes each counter once across threads.
 */
class KeypairConcurrencyTest {
    private static final byte[] NO_AAD = new byte[0];

    private static byte[] key(int seed) {
        byte[] k = new byte[ChaCha20Poly1305.KEY_LENGTH];
        for (int i = 0; i < k.length; i++) {
            k[i] = (byte) (seed * 31 + i * 7 + 1);
        }
        return k;
    }

    @Test
    void aSealThatReturnsDespiteAConcurrentWipeUsedTheWholeKey() throws Exception {
        ChaCha20Poly1305 checker = new ChaCha20Poly1305();
        int returned = 0;
        int refused = 0;
        for (int round = 0; round < 400; round++) {
            byte[] sendKey = key(round);
            byte[] copy = sendKey.clone();
            Keypair kp = new Keypair(sendKey, key(round + 1000), 1, 2, 0, true);
            CountDownLatch go = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            int[] made = {0};
            Thread sealer = new Thread(() -> {
                ChaCha20Poly1305 aead = new ChaCha20Poly1305();
                ChaCha20Poly1305 verify = new ChaCha20Poly1305();
                try {
                    go.await();
                    for (int i = 0; i < 50; i++) {
                        byte[] buf = new byte[64 + ChaCha20Poly1305.TAG_LENGTH];
                        Arrays.fill(buf, 0, 64, (byte) i);
                        long counter = kp.nextCounter();
                        try {
                            kp.seal(aead, counter, buf, 0, 64, NO_AAD);
                        } catch (KeypairWipedException e) {
                            return; // refused: nothing to send
                        }
                        // it returned: it must open under the real key
                        byte[] out = new byte[64];
                        verify.open(copy, counter, buf, 0, buf.length, NO_AAD, out, 0);
                        made[0]++;
                    }
                } catch (AuthenticationFailedException e) {
                    failure.set(new AssertionError("a seal returned a message made with a wiped key", e));
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            sealer.start();
            go.countDown();
            for (int spin = 0; spin < (round % 40) * 50; spin++) {
                Thread.onSpinWait();
            }
            kp.wipe();
            sealer.join(10_000);
            if (failure.get() != null) {
                throw new AssertionError("round " + round, failure.get());
            }
            if (made[0] == 50) {
                returned++;
            } else {
                refused++;
            }
            assertTrue(kp.keysAreZero(), "wiped");
        }
        assertTrue(returned + refused == 400);
        Keypair wiped = new Keypair(key(1), key(2), 1, 2, 0, true);
        wiped.wipe();
        assertThrows(KeypairWipedException.class, () -> wiped.seal(checker, 0, new byte[32], 0, 16, NO_AAD));
        assertThrows(KeypairWipedException.class, () -> wiped.open(checker, 0, new byte[32], 0, 32, NO_AAD,
                new byte[16]));
    }

    @Test
    void countersAndTheReplayWindowTakeEachValueOnceAcrossThreads() throws Exception {
        Keypair kp = new Keypair(key(1), key(2), 1, 2, 0, true);
        int threads = 4;
        int each = 20_000;
        Set<Long>[] taken = new Set[threads];
        int[] accepted = new int[threads];
        Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int me = t;
            taken[t] = new HashSet<>();
            workers[t] = new Thread(() -> {
                for (int i = 0; i < each; i++) {
                    taken[me].add(kp.nextCounter());
                    if (kp.acceptCounter(i, Protocol.REJECT_AFTER_MESSAGES)) { // every thread offers 0..each-1
                        accepted[me]++;
                    }
                }
            });
            workers[t].start();
        }
        Set<Long> all = new HashSet<>();
        int acceptedTotal = 0;
        for (int t = 0; t < threads; t++) {
            workers[t].join();
            all.addAll(taken[t]);
            acceptedTotal += accepted[t];
        }
        assertEquals((long) threads * each, all.size(), "no counter handed out twice");
        assertEquals(threads * each, kp.sendCounter());
        assertTrue(acceptedTotal <= each, "each counter accepted at most once across threads: " + acceptedTotal);
        assertTrue(acceptedTotal > 0);
    }
}
