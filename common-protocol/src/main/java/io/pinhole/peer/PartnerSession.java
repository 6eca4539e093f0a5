package io.pinhole.peer;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.drops.DropCounters;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.Punch;
import java.nio.ByteBuffer;

/**
 * PartnerSession: who the partner is right now, per peer. Its one job: the partner's current
 * session id (from the server's PEER_INFO) and whether a control message from the partner (PUNCH,
 * LEAVE) is genuine: its keys, its MAC under the peer-peer key, and that session.
 *
 * <ul>
 *   <li>{@link #note}: a PEER_INFO names the partner's session; a new one after another means the
 *       partner restarted (its keys are gone), the first one that it is known at all.
 *   <li>{@link #acceptPunch}: a PUNCH counts only from the partner to us ({@link PeerDrop#WRONG_KEY}),
 *       with a valid MAC ({@link PeerDrop#BAD_MAC}), from its current session
 *       ({@link PeerDrop#WRONG_SESSION}).
 *   <li>{@link #acceptLeave}: a LEAVE counts only from the partner with a valid MAC
 *       ({@link PeerDrop#BAD_MAC}), for its current session ({@link PeerDrop#WRONG_SESSION}):
 *       a recorded LEAVE of an earlier run of the partner changes nothing.
 * </ul>
 *
 * <p>Pure: no time, no sockets. Error contract: no method throws for any input; a message that
 * does not count is counted in the machine's {@link DropCounters} and refused by the return value.
 *
 * <p>Not thread-safe: owned by the control side of its {@link PeerMachine}, which the edge serialises.
 */
final class PartnerSession {
    /** What a session id from the server means. */
    enum Change {
        /** The session we knew. */
        SAME,
        /** The first session we learn. */
        FIRST,
        /** Another session than the one we knew: the partner restarted. */
        RESTARTED
    }

    private final NoisePublicKey self;
    private final NoisePublicKey peer;
    private final byte[] punchKey;
    private final DropCounters<PeerDrop> drops;
    private long id;

    /**
     * @param self our public key
     * @param peer the partner's public key
     * @param punchKey the peer-peer MAC key
     * @param drops where refused messages are counted
     */
    PartnerSession(NoisePublicKey self, NoisePublicKey peer, byte[] punchKey, DropCounters<PeerDrop> drops) {
        this.self = self;
        this.peer = peer;
        this.punchKey = punchKey;
        this.drops = drops;
    }

    /** The partner's current session id; 0 while unknown. */
    long id() {
        return id;
    }

    /** True once the server told us the partner's session. */
    boolean known() {
        return id != 0;
    }

    /** The server names the partner's session {@code newId} (non-zero). */
    Change note(long newId) {
        if (id == newId) {
            return Change.SAME;
        }
        Change change = id == 0 ? Change.FIRST : Change.RESTARTED;
        id = newId;
        return change;
    }

    /** True if {@code punch} ({@code datagram} as received) is the partner's, to us, sealed, from its current session. */
    boolean acceptPunch(Punch punch, ByteBuffer datagram) {
        if (!punch.sender().equals(peer) || !punch.receiver().equals(self)) {
            drops.count(PeerDrop.WRONG_KEY);
            return false;
        }
        if (!ControlMessage.macValid(datagram, punchKey)) {
            drops.count(PeerDrop.BAD_MAC);
            return false;
        }
        if (id == 0 || punch.senderSession() != id) {
            drops.count(PeerDrop.WRONG_SESSION); // the partner's session comes from the server's PEER_INFO
            return false;
        }
        return true;
    }

    /** True if {@code leave} ({@code datagram} as received) is the partner's, sealed, for its current session. */
    boolean acceptLeave(Leave leave, ByteBuffer datagram) {
        if (!leave.sender().equals(peer) || !ControlMessage.macValid(datagram, punchKey)) {
            drops.count(PeerDrop.BAD_MAC);
            return false;
        }
        if (id == 0 || leave.session() != id) {
            drops.count(PeerDrop.WRONG_SESSION);
            return false;
        }
        return true;
    }

    /** Our {@code leave}, sealed for the partner. */
    ByteBuffer seal(Leave leave) {
        return leave.encode(punchKey);
    }
}
