package io.pinhole.peer;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.Header;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.PlainData;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * PeerMachine: one client's protocol logic (registration, punching, keepalive, dead-peer
 * detection, the data path) with no socket, no TUN device and no clock of its own.
 *
 * <p>The edge calls {@link #start}, then {@link #onDatagram} for every UDP datagram,
 * {@link #onTunPacket} for every IP packet read from the TUN device, and {@link #onTick}
 * periodically (every 50-100 ms); each call takes the current time in nanoseconds (monotonic,
 * any origin) and puts what must be sent or delivered into the given {@link PeerOutput}.
 * Lifecycle: see {@link PeerState}.
 *
 * <ul>
 *   <li>Registration: REGISTER is sent at start and refreshed at the interval the server names;
 *       an unanswered REGISTER is retried with exponential backoff (1 s doubling to 30 s), logged.
 *   <li>Punching: on PEER_INFO, PUNCH goes to every candidate of the partner (its observed
 *       endpoint first, then its LAN endpoints) every 200 ms. The first PUNCH, ack or data from
 *       the partner makes the path: CONNECTED. A round without answer ends after 10 s and the
 *       machine asks the server again, forever.
 *   <li>Connected: IP packets go as PLAIN_DATA; after 5 s without sending, a keepalive; after
 *       15 s without receiving, the path is dead: punching resumes at the last endpoint and the
 *       registration is renewed. Data from the partner's session at a new address moves the path
 *       there (roaming). While no path works, IP packets wait in a bounded queue.
 * </ul>
 *
 * <p>Error contract: no input datagram or packet makes a method throw; unusable input is
 * dropped and counted in {@link #drops()}.
 *
 * <p>Not thread-safe: the edge serialises all calls (one lock or one thread).
 */
public final class PeerMachine {
    private static final Logger LOG = System.getLogger(PeerMachine.class.getName());
    /**
     * Largest IP packet carried: the largest UDP payload over IPv4 (65,535 - 20 - 8 = 65,507 bytes)
     * minus the PLAIN_DATA header, so that every datagram the machine builds can be sent.
     */
    public static final int MAX_PACKET = 65_507 - PlainData.OVERHEAD;

    private final PeerConfig config;
    private final long session;
    private final long keepaliveNanos;
    private final long deadNanos;
    private final long punchIntervalNanos;
    private final long punchRoundNanos;
    private final long retryInitialNanos;
    private final long retryMaxNanos;
    private final long waitingRefreshNanos;
    private final String peerId;

    private PeerState state = PeerState.REGISTERING;

    // registration
    private boolean awaitingRegistered;
    private long nextRegisterAt;
    private long retryNanos;
    private long refreshNanos;
    private int unansweredRegisters;
    private InetSocketAddress publicEndpoint;

    // the partner
    private long peerSession;
    private PeerInfo lastPeerInfo;
    private final List<InetSocketAddress> punchTargets = new ArrayList<>();
    private long roundEndsAt;
    private long roundStartedAt;
    private long nextPunchAt;

    // the path
    private InetSocketAddress endpoint;
    private long lastReceivedAt;
    private long lastSentAt;
    private final ArrayDeque<ByteBuffer> staged = new ArrayDeque<>();

    private final EnumMap<PeerDrop, Long> drops = new EnumMap<>(PeerDrop.class);
    private long packetsSent;
    private long packetsReceived;

    /**
     * @param config who we are, whom we want, where the server is
     * @param session this run's random non-zero session id (a new one per process start)
     */
    public PeerMachine(PeerConfig config, long session) {
        if (session == 0) {
            throw new IllegalArgumentException("session id must be non-zero");
        }
        this.config = config;
        this.session = session;
        PeerTimers t = config.timers();
        this.keepaliveNanos = t.keepaliveIdle().toNanos();
        this.deadNanos = t.deadAfter().toNanos();
        this.punchIntervalNanos = t.punchInterval().toNanos();
        this.punchRoundNanos = t.punchRound().toNanos();
        this.retryInitialNanos = t.registerRetryInitial().toNanos();
        this.retryMaxNanos = t.registerRetryMax().toNanos();
        this.waitingRefreshNanos = t.waitingRefresh().toNanos();
        this.refreshNanos = t.refreshFallback().toNanos();
        this.retryNanos = retryInitialNanos;
        this.peerId = config.peer().shortId();
    }

    /** Sends the first REGISTER. */
    public void start(long now, PeerOutput out) {
        LOG.log(Level.INFO, "registering with rendezvous {0} as {1}, looking for peer {2}",
                config.rendezvous(), config.self().shortId(), peerId);
        sendRegister(now, out);
    }

    // ------------------------------------------------------------------ inputs

    /** Handles one UDP datagram that arrived from {@code from}. */
    public void onDatagram(long now, InetSocketAddress from, ByteBuffer datagram, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        MessageType type;
        try {
            type = Header.peekType(datagram);
            if (type == MessageType.PLAIN_DATA) {
                onPlainData(now, from, datagram, out);
                return;
            }
            if (type.isWireGuard()) {
                count(PeerDrop.UNSUPPORTED_TYPE);
                return;
            }
            ControlMessage message = ControlMessage.decode(datagram);
            if (message instanceof Punch punch) {
                onPunch(now, from, punch, out);
            } else if (message instanceof Registered registered) {
                onRegistered(now, from, registered);
            } else if (message instanceof PeerInfo info) {
                onPeerInfo(now, from, info, out);
            } else if (message instanceof Leave leave) {
                onLeave(now, from, leave);
            } else {
                count(PeerDrop.UNSUPPORTED_TYPE);
            }
        } catch (MalformedMessageException e) {
            count(PeerDrop.MALFORMED);
            LOG.log(Level.TRACE, () -> "dropped datagram from " + from + ": " + e.getMessage());
        }
    }

    /** Handles one IP packet read from the TUN device: sent to the peer, or staged. */
    public void onTunPacket(long now, ByteBuffer packet, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        if (!packet.hasRemaining() || packet.remaining() > MAX_PACKET) {
            count(PeerDrop.BAD_TUN_PACKET);
            return;
        }
        if (state == PeerState.CONNECTED) {
            sendData(now, packet, out);
            return;
        }
        if (staged.size() >= config.stagedLimit()) {
            staged.pollFirst();
            count(PeerDrop.STAGED_OVERFLOW);
        }
        ByteBuffer copy = ByteBuffer.allocate(packet.remaining()).put(packet.duplicate()).flip();
        staged.addLast(copy);
    }

    /** Runs the timers. Call every 50-100 ms. */
    public void onTick(long now, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        if (now - nextRegisterAt >= 0) {
            if (awaitingRegistered) {
                unansweredRegisters++;
                long waited = retryNanos;
                retryNanos = Math.min(retryNanos * 2, retryMaxNanos);
                Level level = state == PeerState.CONNECTED && unansweredRegisters > 1 ? Level.DEBUG : Level.WARNING;
                LOG.log(level, "rendezvous {0} not answering ({1} unanswered, waited {2} ms); retrying in {3} s",
                        config.rendezvous(), unansweredRegisters, waited / 1_000_000, retryNanos / 1_000_000_000.0);
            }
            sendRegister(now, out);
        }
        switch (state) {
            case PUNCHING -> tickPunching(now, out);
            case CONNECTED -> tickConnected(now, out);
            default -> {
            }
        }
    }

    /** Leaves: tells the server and the partner, then does nothing more. */
    public void leave(long now, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        Leave leave = new Leave(config.self(), session);
        out.send(config.rendezvous(), leave.encode());
        if (endpoint != null) {
            out.send(endpoint, leave.encode());
        }
        LOG.log(Level.INFO, "left: told the rendezvous{0}", endpoint != null ? " and peer " + peerId : "");
        state = PeerState.CLOSED;
        staged.clear();
    }

    // ------------------------------------------------------------------ registration

    private void sendRegister(long now, PeerOutput out) {
        out.send(config.rendezvous(), new Register(config.self(), config.peer(), session, config.candidates()).encode());
        awaitingRegistered = true;
        nextRegisterAt = now + retryNanos;
    }

    private void onRegistered(long now, InetSocketAddress from, Registered registered) {
        if (!from.equals(config.rendezvous())) {
            count(PeerDrop.NOT_FROM_RENDEZVOUS);
            return;
        }
        if (registered.session() != session) {
            count(PeerDrop.STALE_REGISTERED);
            return;
        }
        if (unansweredRegisters > 0) {
            LOG.log(Level.INFO, "rendezvous {0} answers again", config.rendezvous());
        }
        awaitingRegistered = false;
        unansweredRegisters = 0;
        retryNanos = retryInitialNanos;
        if (registered.refreshSeconds() > 0) {
            refreshNanos = registered.refreshSeconds() * 1_000_000_000L;
        }
        nextRegisterAt = now + (state == PeerState.CONNECTED ? refreshNanos : Math.min(refreshNanos, waitingRefreshNanos));
        if (!registered.observed().equals(publicEndpoint)) {
            publicEndpoint = registered.observed();
            LOG.log(Level.INFO, "registered; the rendezvous sees us at {0}", publicEndpoint);
        }
        if (state == PeerState.REGISTERING) {
            state = PeerState.WAITING_FOR_PEER;
            LOG.log(Level.INFO, "waiting for peer {0} to register", peerId);
        }
    }

    // ------------------------------------------------------------------ pairing and punching

    private void onPeerInfo(long now, InetSocketAddress from, PeerInfo info, PeerOutput out) {
        if (!from.equals(config.rendezvous())) {
            count(PeerDrop.NOT_FROM_RENDEZVOUS);
            return;
        }
        if (!info.peer().equals(config.peer())) {
            count(PeerDrop.WRONG_KEY);
            return;
        }
        boolean news = !info.equals(lastPeerInfo);
        lastPeerInfo = info;
        long previousSession = peerSession;
        peerSession = info.peerSession();
        switch (state) {
            case CONNECTED -> {
                if (previousSession == info.peerSession() && info.observed().equals(endpoint)) {
                    return; // a refresh of what we know
                }
                if (previousSession == info.peerSession() && info.candidates().contains(endpoint)) {
                    return; // connected over the partner's LAN address
                }
                LOG.log(Level.INFO, "peer {0} {1}; punching to its new endpoint {2}", peerId,
                        previousSession != info.peerSession() ? "restarted" : "moved", info.observed());
                startPunching(now, out, true);
            }
            case PUNCHING -> {
                if (news) {
                    startPunching(now, out, false);
                }
            }
            case REGISTERING, WAITING_FOR_PEER -> {
                if (state == PeerState.REGISTERING) {
                    awaitingRegistered = false; // PEER_INFO proves the registration arrived
                    retryNanos = retryInitialNanos;
                    nextRegisterAt = now + refreshNanos;
                }
                startPunching(now, out, false);
            }
            default -> {
            }
        }
    }

    private void startPunching(long now, PeerOutput out, boolean keepCurrentEndpoint) {
        LinkedHashSet<InetSocketAddress> targets = new LinkedHashSet<>();
        if (lastPeerInfo != null) {
            targets.add(lastPeerInfo.observed());
            targets.addAll(lastPeerInfo.candidates());
        }
        if (keepCurrentEndpoint && endpoint != null) {
            targets.add(endpoint);
        }
        punchTargets.clear();
        punchTargets.addAll(targets);
        if (state != PeerState.PUNCHING) {
            LOG.log(Level.INFO, "punching to peer {0} at {1}", peerId, punchTargets);
        }
        state = PeerState.PUNCHING;
        endpoint = null;
        roundStartedAt = now;
        roundEndsAt = now + punchRoundNanos;
        nextPunchAt = now;
        tickPunching(now, out);
    }

    private void tickPunching(long now, PeerOutput out) {
        if (now - roundEndsAt >= 0) {
            LOG.log(Level.WARNING, "no answer from peer {0} at {1} after {2} s; asking the rendezvous again",
                    peerId, punchTargets, punchRoundNanos / 1_000_000_000L);
            state = PeerState.WAITING_FOR_PEER;
            lastPeerInfo = null; // the next PEER_INFO, even unchanged, starts a new round
            sendRegister(now, out);
            return;
        }
        if (now - nextPunchAt >= 0) {
            Punch punch = new Punch(config.self(), config.peer(), session, false);
            for (InetSocketAddress target : punchTargets) {
                out.send(target, punch.encode());
            }
            nextPunchAt = now + punchIntervalNanos;
        }
    }

    private void onPunch(long now, InetSocketAddress from, Punch punch, PeerOutput out) {
        if (!punch.sender().equals(config.peer()) || !punch.receiver().equals(config.self())) {
            count(PeerDrop.WRONG_KEY);
            return;
        }
        if (!punch.ack()) {
            out.send(from, new Punch(config.self(), config.peer(), session, true).encode());
        }
        if (peerSession != punch.senderSession()) {
            if (peerSession != 0) {
                LOG.log(Level.INFO, "peer {0} started a new session", peerId);
            }
            peerSession = punch.senderSession();
        }
        lastReceivedAt = now;
        if (state == PeerState.CONNECTED) {
            moveTo(from);
        } else {
            connect(now, from, out);
        }
    }

    private void connect(long now, InetSocketAddress from, PeerOutput out) {
        long tookMillis = state == PeerState.PUNCHING ? (now - roundStartedAt) / 1_000_000 : 0;
        state = PeerState.CONNECTED;
        endpoint = from;
        lastReceivedAt = now;
        lastSentAt = now;
        LOG.log(Level.INFO, "tunnel up: peer {0} at {1} (direct, punched in {2} ms)", peerId, from, tookMillis);
        while (!staged.isEmpty()) {
            sendData(now, staged.pollFirst(), out);
        }
    }

    private void moveTo(InetSocketAddress from) {
        if (!from.equals(endpoint)) {
            LOG.log(Level.INFO, "peer {0} moved from {1} to {2}", peerId, endpoint, from);
            endpoint = from;
        }
    }

    private void onLeave(long now, InetSocketAddress from, Leave leave) {
        if (!leave.sender().equals(config.peer()) || leave.session() != peerSession || peerSession == 0) {
            count(PeerDrop.WRONG_SESSION);
            return;
        }
        LOG.log(Level.INFO, "peer {0} left; waiting for it to come back", peerId);
        state = PeerState.WAITING_FOR_PEER;
        endpoint = null;
        lastPeerInfo = null;
    }

    // ------------------------------------------------------------------ data path

    private void onPlainData(long now, InetSocketAddress from, ByteBuffer datagram, PeerOutput out)
            throws MalformedMessageException {
        long sender = PlainData.senderSession(datagram);
        if (sender != peerSession || peerSession == 0) {
            count(PeerDrop.WRONG_SESSION);
            return;
        }
        lastReceivedAt = now;
        if (state == PeerState.CONNECTED) {
            moveTo(from);
        } else {
            connect(now, from, out);
        }
        ByteBuffer payload = PlainData.payload(datagram);
        if (payload.hasRemaining()) {
            packetsReceived++;
            out.deliver(payload);
        }
    }

    private void sendData(long now, ByteBuffer packet, PeerOutput out) {
        out.send(endpoint, PlainData.encode(session, packet));
        lastSentAt = now;
        packetsSent++;
    }

    private void tickConnected(long now, PeerOutput out) {
        if (now - lastReceivedAt >= deadNanos) {
            LOG.log(Level.WARNING, "tunnel down: nothing from peer {0} at {1} for {2} s; punching again and "
                    + "re-registering", peerId, endpoint, deadNanos / 1_000_000_000L);
            sendRegister(now, out);
            startPunching(now, out, true);
            return;
        }
        if (now - lastSentAt >= keepaliveNanos) {
            out.send(endpoint, PlainData.encode(session, ByteBuffer.allocate(0)));
            lastSentAt = now;
        }
    }

    // ------------------------------------------------------------------ observation

    /** The current state. */
    public PeerState state() {
        return state;
    }

    /** The partner's endpoint of the working path, or null when not connected. */
    public InetSocketAddress endpoint() {
        return state == PeerState.CONNECTED ? endpoint : null;
    }

    /** Our public endpoint as the rendezvous server last saw it, or null. */
    public InetSocketAddress publicEndpoint() {
        return publicEndpoint;
    }

    /** This run's session id. */
    public long session() {
        return session;
    }

    /** The partner's public key. */
    public NoisePublicKey peer() {
        return config.peer();
    }

    /** IP packets sent to the partner. */
    public long packetsSent() {
        return packetsSent;
    }

    /** IP packets received from the partner and delivered. */
    public long packetsReceived() {
        return packetsReceived;
    }

    /** IP packets waiting for a path. */
    public int stagedPackets() {
        return staged.size();
    }

    /** A snapshot of the drop counters. */
    public Map<PeerDrop, Long> drops() {
        return new EnumMap<>(drops);
    }

    private void count(PeerDrop drop) {
        drops.merge(drop, 1L, Long::sum);
    }
}
