package io.pinhole.client.tun;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The open/closing/closed state machine that guards a set of file descriptors, so that they are
 * closed exactly once and never while another thread may still pass them to a system call (which
 * could hit an unrelated file that reused the number).
 *
 * <p>State is one int: bit 31 = "close requested", bits 0..30 = number of threads currently
 * using the descriptors.
 * <pre>
 *   OPEN(n)  --enter-->  OPEN(n+1)          --exit-->  OPEN(n-1)
 *   OPEN(n)  --beginClose-->  CLOSING(n+1)  (the closer holds a slot, so it may still use the fds
 *                                           to wake blocked users)
 *   CLOSING(n) --exit--> CLOSING(n-1);  CLOSING(0) == CLOSED: the thread whose exit() reached 0
 *                                           runs the close action, exactly once
 *   CLOSING/CLOSED: enter() and beginClose() fail
 * </pre>
 * Thread-safe.
 */
final class CloseGate {
    private static final int CLOSE_REQUESTED = Integer.MIN_VALUE;
    private static final int USERS_MASK = Integer.MAX_VALUE;

    private final AtomicInteger state = new AtomicInteger();
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Runnable closeAction;

    /** @param closeAction closes the guarded descriptors; runs once, on the thread that releases last */
    CloseGate(Runnable closeAction) {
        this.closeAction = closeAction;
    }

    /** Takes a user slot; false if close has been requested. A true return must be paired with {@link #exit()}. */
    boolean enter() {
        for (;;) {
            int s = state.get();
            if ((s & CLOSE_REQUESTED) != 0) {
                return false;
            }
            if ((s & USERS_MASK) == USERS_MASK) {
                throw new IllegalStateException("too many concurrent users");
            }
            if (state.compareAndSet(s, s + 1)) {
                return true;
            }
        }
    }

    /** Releases a slot taken by {@link #enter()} or {@link #beginClose()}; may run the close action. */
    void exit() {
        int s = state.decrementAndGet();
        if (s == CLOSE_REQUESTED) {
            try {
                closeAction.run();
            } finally {
                closed.countDown();
            }
        } else if ((s & USERS_MASK) == USERS_MASK) {
            throw new IllegalStateException("exit() without enter()");
        }
    }

    /**
     * Requests close and takes a slot in the same atomic step; returns false if close was already
     * requested. A true return must be paired with {@link #exit()}.
     */
    boolean beginClose() {
        for (;;) {
            int s = state.get();
            if ((s & CLOSE_REQUESTED) != 0) {
                return false;
            }
            if (state.compareAndSet(s, (s + 1) | CLOSE_REQUESTED)) {
                return true;
            }
        }
    }

    /** True once close has been requested (the descriptors may still be open for in-flight users). */
    boolean isCloseRequested() {
        return (state.get() & CLOSE_REQUESTED) != 0;
    }

    /** True once the close action has finished. */
    boolean isClosed() {
        return closed.getCount() == 0;
    }

    /**
     * Waits until the close action has run. Not interruptible: an interrupt is remembered and
     * re-asserted on return. Only useful after close was requested.
     */
    void awaitClosed() {
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    closed.await();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits up to {@code timeout} for the close action; true if it has run. */
    boolean awaitClosed(long timeout, TimeUnit unit) throws InterruptedException {
        return closed.await(timeout, unit);
    }
}
