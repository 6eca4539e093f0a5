package io.pinhole.peer;

/**
 * PeerLiveness: whether the partner is still there, per peer. Its one job: the clocks of one
 * path's traffic and the rules read from them; the machine acts on their answers.
 *
 * <ul>
 *   <li>Dead peer: nothing authenticated from the partner for {@link PeerTimers#deadAfter}
 *       ({@link #dead}).
 *   <li>Keepalive: nothing sent to the partner for {@link PeerTimers#keepaliveIdle}
 *       ({@link #keepaliveDue}).
 *   <li>Path probes: one every keepalive interval on the path ({@link #pathProbeDue}); at once
 *       on a new path; one waiting for its ack at a time, given up after {@value #PROBE_TIMEOUT_MS}
 *       ms ({@link #probeTimedOut}).
 *   <li>Quiet spells, probed at once, once per spell ({@link #quiet}): a stream from the partner
 *       (at least {@value #STREAM_PACKETS} authenticated packets in the last full second) that
 *       stops for {@value #STREAM_GAP_MS} ms, or, on the relay, sending while hearing nothing for
 *       {@value #RELAY_QUIET_MS} ms.
 * </ul>
 *
 * <p>Pure: time is an argument (monotonic nanoseconds, any origin, overflow-safe comparisons); it
 * sends nothing. Error contract: no method throws for any input.
 *
 * <p>Not thread-safe: owned by the control side of its {@link PeerMachine}, which the edge serialises.
 */
final class PeerLiveness {
    static final long RELAY_QUIET_MS = 2_000;
    static final int STREAM_PACKETS = 5;
    static final long STREAM_GAP_MS = 500;
    static final long PROBE_TIMEOUT_MS = 1_000;
    /** On the relay, sending but hearing nothing this long: probe the path at once. */
    private static final long RELAY_QUIET = RELAY_QUIET_MS * 1_000_000L;
    /** A stream that goes quiet this long has stopped: probe the path at once. */
    private static final long STREAM_GAP = STREAM_GAP_MS * 1_000_000L;
    /** A path probe without its ack this long: the path may be lost. */
    private static final long PROBE_TIMEOUT = PROBE_TIMEOUT_MS * 1_000_000L;
    private static final long SECOND = 1_000_000_000L;

    /** Why a quiet spell is probed. */
    enum Quiet {
        /** Not quiet, or this spell was probed already. */
        NONE,
        /** A stream from the partner stopped. */
        STREAM_STOPPED,
        /** On the relay, we send and hear nothing. */
        RELAY_QUIET
    }

    private final long keepaliveNanos;
    private final long deadNanos;
    private long lastReceivedAt;
    private long lastSentAt;
    /** Authenticated packets from the partner: in the current second, and in the last full one. */
    private int receivedThisSecond;
    private int streamPackets;
    private long secondStartedAt;
    /** The {@link #lastReceivedAt} of the quiet spell already probed (one probe per spell). */
    private long quietProbedFor = Long.MIN_VALUE;
    /** The counter of the path probe waiting for its ack (0: none), and when it left. */
    private long probeCounter;
    private long probeSentAt;
    private long nextProbeAt;

    /** @param timers the keepalive and dead-peer times (the keepalive time is also the path probe interval) */
    PeerLiveness(PeerTimers timers) {
        this.keepaliveNanos = timers.keepaliveIdle().toNanos();
        this.deadNanos = timers.deadAfter().toNanos();
    }

    /** A path opened at {@code now}: both directions count as fresh. */
    void opened(long now) {
        lastReceivedAt = now;
        lastSentAt = now;
    }

    /** The partner counts as heard at {@code now} (a fresh probe on the path, or the dead rule's fresh start). */
    void heard(long now) {
        lastReceivedAt = now;
    }

    /** An authenticated packet from the partner at {@code now}: heard, and counted towards the stream rate. */
    void authenticated(long now) {
        lastReceivedAt = now;
        receivedThisSecond++;
    }

