package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class CloseGateTest {

    @Test
    void closeWithoutUsersRunsTheActionOnceRightAway() {
        AtomicInteger runs = new AtomicInteger();
        CloseGate gate = new CloseGate(runs::incrementAndGet);
        assertTrue(gate.beginClose());
        assertFalse(gate.isClosed(), "the closer still holds its slot");
        gate.exit();
        assertEquals(1, runs.get());
        assertTrue(gate.isClosed());
        assertFalse(gate.beginClose(), "second close is a no-op");
        assertFalse(gate.enter());
        gate.awaitClosed();
        assertEquals(1, runs.get());
    }

    @Test
    void actionWaitsForTheLastUserAndRunsOnItsThread() throws Exception {
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        CloseGate gate = new CloseGate(() -> ranOn.set(Thread.currentThread()));
        assertTrue(gate.enter());
        assertTrue(gate.enter());
        assertTrue(gate.beginClose());
        gate.exit(); // closer leaves
        assertTrue(gate.isCloseRequested());
        assertFalse(gate.enter(), "no new users once close is requested");
        gate.exit();
        assertFalse(gate.isClosed(), "one user is still inside");
        Thread last = new Thread(gate::exit);
        last.start();
        last.join();
        assertTrue(gate.awaitClosed(10, TimeUnit.SECONDS));
        assertSame(last, ranOn.get());
    }

    @Test
    void underContentionTheActionRunsExactlyOnceAndNeverWhileInUse() throws Exception {
        for (int round = 0; round < 50; round++) {
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger runs = new AtomicInteger();
            AtomicInteger violations = new AtomicInteger();
            CloseGate gate = new CloseGate(() -> {
                runs.incrementAndGet();
                if (inside.get() != 0) {
                    violations.incrementAndGet();
                }
            });
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                Thread th = new Thread(() -> {
                    awaitQuietly(go);
                    while (gate.enter()) {
                        inside.incrementAndGet();
                        Thread.onSpinWait();
                        inside.decrementAndGet();
                        gate.exit();
                    }
                });
                threads.add(th);
                th.start();
            }
            for (int c = 0; c < 3; c++) { // several concurrent closers
                Thread th = new Thread(() -> {
                    awaitQuietly(go);
                    if (gate.beginClose()) {
                        gate.exit();
                    }
                    gate.awaitClosed();
                });
                threads.add(th);
                th.start();
            }
            go.countDown();
            for (Thread th : threads) {
                th.join(Duration.ofSeconds(20).toMillis());
                assertFalse(th.isAlive(), "thread stuck in round " + round);
            }
            assertEquals(1, runs.get(), "close action runs exactly once");
            assertEquals(0, violations.get(), "close action never runs while a user is inside");
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
