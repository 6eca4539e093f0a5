package io.pinhole.peer;

import java.security.MessageDigest;

/**
 * RecentRegisters: the last {@value #KEPT} REGISTERs a client sent (timestamp and nonce), so a
 * server message can be matched to the REGISTER it answers, and the newest answers taken, so an
 * older or replayed one is refused.
 *
 * <ul>
 *   <li>A CHALLENGE must echo the nonce of a recent REGISTER that no CHALLENGE answered yet
 *       ({@link #inFlight}, then {@link #challenged}).
 *   <li>A REGISTERED must name the timestamp of a recent REGISTER, newer than that of the last
 *       REGISTERED taken ({@link #takeRegistered}): each REGISTER is answered once.
 *   <li>A PEER_INFO must name the timestamp of a recent REGISTER, and its pair (that timestamp,
 *       the partner's REGISTER timestamp) must be newer than the last pair taken, compared first
 *       by our timestamp ({@link #takePeerInfo}): the server sends one for our REGISTER and one
 *       each time the partner registers while our latest REGISTER stands, so equal ours with a
 *       newer partner's is news and an equal pair is a replay.
 * </ul>
 *
 * <p>Timestamps are a client's own, strictly increasing and positive. Not thread-safe: owned by
 * one {@link PeerMachine}. Never throws.
 */
final class RecentRegisters {
    /** How many REGISTERs are remembered: more than are sent while one answer is on its way. */
    static final int KEPT = 16;

    private final long[] timestamps = new long[KEPT];
    private final byte[][] nonces = new byte[KEPT][];
    private final boolean[] challenged = new boolean[KEPT];
    private int next;
    private long registeredTaken = Long.MIN_VALUE;
    private long peerInfoTaken = Long.MIN_VALUE;
    private long peerInfoPartnerTaken = Long.MIN_VALUE;

    /** A REGISTER with {@code timestamp} (positive) and {@code nonce} was sent. */
    void sent(long timestamp, byte[] nonce) {
        timestamps[next] = timestamp;
        nonces[next] = nonce.clone();
        challenged[next] = false;
        next = (next + 1) % KEPT;
    }

    /** True if {@code nonce} is that of a recent REGISTER that no CHALLENGE has answered yet. */
    boolean inFlight(byte[] nonce) {
        return slotOf(nonce) >= 0;
    }

    /** A CHALLENGE with {@code nonce} was taken: the nonce answers nothing more. */
    void challenged(byte[] nonce) {
        int slot = slotOf(nonce);
        if (slot >= 0) {
            challenged[slot] = true;
        }
    }

    /** True (and taken) if a REGISTERED for {@code timestamp} answers a recent REGISTER and is newer than the last taken. */
    boolean takeRegistered(long timestamp) {
        if (!sentRecently(timestamp) || timestamp <= registeredTaken) {
            return false;
        }
        registeredTaken = timestamp;
        return true;
    }

    /**
     * True (and taken) if a PEER_INFO answering our REGISTER of {@code timestamp} and reporting
     * the partner's REGISTER of {@code partnerTimestamp} answers a recent REGISTER and is newer
     * than the last taken.
     */
    boolean takePeerInfo(long timestamp, long partnerTimestamp) {
        if (!sentRecently(timestamp) || timestamp < peerInfoTaken
                || timestamp == peerInfoTaken && partnerTimestamp <= peerInfoPartnerTaken) {
            return false;
        }
        peerInfoTaken = timestamp;
        peerInfoPartnerTaken = partnerTimestamp;
        return true;
    }

    private boolean sentRecently(long timestamp) {
        for (int i = 0; i < KEPT; i++) {
            if (nonces[i] != null && timestamps[i] == timestamp) {
                return true;
            }
        }
        return false;
    }

    private int slotOf(byte[] nonce) {
        for (int i = 0; i < KEPT; i++) {
            if (nonces[i] != null && !challenged[i] && MessageDigest.isEqual(nonces[i], nonce)) {
                return i;
            }
        }
        return -1;
    }
}
