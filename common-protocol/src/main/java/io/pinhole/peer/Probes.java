package io.pinhole.peer;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.replay.ReplayFilter;
import io.pinhole.wire.ControlMessage.Punch;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Probes: the PUNCH probes of a {@link PeerMachine}, ours and the partner's. Its one job: make
 * each probe provable, and each of the partner's answerable once.
 *
 * <ul>
 *   <li>Ours: every probe gets a counter of its own ({@link #next}), and each counter goes to one
 *       address only ({@link #note}); an ack counts once, and only from the address its probe
 *       went to ({@link #ack}): proof that the partner answers there now. At most
 *       {@value #MAX_PROBED} addresses are remembered, the 8 most recent probes each.
 *   <li>The partner's: a probe is answered once, in any order, never when replayed
 *       ({@link #fresh}); the acks we send are built by {@link #answer}.
 * </ul>
 *
 * <p>Pure: time is an argument (monotonic nanoseconds, any origin); it builds datagrams but never
 * sends them. Error contract: no method throws for any input; a probe or ack that does not count
 * is reported by the return value, for the caller to count.
 *
 * <p>Not thread-safe: owned by the control side of its {@link PeerMachine}, which the edge serialises.
 */
final class Probes {
    /** Most probe targets remembered for acknowledgements. */
    static final int MAX_PROBED = 32;

    private final NoisePublicKey self;
    private final NoisePublicKey peer;
    private final long session;
    private final byte[] punchKey;
    private long counter;
    /** Per probed address: the recent probe counters sent there (each counter goes to one address only), and when. */
    private final Map<InetSocketAddress, Probed> probed = new HashMap<>();
    /** The partner's probe counters seen: each probe is answered once, in any order, never replayed. */
    private final ReplayFilter peerProbes = new ReplayFilter();

    /**
     * @param self our public key
     * @param peer the partner's public key
     * @param session our session id
     * @param punchKey the peer-peer MAC key
     */
    Probes(NoisePublicKey self, NoisePublicKey peer, long session, byte[] punchKey) {
        this.self = self;
        this.peer = peer;
        this.session = session;
        this.punchKey = punchKey;
    }

    /** A new probe to the partner's session {@code peerSession}, with a counter never used before ({@link #last}). */
    ByteBuffer next(long peerSession) {
        counter++;
        return new Punch(self, peer, session, peerSession, counter, false).encode(punchKey);
    }

    /** The counter of the latest probe made by {@link #next}. */
    long last() {
        return counter;
    }

    /**
     * Notes that the latest probe went to {@code target} at {@code now}. When {@value #MAX_PROBED}
     * addresses are remembered already, all but {@code keep} (the path's) are forgotten first.
     */
    void note(InetSocketAddress target, long now, InetSocketAddress keep) {
        Probed p = probed.get(target);
        if (p == null) {
            if (probed.size() >= MAX_PROBED) {
                probed.keySet().removeIf(a -> !a.equals(keep));
            }
            p = new Probed();
            probed.put(target, p);
        }
        p.note(counter, now);
    }

    /** Forgets the probes to every address but those in {@code targets} and {@code keep}. */
    void retainOnly(Collection<InetSocketAddress> targets, InetSocketAddress keep) {
        probed.keySet().removeIf(a -> !targets.contains(a) && !a.equals(keep));
    }

    /**
     * An ack of our probe {@code ackCounter} came from {@code from} at {@code now}: how long ago
     * that probe went out (0 or more), if it went to {@code from} recently and was not acked
     * before (the entry is consumed); else -1.
     */
    long ack(InetSocketAddress from, long ackCounter, long now) {
        Probed p = probed.get(from);
        return p == null ? -1 : p.ack(ackCounter, now);
    }

    /** True, once per counter, for a probe of the partner's that is new; false for a replay or one too old. */
    boolean fresh(long peerCounter) {
        return peerProbes.accept(peerCounter, Long.MAX_VALUE);
    }

    /** The partner started a new session: its counters start again. */
    void partnerRestarted() {
        peerProbes.reset();
    }

    /** The ack of the partner's {@code probe}: its counter, naming both sessions. */
    ByteBuffer answer(Punch probe) {
        return new Punch(self, peer, session, probe.senderSession(), probe.counter(), true).encode(punchKey);
    }

    /** The recent probes sent to one address: counters and times, in a small ring; an ack consumes its entry. */
    private static final class Probed {
        private static final int RECENT = 8;
        private final long[] counters = new long[RECENT];
        private final long[] sentAt = new long[RECENT];
        private int next;

        void note(long counter, long at) {
            counters[next] = counter;
            sentAt[next] = at;
            next = (next + 1) % RECENT;
        }

        /**
         * How long ago (0 or more) the probe {@code counter} went out, at {@code now}; -1 if it did
         * not go here recently or was acked already. Elapsed time, not the send time: time has any
         * origin, so a send time could be any value, -1 included.
         */
        long ack(long counter, long now) {
            for (int i = 0; i < RECENT; i++) {
                if (counters[i] == counter && counter != 0) {
                    counters[i] = 0;
                    return Math.max(0, now - sentAt[i]);
                }
            }
            return -1;
        }
    }
}
