package io.pinhole.wireguard;

import io.pinhole.crypto.AuthenticationFailedException;
import io.pinhole.crypto.ChaCha20Poly1305;
import io.pinhole.replay.ReplayFilter;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.StampedLock;

/**
 * Keypair: the transport keys one handshake produced: a sending key with its counter, a
 * receiving key with its replay filter, both indices, when it was made and by which role.
 *
 * <p>The keys are used only through {@link #seal} and {@link #open} and are zeroed by
 * {@link #wipe()} when the keypair is dropped; after that both refuse with
 * {@link KeypairWipedException} (fail closed: never an all-zero key).
 *
 * <p>Thread-safety: safe for one control thread (the owning {@link WireGuardSession}'s caller,
 * which alone calls {@link #wipe()}) and any number of data threads sealing and opening at the
 * same time. The send counter is atomic ({@link #nextCounter()}); the replay filter takes its own
 * small lock ({@link #acceptCounter}); the keys are guarded against a concurrent wipe by a
 * {@link StampedLock} that readers only validate (they never write it, so sealing threads do not
 * contend): a seal or open reads the stamp, hands the key to the cipher (which copies it at
 * init), does its work, and validates the stamp afterwards. A wipe takes the write lock, marks the
 * keypair wiped and zeroes the keys; a seal or open that overlapped it fails validation and is
 * refused with {@link KeypairWipedException}, so a ciphertext made with a half-zeroed key is never
 * returned to be sent, and no plaintext from one is ever released.
 */
final class Keypair {
    private final byte[] sendKey;
    private final byte[] receiveKey;
    final int localIndex;
    final int remoteIndex;
    final long createdAt;
    final boolean initiator;
    final ReplayFilter replay = new ReplayFilter();
    /** The next counter to send with (unsigned). */
    private final AtomicLong sendCounter = new AtomicLong();
    private final StampedLock guard = new StampedLock();
    private volatile boolean wiped;

    /** Takes ownership of both key arrays (they are zeroed by {@link #wipe()}). */
    Keypair(byte[] sendKey, byte[] receiveKey, int localIndex, int remoteIndex, long createdAt, boolean initiator) {
        this.sendKey = sendKey;
        this.receiveKey = receiveKey;
        this.localIndex = localIndex;
        this.remoteIndex = remoteIndex;
        this.createdAt = createdAt;
        this.initiator = initiator;
    }

    /** Older than REJECT_AFTER_TIME: never to be used again. */
    boolean expired(long now) {
        return now - createdAt >= Protocol.REJECT_AFTER_TIME.toNanos();
    }

    /** Takes the next counter to send with (unsigned); each value is handed out once. */
    long nextCounter() {
        return sendCounter.getAndIncrement();
    }

    /** The next counter {@link #nextCounter()} will hand out (unsigned). */
    long sendCounter() {
        return sendCounter.get();
    }

    /** Test hook: sets the next counter to send with. */
    void setSendCounter(long counter) {
        sendCounter.set(counter);
    }

    /**
     * The replay check on a received counter that authenticated: true once for each counter
     * below {@code limit} inside the window (see {@link ReplayFilter}). Safe from any thread.
     */
    boolean acceptCounter(long counter, long limit) {
        synchronized (replay) {
            return replay.accept(counter, limit);
        }
    }

    /** True once {@link #wipe()} ran: the keys are zero and {@link #seal}/{@link #open} refuse. */
    boolean wiped() {
        return wiped;
    }

    /**
     * Seals {@code buf[off .. off+len)} in place under the sending key and {@code counter},
     * writing the tag after it.
     *
     * @throws KeypairWipedException if this keypair was wiped
     */
    void seal(ChaCha20Poly1305 aead, long counter, byte[] buf, int off, int len, byte[] aad) {
        long stamp = liveStamp();
        aead.seal(sendKey, counter, buf, off, len, aad, buf, off);
        validate(stamp);
    }

    /**
     * Opens {@code in[off .. off+len)} under the receiving key and {@code counter} into {@code out[0]}.
     *
     * @throws AuthenticationFailedException if it does not authenticate; nothing is written
     * @throws KeypairWipedException if this keypair was wiped
     */
    void open(ChaCha20Poly1305 aead, long counter, byte[] in, int off, int len, byte[] aad, byte[] out)
            throws AuthenticationFailedException {
        long stamp = liveStamp();
        aead.open(receiveKey, counter, in, off, len, aad, out, 0);
        validate(stamp);
    }

    /**
     * As {@link #open(ChaCha20Poly1305, long, byte[], int, int, byte[], byte[])}, in place: the
     * plaintext replaces the ciphertext at {@code buf[off]}.
     */
    void openInPlace(ChaCha20Poly1305 aead, long counter, byte[] buf, int off, int len, byte[] aad)
            throws AuthenticationFailedException {
        long stamp = liveStamp();
        aead.open(receiveKey, counter, buf, off, len, aad, buf, off);
        validate(stamp);
    }

    /**
     * Zeroes both keys; from now on {@link #seal} and {@link #open} refuse. Idempotent. Called
     * whenever the keypair is dropped: replaced by a newer one, expired, ended by a responder's
     * new handshake, wiped with the others after 3 x REJECT_AFTER_TIME, or at session close.
     *
     * <p>Safe while data threads seal or open with this keypair: the write lock makes every
     * overlapping seal or open fail its validation (see the class comment).
     */
    void wipe() {
        long stamp = guard.writeLock(); // never waits long: readers only validate, other wipes are on this thread
        try {
            wiped = true;
            Arrays.fill(sendKey, (byte) 0);
            Arrays.fill(receiveKey, (byte) 0);
        } finally {
            guard.unlockWrite(stamp);
        }
    }

    /** Test hook: true when both key arrays are all zero. */
    boolean keysAreZero() {
        return isZero(sendKey) && isZero(receiveKey);
    }

    private static boolean isZero(byte[] a) {
        for (byte b : a) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** A stamp to validate after using a key; refuses a keypair wiped or being wiped. */
    private long liveStamp() {
        long stamp = guard.tryOptimisticRead();
        if (stamp == 0 || wiped) {
            throw new KeypairWipedException(localIndex);
        }
        return stamp;
    }

    /** Refuses the result of a seal or open that a wipe overlapped. */
    private void validate(long stamp) {
        if (!guard.validate(stamp)) {
            throw new KeypairWipedException(localIndex);
        }
    }
}