    /**
     * {@code packets} authenticated packets arrived on the data path, the last at {@code at}
     * (taken in at the next control call; an older time than one already seen changes nothing).
     */
    void absorbReceived(long at, long packets) {
        if (at - lastReceivedAt > 0) {
            lastReceivedAt = at;
        }
        receivedThisSecond += packets;
    }

    /** The data path sent to the partner, the last time at {@code at}. */
    void absorbSent(long at) {
        if (at - lastSentAt > 0) {
            lastSentAt = at;
        }
    }

    /** Something went to the partner at {@code now}. */
    void sent(long now) {
        lastSentAt = now;
    }

    /** Measures the receive rate in whole seconds; call on every tick while connected. */
    void tick(long now) {
        if (now - secondStartedAt >= SECOND) {
            streamPackets = now - secondStartedAt < 2 * SECOND ? receivedThisSecond : 0;
            receivedThisSecond = 0;
            secondStartedAt = now;
        }
    }

    /** True once nothing was heard from the partner for the dead-peer time. */
    boolean dead(long now) {
        return now - lastReceivedAt >= deadNanos;
    }

    /** The dead-peer time. */
    long deadNanos() {
        return deadNanos;
    }

    /** True once nothing was sent to the partner for the keepalive time. */
    boolean keepaliveDue(long now) {
        return now - lastSentAt >= keepaliveNanos;
    }

    /** How long nothing was heard from the partner, at {@code now}. */
    long silentFor(long now) {
        return now - lastReceivedAt;
    }

    /**
     * The quiet spell to probe at once, if any: {@link Quiet#NONE} while a path probe waits, while
     * the partner's session is unknown, when not quiet, or when this spell was probed already. A
     * spell reported here is not reported again.
     *
     * @param viaRelay true when the path is the relay
     * @param partnerKnown true when the partner's session is known (probes can name it)
     */
    Quiet quiet(long now, boolean viaRelay, boolean partnerKnown) {
        boolean streamStopped = streamPackets >= STREAM_PACKETS && now - lastReceivedAt >= STREAM_GAP;
        boolean relayQuiet = viaRelay && now - lastReceivedAt >= RELAY_QUIET && now - lastSentAt < RELAY_QUIET
                && lastSentAt - lastReceivedAt > 0;
        if (probeCounter != 0 || !partnerKnown || !(streamStopped || relayQuiet) || quietProbedFor == lastReceivedAt) {
            return Quiet.NONE;
        }
        quietProbedFor = lastReceivedAt; // one probe per quiet spell
        return streamStopped ? Quiet.STREAM_STOPPED : Quiet.RELAY_QUIET;
    }

    /** True when the path's regular probe is due. */
    boolean pathProbeDue(long now) {
        return now - nextProbeAt >= 0;
    }

    /** The path probe {@code counter} left at {@code now}: it waits for its ack; the next is due a keepalive time later. */
    void pathProbeSent(long counter, long now) {
        probeCounter = counter;
        probeSentAt = now;
        nextProbeAt = now + keepaliveNanos;
    }

    /** The path changed at {@code now}: probe it at once, and forget the old path's probe. */
    void newPath(long now) {
        nextProbeAt = now;
        probeCounter = 0;
    }

    /** The ack of our probe {@code counter} came: if it is the path probe's, it waits no more. */
    void acked(long counter) {
        if (counter == probeCounter) {
            probeCounter = 0;
        }
    }

    /**
     * True, once, when the path probe has waited {@value #PROBE_TIMEOUT_MS} ms for its ack; it
     * waits no more then.
     */
    boolean probeTimedOut(long now) {
        if (probeCounter == 0 || now - probeSentAt < PROBE_TIMEOUT) {
            return false;
        }
        probeCounter = 0;
        return true;
    }

    /** When the latest path probe left. */
    long probeSentAt() {
        return probeSentAt;
    }
}
