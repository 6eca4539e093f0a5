package io.pinhole.peer;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.Header;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.MessageType;
import io.pinhole.wireguard.Identity;
import io.pinhole.wireguard.SessionOutput;
import io.pinhole.wireguard.WireGuardSession;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * PeerMachine: one client's protocol logic with no socket, no TUN device and no clock of its
 * own: how the peer is found (rendezvous registration, or a static endpoint), how the path is
 * opened (hole punching) and kept (keepalive, dead-peer detection), and the tunnel itself, a
 * {@link WireGuardSession} on that path.
 *
 * <p>The edge calls {@link #start}, then {@link #onDatagram} for every UDP datagram,
 * {@link #onTunPacket} for every IP packet read from the TUN device, and {@link #onTick}
 * every 50-100 ms; each call takes monotonic nanoseconds and puts what must be sent or
 * delivered into the given {@link PeerOutput}. Wall-clock time (for timestamps) comes from the
 * injected {@link Clock}. Lifecycle: see {@link PeerState}.
 *
 * <ul>
 *   <li>Registration (rendezvous mode): REGISTER carries the server's address cookie, a
 *       timestamp and a MAC under the peer-server key; the first one, lacking both, is answered
 *       by a CHALLENGE naming the server key. Refreshed at the server's interval (every 5 s
 *       while the partner is absent); unanswered, retried with backoff from 1 s to 30 s.
 *   <li>Punching: on PEER_INFO, authenticated PUNCH probes go to every candidate of the partner
 *       every 200 ms; the first authenticated PUNCH or WireGuard message from the partner opens
 *       the path (CONNECTED) and the WireGuard handshake runs on it. A round without answer ends
 *       after 10 s and the machine asks the server again, forever.
 *   <li>Connected: IP packets go through WireGuard; after 5 s without sending, a keepalive (an
 *       empty WireGuard transport message); after 15 s without an authenticated packet, the
 *       path is dead: punching resumes (the last endpoint included) and the registration is
 *       renewed. An authenticated packet from a new address moves the path there (roaming).
 *   <li>Static mode: the path is assumed to the configured endpoint and WireGuard alone runs on
 *       it, so a plain WireGuard peer can be the partner; a dead path is retried there.
 * </ul>
 *
 * <p>Error contract: no input datagram or packet makes a method throw; unusable input is
 * dropped and counted in {@link #drops()} (WireGuard's own drops in {@link #wireGuard()}).
 *
 * <p>Not thread-safe: the edge serialises all calls (one lock or one thread).
 */
public final class PeerMachine {
    private static final Logger LOG = System.getLogger(PeerMachine.class.getName());
    /** Largest IP packet carried: what fits one UDP datagram with WireGuard's 32 bytes around it. */
    public static final int MAX_PACKET = 65_507 - 32;
    /** How long the second side waits for the first side's initiation on a punched path. */
    private static final long PUNCHED_PATH_WAIT = 5_000_000_000L;
    /** How long a static-mode peer waits before initiating itself (a plain WireGuard peer may never). */
    private static final long STATIC_PATH_WAIT = 1_000_000_000L;
    private static final int RECENT_PROBES = 64;

    private final PeerConfig config;
    private final long session;
    private final Clock wall;
    private final WireGuardSession wg;
    private final byte[] punchKey;
    private final long keepaliveNanos;
    private final long deadNanos;
    private final long punchIntervalNanos;
    private final long punchRoundNanos;
    private final long retryInitialNanos;
    private final long retryMaxNanos;
    private final long waitingRefreshNanos;
    private final String peerId;
    private final NoisePublicKey self;

    private PeerState state = PeerState.REGISTERING;
    private long now;
    private PeerOutput out;

    // registration
    private boolean awaitingRegistered;
    private boolean challengeAnswered;
    private long nextRegisterAt;
    private long retryNanos;
    private long refreshNanos;
    private int unansweredRegisters;
    private InetSocketAddress publicEndpoint;
    private NoisePublicKey serverKey;
    private byte[] serverMacKey;
    private byte[] cookie;
    private long lastTimestamp;

    // the partner
    private long peerSession;
    private PeerInfo lastPeerInfo;
    private final List<InetSocketAddress> punchTargets = new ArrayList<>();
    private long roundEndsAt;
    private long roundStartedAt;
    private long nextPunchAt;
    private long punchCounter;
    private long peerProbeCounter;
    /** The counter of the last ack accepted: an ack opens or moves the path once. */
    private long lastAckCounter;

    // the path
    private InetSocketAddress endpoint;
    private long lastReceivedAt;
    private long lastSentAt;
    private long handshakesSeen;
    private boolean tunnelUp;
    private final ArrayDeque<ByteBuffer> staged = new ArrayDeque<>();
    /** True while inside a call into the WireGuard session, which its callbacks must not re-enter. */
    private boolean inSession;
    private boolean pathOpenedInSession;

    private final EnumMap<PeerDrop, Long> drops = new EnumMap<>(PeerDrop.class);
    private long packetsSent;
    private long packetsReceived;

    private final SessionOutput toSession = new SessionOutput() {
        @Override
        public void sendToPeer(ByteBuffer datagram) {
            if (endpoint != null) {
                out.send(endpoint, datagram);
                lastSentAt = now;
            }
        }

        @Override
        public void send(InetSocketAddress to, ByteBuffer datagram) {
            out.send(to, datagram);
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
            packetsReceived++;
            out.deliver(ipPacket);
        }

        @Override
        public void authenticated(InetSocketAddress from) {
            onAuthenticated(from);
        }
    };

    /**
     * @param config who we are, whom we want, how to find them
     * @param session this run's random non-zero session id (a new one per process start)
     * @param random randomness for WireGuard ephemerals and indices
     * @param wall wall-clock time for timestamps
     */
    public PeerMachine(PeerConfig config, long session, SecureRandom random, Clock wall) {
        if (session == 0) {
            throw new IllegalArgumentException("session id must be non-zero");
        }
        this.config = config;
        this.session = session;
        this.wall = wall;
        this.self = config.key().publicKey();
        this.wg = new WireGuardSession(new Identity(config.key(), config.peer(), config.presharedKey()), random, wall,
                config.session());
        this.punchKey = ControlKeys.peerPeer(config.key(), config.peer());
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
        if (config.rendezvousKey() != null) {
            serverKey = config.rendezvousKey();
            serverMacKey = ControlKeys.peerServer(config.key(), serverKey);
        }
    }

    /** Starts: registers (rendezvous mode), contacts the static endpoint, or listens. */
    public void start(long now, PeerOutput out) {
        enter(now, out);
        if (config.usesRendezvous()) {
            LOG.log(Level.INFO, "registering with rendezvous {0} as {1}, looking for peer {2}",
                    config.rendezvous(), self.shortId(), peerId);
            sendRegister();
        } else if (config.staticEndpoint() != null) {
            LOG.log(Level.INFO, "static mode: contacting peer {0} at {1} (no rendezvous)", peerId,
                    config.staticEndpoint());
            state = PeerState.CONNECTED;
            endpoint = config.staticEndpoint();
            lastReceivedAt = now;
            lastSentAt = now;
            wg.pathUp(now, STATIC_PATH_WAIT, toSession);
        } else {
            LOG.log(Level.INFO, "listening for peer {0} (no rendezvous, no peer endpoint)", peerId);
            state = PeerState.WAITING_FOR_PEER;
        }
    }

    private void enter(long now, PeerOutput out) {
        this.now = now;
        this.out = out;
    }

    // ------------------------------------------------------------------ inputs

    /** Handles one UDP datagram that arrived from {@code from}. */
    public void onDatagram(long now, InetSocketAddress from, ByteBuffer datagram, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        enter(now, out);
        try {
            MessageType type = Header.peekType(datagram);
            if (type.isWireGuard()) {
                long handshakes = wg.handshakesCompleted();
                inSession = true;
                try {
                    wg.receive(now, from, datagram, toSession);
                } finally {
                    inSession = false;
                }
                if (pathOpenedInSession) {
                    pathOpenedInSession = false;
                    startTunnel(wg.handshakesCompleted() == handshakes);
                }
                noticeHandshake(from);
                return;
            }
            ControlMessage message = ControlMessage.decode(datagram);
            if (message instanceof Punch punch) {
                onPunch(from, punch, datagram);
            } else if (message instanceof Challenge challenge) {
                onChallenge(from, challenge);
            } else if (message instanceof Registered registered) {
                onRegistered(from, registered, datagram);
            } else if (message instanceof PeerInfo info) {
                onPeerInfo(from, info, datagram);
            } else if (message instanceof Leave leave) {
                onLeave(leave, datagram);
            } else {
                count(PeerDrop.UNSUPPORTED_TYPE);
            }
        } catch (MalformedMessageException e) {
            count(PeerDrop.MALFORMED);
            LOG.log(Level.TRACE, () -> "dropped datagram from " + from + ": " + e.getMessage());
        }
    }

    /** Handles one IP packet read from the TUN device: into the tunnel, or staged. */
    public void onTunPacket(long now, ByteBuffer packet, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        enter(now, out);
        if (!packet.hasRemaining() || packet.remaining() > MAX_PACKET) {
            count(PeerDrop.BAD_TUN_PACKET);
            return;
        }
        if (state == PeerState.CONNECTED) {
            packetsSent++;
            wg.send(now, packet, toSession);
            return;
        }
        if (staged.size() >= config.session().stagedLimit()) {
            staged.pollFirst();
            count(PeerDrop.STAGED_OVERFLOW);
        }
        staged.addLast(ByteBuffer.allocate(packet.remaining()).put(packet.duplicate()).flip());
    }

    /** Runs the timers. Call every 50-100 ms. */
    public void onTick(long now, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        enter(now, out);
        if (config.usesRendezvous() && now - nextRegisterAt >= 0) {
            if (awaitingRegistered) {
                unansweredRegisters++;
                long waited = retryNanos;
                retryNanos = Math.min(retryNanos * 2, retryMaxNanos);
                Level level = state == PeerState.CONNECTED && unansweredRegisters > 1 ? Level.DEBUG : Level.WARNING;
                LOG.log(level, "rendezvous {0} not answering ({1} unanswered, waited {2} ms); retrying in {3} s",
                        config.rendezvous(), unansweredRegisters, waited / 1_000_000, retryNanos / 1_000_000_000.0);
            }
            sendRegister();
        }
        switch (state) {
            case PUNCHING -> tickPunching();
            case CONNECTED -> tickConnected();
            default -> {
            }
        }
        wg.tick(now, toSession);
    }

    /** Leaves: tells the server and the partner, then does nothing more. */
    public void leave(long now, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        enter(now, out);
        Leave leave = new Leave(self, session, nextTimestamp());
        if (config.usesRendezvous() && serverMacKey != null) {
            out.send(config.rendezvous(), leave.encode(serverMacKey));
        }
        if (endpoint != null) {
            out.send(endpoint, leave.encode(punchKey));
        }
        String told = config.usesRendezvous() && serverMacKey != null ? "the rendezvous" : "";
        if (endpoint != null) {
            told = told.isEmpty() ? "peer " + peerId : told + " and peer " + peerId;
        }
        LOG.log(Level.INFO, "left{0}", told.isEmpty() ? "" : ": told " + told);
        state = PeerState.CLOSED;
        staged.clear();
    }

    // ------------------------------------------------------------------ registration

    private long nextTimestamp() {
        Instant t = wall.instant();
        long micros = t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
        lastTimestamp = Math.max(micros, lastTimestamp + 1);
        return lastTimestamp;
    }

    private void sendRegister() {
        Register register = new Register(self, config.peer(), session, nextTimestamp(), cookie, config.candidates());
        out.send(config.rendezvous(), register.encode(cookie == null ? null : serverMacKey));
        awaitingRegistered = true;
        challengeAnswered = false;
        nextRegisterAt = now + retryNanos;
    }

    private boolean fromServer(InetSocketAddress from) {
        if (!config.usesRendezvous() || !from.equals(config.rendezvous())) {
            count(PeerDrop.NOT_FROM_RENDEZVOUS);
            return false;
        }
        return true;
    }

    private void onChallenge(InetSocketAddress from, Challenge challenge) {
        if (!fromServer(from)) {
            return;
        }
        if (config.rendezvousKey() != null && !challenge.server().equals(config.rendezvousKey())) {
            count(PeerDrop.SERVER_KEY_MISMATCH);
            LOG.log(Level.WARNING, "rendezvous {0} presents key {1}, not the pinned {2}: ignored", from,
                    challenge.server(), config.rendezvousKey());
            return;
        }
        if (!awaitingRegistered || challengeAnswered) {
            count(PeerDrop.UNSOLICITED_CHALLENGE);
            return;
        }
        if (!challenge.server().equals(serverKey)) {
            try {
                serverMacKey = ControlKeys.peerServer(config.key(), challenge.server());
            } catch (IllegalArgumentException e) {
                count(PeerDrop.BAD_MAC);
                return;
            }
            if (serverKey != null) {
                LOG.log(Level.INFO, "rendezvous {0} has a new key {1} (restarted?)", from, challenge.server().shortId());
            }
            serverKey = challenge.server();
        }
        cookie = challenge.cookie();
        long wasRetry = retryNanos;
        sendRegister();
        challengeAnswered = true;
        retryNanos = wasRetry;
    }

    private void onRegistered(InetSocketAddress from, Registered registered, ByteBuffer datagram) {
        if (!fromServer(from)) {
            return;
        }
        if (!ControlMessage.macValid(datagram, serverMacKey)) {
            count(PeerDrop.BAD_MAC);
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
            LOG.log(Level.INFO, "registered with rendezvous {0} (key {1}); it sees us at {2}", from,
                    serverKey.shortId(), publicEndpoint);
        }
        if (state == PeerState.REGISTERING) {
            state = PeerState.WAITING_FOR_PEER;
            LOG.log(Level.INFO, "waiting for peer {0} to register", peerId);
        }
    }

    // ------------------------------------------------------------------ pairing and punching

    private void onPeerInfo(InetSocketAddress from, PeerInfo info, ByteBuffer datagram) {
        if (!fromServer(from)) {
            return;
        }
        if (!ControlMessage.macValid(datagram, serverMacKey)) {
            count(PeerDrop.BAD_MAC);
            return;
        }
        if (!info.peer().equals(config.peer())) {
            count(PeerDrop.WRONG_KEY);
            return;
        }
        boolean news = !info.equals(lastPeerInfo);
        lastPeerInfo = info;
        long previousSession = peerSession;
        notePeerSession(info.peerSession());
        switch (state) {
            case CONNECTED -> {
                if (previousSession == info.peerSession()
                        && (info.observed().equals(endpoint) || info.candidates().contains(endpoint))) {
                    return; // a refresh of what we know
                }
                LOG.log(Level.INFO, "peer {0} {1}; punching to its new endpoint {2}", peerId,
                        previousSession != info.peerSession() ? "restarted" : "moved", info.observed());
                startPunching(true);
            }
            case PUNCHING -> {
                if (news) {
                    startPunching(false);
                }
            }
            case REGISTERING, WAITING_FOR_PEER -> {
                if (state == PeerState.REGISTERING) {
                    awaitingRegistered = false; // an authenticated PEER_INFO proves the registration arrived
                    retryNanos = retryInitialNanos;
                    nextRegisterAt = now + refreshNanos;
                }
                startPunching(false);
            }
            default -> {
            }
        }
    }

    private void startPunching(boolean keepCurrentEndpoint) {
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
        tickPunching();
    }

    private void tickPunching() {
        if (now - roundEndsAt >= 0) {
            LOG.log(Level.WARNING, "no answer from peer {0} at {1} after {2} s; asking the rendezvous again",
                    peerId, punchTargets, punchRoundNanos / 1_000_000_000L);
            state = PeerState.WAITING_FOR_PEER;
            lastPeerInfo = null; // the next PEER_INFO, even unchanged, starts a new round
            sendRegister();
            return;
        }
        if (now - nextPunchAt >= 0) {
            punchCounter++;
            ByteBuffer probe = new Punch(self, config.peer(), session, peerSession, punchCounter, false)
                    .encode(punchKey);
            for (InetSocketAddress target : punchTargets) {
                out.send(target, probe.duplicate());
            }
            nextPunchAt = now + punchIntervalNanos;
        }
    }

    private void onPunch(InetSocketAddress from, Punch punch, ByteBuffer datagram) {
        if (!punch.sender().equals(config.peer()) || !punch.receiver().equals(self)) {
            count(PeerDrop.WRONG_KEY);
            return;
        }
        if (!ControlMessage.macValid(datagram, punchKey)) {
            count(PeerDrop.BAD_MAC);
            return;
        }
        if (peerSession == 0 || punch.senderSession() != peerSession) {
            count(PeerDrop.WRONG_SESSION); // the partner's session comes from the server's PEER_INFO
            return;
        }
        if (punch.ack()) {
            if (punch.receiverSession() != session || punch.counter() > punchCounter
                    || punch.counter() <= punchCounter - RECENT_PROBES || punch.counter() <= lastAckCounter) {
                count(PeerDrop.STALE_PUNCH); // includes a repeated ack: it proves nothing new
                return;
            }
            lastAckCounter = punch.counter();
        } else {
            if (punch.counter() < peerProbeCounter) {
                count(PeerDrop.STALE_PUNCH);
                return;
            }
            boolean fresh = punch.counter() > peerProbeCounter;
            peerProbeCounter = punch.counter();
            out.send(from, new Punch(self, config.peer(), session, punch.senderSession(), punch.counter(), true)
                    .encode(punchKey));
            if (!fresh) {
                return; // the same probe again (another path, or a replay): answered, but it proves nothing new
            }
        }
        onAuthenticated(from);
    }

    /** Records the partner's session id; a new one means it restarted and its keys are gone. */
    private void notePeerSession(long id) {
        if (peerSession == id) {
            return;
        }
        if (peerSession != 0) {
            LOG.log(Level.INFO, "peer {0} started a new session: renewing WireGuard keys", peerId);
            wg.peerRestarted();
            tunnelUp = false;
        }
        peerSession = id;
        peerProbeCounter = 0;
    }

    /** An authenticated packet from the partner arrived from {@code from}. */
    private void onAuthenticated(InetSocketAddress from) {
        lastReceivedAt = now;
        if (state == PeerState.CONNECTED) {
            if (!from.equals(endpoint)) {
                LOG.log(Level.INFO, "peer {0} moved from {1} to {2}", peerId, endpoint, from);
                endpoint = from;
            }
        } else {
            openPath(from);
        }
    }

    private void openPath(InetSocketAddress from) {
        long tookMillis = state == PeerState.PUNCHING ? (now - roundStartedAt) / 1_000_000 : 0;
        boolean punched = state == PeerState.PUNCHING;
        state = PeerState.CONNECTED;
        endpoint = from;
        lastReceivedAt = now;
        lastSentAt = now;
        LOG.log(Level.INFO, "path to peer {0} open at {1}{2}", peerId, from,
                punched ? " (punched in " + tookMillis + " ms)" : "");
        if (inSession) {
            // Called back by the WireGuard session (SessionOutput.authenticated), which must not be
            // called into now: its handshake is half done. Started when it returns.
            pathOpenedInSession = true;
            return;
        }
        startTunnel(true);
    }

    /** Brings WireGuard up on the new path (unless the packet that opened it completed a handshake) and flushes. */
    private void startTunnel(boolean handshake) {
        if (handshake) {
            wg.pathUp(now, PUNCHED_PATH_WAIT, toSession);
        }
        while (!staged.isEmpty()) {
            packetsSent++;
            wg.send(now, staged.pollFirst(), toSession);
        }
    }

    /**
     * Logs "tunnel up" once a keypair is usable in both directions (for a responder: after the
     * initiator's first transport message confirmed it), and quieter news of later rekeys.
     */
    private void noticeHandshake(InetSocketAddress from) {
        long completed = wg.handshakesCompleted();
        boolean rekeyed = completed != handshakesSeen;
        handshakesSeen = completed;
        if (!tunnelUp && state == PeerState.CONNECTED && wg.canSend(now)) {
            tunnelUp = true;
            LOG.log(Level.INFO, "tunnel up: WireGuard handshake with peer {0} at {1} complete", peerId, from);
        } else if (rekeyed && tunnelUp) {
            LOG.log(Level.DEBUG, "new WireGuard keypair with peer {0}", peerId);
        }
    }

    private void onLeave(Leave leave, ByteBuffer datagram) {
        if (!leave.sender().equals(config.peer()) || !ControlMessage.macValid(datagram, punchKey)) {
            count(PeerDrop.BAD_MAC);
            return;
        }
        if (leave.session() != peerSession || peerSession == 0) {
            count(PeerDrop.WRONG_SESSION);
            return;
        }
        LOG.log(Level.INFO, "peer {0} left; waiting for it to come back", peerId);
        tunnelUp = false;
        if (config.usesRendezvous() || config.staticEndpoint() == null) {
            state = PeerState.WAITING_FOR_PEER;
            endpoint = null;
            lastPeerInfo = null;
        }
    }

    // ------------------------------------------------------------------ connected

    private void tickConnected() {
        if (now - lastReceivedAt >= deadNanos) {
            tunnelUp = false;
            if (config.usesRendezvous()) {
                LOG.log(Level.WARNING, "tunnel down: nothing from peer {0} at {1} for {2} s; punching again and "
                        + "re-registering", peerId, endpoint, deadNanos / 1_000_000_000L);
                sendRegister();
                startPunching(true);
            } else {
                InetSocketAddress target = config.staticEndpoint() != null ? config.staticEndpoint() : endpoint;
                LOG.log(Level.WARNING, "tunnel down: nothing from peer {0} for {1} s; handshaking again with {2}",
                        peerId, deadNanos / 1_000_000_000L, target);
                endpoint = target;
                lastReceivedAt = now;
                wg.initiate(now, toSession, true);
            }
            return;
        }
        if (now - lastSentAt >= keepaliveNanos) {
            if (!wg.sendKeepalive(now, toSession)) {
                wg.initiate(now, toSession, false); // no keypair yet: keep handshaking (it also keeps NATs open)
            }
            lastSentAt = now;
        }
    }

    // ------------------------------------------------------------------ observation

    /** The current state. */
    public PeerState state() {
        return state;
    }

    /** True when a WireGuard keypair is usable: IP packets flow. */
    public boolean tunnelReady() {
        return state == PeerState.CONNECTED && wg.canSend(now);
    }

    /** The partner's endpoint of the working path, or null when not connected. */
    public InetSocketAddress endpoint() {
        return state == PeerState.CONNECTED ? endpoint : null;
    }

    /** A snapshot for logs and {@code pinhole status}. */
    public PeerStatus status() {
        PathKind path = state == PeerState.CONNECTED ? PathKind.DIRECT : PathKind.NONE;
        return new PeerStatus(state, path, endpoint(), -1, tunnelReady(), publicEndpoint, 0, packetsSent,
                packetsReceived);
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

    /** The WireGuard session (for its counters). */
    public WireGuardSession wireGuard() {
        return wg;
    }

    /** IP packets handed to the tunnel. */
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
