package io.pinhole.wireguard;

import io.pinhole.crypto.AuthenticationFailedException;
import io.pinhole.crypto.ChaCha20Poly1305;
import io.pinhole.replay.ReplayFilter;
import java.util.Arrays;

/**
 * Keypair: the transport keys one handshake produced: a sending key with its counter, a
 * receiving key with its replay filter, both indices, when it was made and by which role.
 *
 * <p>The keys are used only through {@link #seal} and {@link #open} and are zeroed by
 * {@link #wipe()} when the keypair is dropped; after that both refuse with
 * {@link KeypairWipedException} (fail closed: never an all-zero key).
 *
 * <p>Not thread-safe: owned by one {@link WireGuardSession}, whose caller serialises all calls.
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
    long sendCounter;
    private boolean wiped;

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
        checkLive();
        aead.seal(sendKey, counter, buf, off, len, aad, buf, off);
    }

    /**
     * Opens {@code in[off .. off+len)} under the receiving key and {@code counter} into {@code out[0]}.
     *
     * @throws AuthenticationFailedException if it does not authenticate; nothing is written
     * @throws KeypairWipedException if this keypair was wiped
     */
    void open(ChaCha20Poly1305 aead, long counter, byte[] in, int off, int len, byte[] aad, byte[] out)
            throws AuthenticationFailedException {
        checkLive();
        aead.open(receiveKey, counter, in, off, len, aad, out, 0);
    }

    /**
     * Zeroes both keys; from now on {@link #seal} and {@link #open} refuse. Idempotent. Called
     * whenever the keypair is dropped: replaced by a newer one, expired, ended by a responder's
     * new handshake, wiped with the others after 3 x REJECT_AFTER_TIME, or at session close.
     *
     * <p>Assumes no other thread is sealing or opening with this keypair at the time: the keys are
     * zeroed in place, not swapped. That holds because {@link WireGuardSession} is not thread-safe
     * and its caller serialises every call (tun-client's {@code ClientRuntime} makes every call into
     * the {@code PeerMachine}, and so into the session, under one lock), so a keypair is only ever
     * dropped between two packets. A data path that seals or opens outside that lock would have to
     * stop using a keypair before it is wiped.
     */
    void wipe() {
        Arrays.fill(sendKey, (byte) 0);
        Arrays.fill(receiveKey, (byte) 0);
        wiped = true;
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

    private void checkLive() {
        if (wiped) {
            throw new KeypairWipedException(localIndex);
        }
    }
}
