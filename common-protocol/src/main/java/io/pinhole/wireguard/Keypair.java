package io.pinhole.wireguard;

import io.pinhole.replay.ReplayFilter;
import java.util.Arrays;

/**
 * Keypair: the transport keys one handshake produced: a sending key with its counter, a
 * receiving key with its replay filter, both indices, when it was made and by which role.
 * Not thread-safe: owned by one {@link WireGuardSession}.
 */
final class Keypair {
    final byte[] sendKey;
    final byte[] receiveKey;
    final int localIndex;
    final int remoteIndex;
    final long createdAt;
    final boolean initiator;
    final ReplayFilter replay = new ReplayFilter();
    /** The next counter to send with (unsigned). */
    long sendCounter;

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

    void wipe() {
        Arrays.fill(sendKey, (byte) 0);
        Arrays.fill(receiveKey, (byte) 0);
    }
}
