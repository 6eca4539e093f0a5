package io.pinhole.peer;

import io.pinhole.config.HostPort;
import io.pinhole.config.LogNames;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.drops.DropCounters;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.Header;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.Relay;
import io.pinhole.wireguard.DecryptedInitiation;
import io.pinhole.wireguard.Identity;
import io.pinhole.wireguard.IndexAllocator;
import io.pinhole.wireguard.SessionOutput;
import io.pinhole.wireguard.WireGuardSession;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Collection;
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
 * <p>The machine is the coordinator of pure parts, each with one job and its own tests, and
 * keeps what ties them together: the state, the WireGuard glue, the sockets the path uses, the
 * checks on where a datagram came from, and the logs.
 * <ul>
 *   <li>{@link RegistrationClient}: the rendezvous session (REGISTER and the server's answers,
 *       nonces, server key trust, refresh and retry timing);
 *   <li>{@link PunchRounds}: when punching rounds run and to where, LAN settling, upgrade and
 *       birthday turns; {@link Probes}: probe counters, acks as proof, the partner's probes
 *       answered once; {@link Birthday}: one birthday-punching attempt;
 *   <li>{@link PathSelector}: the path (address, socket, rank) and every move of it (ranking,
 *       upgrade from the relay, roaming, fallback, the {@link PathMoves} brake);
 *   <li>{@link PeerLiveness}: dead peer, keepalive, path probes, stream-stop and relay-quiet spells;
 *   <li>{@link PartnerSession}: the partner's current session, and which of its PUNCHes and
 *       LEAVEs are genuine;
 *   <li>{@link AllowedIps} (cryptokey routing), {@link TunnelLoop} (the tunnel carrying itself),
 *       and one {@link DropCounters} for every drop of the machine and its parts.
 * </ul>
 *
 * <ul>
 *   <li>Registration (rendezvous mode): REGISTER carries the server's address cookie, a
 *       timestamp, a random nonce and a MAC under the peer-server key; the first one, lacking
 *       cookie and MAC, is answered by a CHALLENGE naming the server key. A CHALLENGE counts only
 *       if it echoes the nonce of a REGISTER in flight, and only with the pinned server key or
 *       (unpinned) the first one learnt, kept for the whole run; another key is refused and said
 *       at WARNING once a minute. REGISTERED and PEER_INFO count only if they answer a recent
 *       REGISTER of this session and are newer than the last taken (see {@link RecentRegisters}),
 *       so a recorded one replayed changes nothing. Refreshed at the server's interval (every 5 s
 *       while the partner is absent); unanswered, retried with backoff from 1 s to 8 s until a path
 *       exists, and to 30 s after.
 *   <li>Paths (rendezvous mode with the relay, the default): on PEER_INFO the tunnel starts at once
 *       on the relay (RELAY frames through the rendezvous server, still end-to-end WireGuard)
 *       and a punching round runs beside it: authenticated PUNCH probes to every candidate of
 *       the partner, its LAN addresses first, every 200 ms plus up to 50 ms of jitter, for 10 s,
 *       each probe with a counter of its own so that its ack proves which address answered.
 *       With openers on, each round starts with TTL-limited probes that open our own NAT's
 *       mappings without reaching the partner's NAT, and the full probes follow 1 s later
 *       (a Linux NAT without an input filter otherwise remaps our port when the partner's first
 *       probe lands before ours left). A path opens or moves only on proof that the partner
 *       answers there now: an ack to a fresh probe of ours from the address it went to, or an
 *       authenticated WireGuard packet (WireGuard's roaming rule); a probe of the partner is only
 *       acked (it may be a replay captured elsewhere). The side that moves sends a WireGuard
 *       keepalive on the new path, which moves the other. A LAN candidate beats a public address (probing continues 1 s
 *       for one). A round without answer leaves the tunnel on the relay and is tried again
 *       every 60 s (+ up to 10%). A direct path without an authenticated packet for 8 s falls
 *       back to the relay; when the partner's packets come through the relay while our direct
 *       path has been quiet for 2 s, we follow it there.
 *   <li>Without the relay (--no-relay): PUNCHING until the first authenticated answer opens the
 *       path (CONNECTED); a round without answer ends after 10 s and the machine asks the
 *       server again, forever.
 *   <li>Connected: IP packets go through WireGuard; after 5 s without sending, a keepalive (an
 *       empty WireGuard transport message); every 5 s a PUNCH probe on the path measures its
 *       RTT; after 15 s without an authenticated packet, the partner is dead: punching resumes
 *       (the last endpoint included, on the relay meanwhile) and the registration is renewed.
 *       An authenticated packet from a new address of the same rank moves the path there
 *       (roaming).
 *   <li>Cryptokey routing ({@link PeerConfig#allowedIps()}): a packet decrypted from the partner
 *       is delivered only when its source lies in the partner's allowed IPs (else counted as
 *       {@link PeerDrop#WRONG_SOURCE}, {@link PeerDrop#IPV6_NOT_ALLOWED} or {@link PeerDrop#NOT_IP}
 *       and logged at most once a minute), and a packet from the TUN device goes to the partner
 *       only when its destination does ({@link PeerDrop#DESTINATION_NOT_ALLOWED}), as WireGuard's
 *       AllowedIPs. Roaming still follows such a packet: it was authenticated.
 *   <li>Static mode: the path is assumed to the configured endpoint and WireGuard alone runs on
 *       it, so a plain WireGuard peer can be the partner; a dead path is retried there.
 *   <li>Birthday punching ({@link Traversal#birthday()}): when a punching round for a direct
 *       path ends on the relay (the first one, and then every 5th), both sides run one
 *       {@link Birthday} attempt of 10 s: up to 256 spare sockets each send one TTL-limited probe
 *       to the partner's observed endpoint, and up to 2,048 paced probes go to random ports of
 *       the partner's address. A hit makes (spare socket, endpoint) the direct path; the other
 *       spare sockets are closed when the attempt ends, the chosen one when the path leaves it.
 * </ul>
 *
 * <p>Sockets: the path carries the local socket it uses ({@link #pathSocket()}; 0 = the main
 * socket, i = spare socket i of {@link PeerOutput#openSpareSockets}). Everything to the partner
 * on the path (WireGuard, path probes, keepalives, LEAVE) leaves from that socket; an answer to a
 * probe leaves from the socket the probe came in on; everything to the rendezvous server uses the
 * main socket, and server messages are taken only from it.
 *
 * <p>Error contract: no input datagram or packet makes a method throw; unusable input is
 * dropped and counted in {@link #drops()} (WireGuard's own drops in {@link #wireGuard()}).
 *
 * <p>Not thread-safe: the edge serialises all calls (one lock or one thread).
 */
public final class PeerMachine {
    private static final Logger LOG = System.getLogger(LogNames.PATH);
    /** Largest IP packet carried: what fits one UDP datagram with WireGuard's 32 bytes around it. */
    public static final int MAX_PACKET = 65_507 - 32;
    /** How long the second side waits for the first side's initiation on a punched path. */
    private static final long PUNCHED_PATH_WAIT = 5_000_000_000L;
    /** How long a static-mode peer waits before initiating itself (a plain WireGuard peer may never). */
    private static final long STATIC_PATH_WAIT = 1_000_000_000L;

    private final PeerConfig config;
    private final long session;
    private final WireGuardSession wg;
    private final String peerId;
    private final NoisePublicKey self;
    private final SecureRandom random;
    private final Traversal traversal;
    /** The relay "endpoint": datagrams to it go through the rendezvous server in RELAY frames. */
    private final InetSocketAddress relay;
    private final long openerLeadNanos;

    private PeerState state = PeerState.REGISTERING;
    private long now;
    private PeerOutput out;

    /** The rendezvous session: registration, refresh and retry, server key trust. */
    private final RegistrationClient registration;
    /** Per-peer liveness: dead peer, keepalive, path probes, quiet spells. */
    private final PeerLiveness liveness;
    private final OncePer pathLossLog = OncePer.minute();

    // the partner
    /** The partner's current session, and which of its PUNCHes and LEAVEs are genuine. */
    private final PartnerSession partner;
    private PeerInfo lastPeerInfo;
    /** The punching rounds and the upgrade attempts between them. */
    private final PunchRounds rounds;
    /** Our probes (each provable by its ack) and the partner's (each answered once). */
    private final Probes probes;
    /** The running birthday attempt, or null. */
    private Birthday birthday;

    // the path
    /** The path to the partner (a direct address and local socket, or the relay) and every decision to move it. */
    private final PathSelector paths;
    /** The socket the datagram being handled arrived on (0 outside {@link #onDatagram}). */
    private int receivedOn;
    private long handshakesSeen;
    private boolean tunnelUp;
    private final ArrayDeque<ByteBuffer> staged = new ArrayDeque<>();
    /** True while inside a call into the WireGuard session, which its callbacks must not re-enter. */
    private boolean inSession;
    private boolean pathOpenedInSession;
    private boolean pathMovedInSession;

    private boolean movesWarned;
    /** Addresses already logged as inside the tunnel (bounded), so each is said once. */
    private final LinkedHashSet<InetSocketAddress> insideLogged = new LinkedHashSet<>();
    /** Our own datagrams to the direct path and to the server, recognised if the routing table sends them into the TUN device. */
    private final TunnelLoop pathLoop = new TunnelLoop();
    private final TunnelLoop serverLoop = new TunnelLoop();
    private final OncePer loopLog = OncePer.minute();

    private final DropCounters<PeerDrop> drops = new DropCounters<>(PeerDrop.class);
    /** The partner's allowed IPs: the sources it may send from, the destinations we send it. */
    private final AllowedIps allowedIps;
    private final OncePer refusedLog = OncePer.minute();
    private long packetsSent;
    private long packetsReceived;
    /** The fast path for data threads, and how much of what it did this machine has taken in. */
    private final PeerDataPath data;
    private long absorbedAuthenticated;
    private long absorbedSent;
    private long absorbedRefused;

    private final SessionOutput toSession = new SessionOutput() {
        @Override
        public void sendToPeer(ByteBuffer datagram) {
            if (paths.endpoint() != null) {
                sendVia(paths.endpoint(), paths.socket(), datagram);
                liveness.sent(now);
            }
        }

        @Override
        public void send(InetSocketAddress to, ByteBuffer datagram) {
            sendVia(to, receivedOn, datagram); // a reply (cookie) to what just arrived, on its socket
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
            AllowedIps.Verdict verdict = allowedIps.source(ipPacket);
            if (verdict != AllowedIps.Verdict.ALLOWED) {
                refused(verdict == AllowedIps.Verdict.NO_IPV6 ? PeerDrop.IPV6_NOT_ALLOWED
                        : verdict == AllowedIps.Verdict.NOT_IP ? PeerDrop.NOT_IP : PeerDrop.WRONG_SOURCE);
                return;
            }
            packetsReceived++;
            out.deliver(ipPacket);
        }

        @Override
        public void notIp() {
            refused(PeerDrop.NOT_IP);
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
        this(config, session, random, wall, null);
    }

    /**
     * As {@link #PeerMachine(PeerConfig, long, SecureRandom, Clock)}, for one of several machines
     * behind one socket (a device): WireGuard's local indices come from {@code indices}, unique
     * across the device; null for the session's own.
     */
    public PeerMachine(PeerConfig config, long session, SecureRandom random, Clock wall, IndexAllocator indices) {
        if (session == 0) {
            throw new IllegalArgumentException("session id must be non-zero");
        }
        this.config = config;
        this.allowedIps = config.allowedIps();
        this.session = session;
        this.self = config.key().publicKey();
        this.random = random;
        this.traversal = config.traversal();
        this.relay = config.usesRelay() ? config.rendezvous() : null;
        this.paths = new PathSelector(relay, traversal.directSilent().toNanos());
        this.openerLeadNanos = traversal.openerLead().toNanos();
        this.wg = new WireGuardSession(new Identity(config.key(), config.peer(), config.presharedKey()), random, wall,
                config.session(), indices);
        byte[] punchKey = ControlKeys.peerPeer(config.key(), config.peer());
        this.rounds = new PunchRounds(config.timers(), traversal, random);
        this.probes = new Probes(self, config.peer(), session, punchKey);
        this.partner = new PartnerSession(self, config.peer(), punchKey, drops);
        PeerTimers t = config.timers();
        this.liveness = new PeerLiveness(t);
        this.peerId = config.peer().shortId();
        this.data = new PeerDataPath(wg.dataPath(), allowedIps, config.rendezvous());
        serverLoop.watch(config.rendezvous());
        this.registration = new RegistrationClient(config, session, random, wall, drops);
    }

    /** Starts: registers (rendezvous mode), contacts the static endpoint, or listens. */
    public void start(long now, PeerOutput out) {
        try {
            startControl(now, out);
        } finally {
            publishDataPath();
        }
    }

    private void startControl(long now, PeerOutput out) {
        enter(now, out);
        if (config.usesRendezvous()) {
            LOG.log(Level.INFO, "registering with rendezvous {0} as {1}, looking for peer {2}",
                    HostPort.format(config.rendezvous()), self.shortId(), peerId);
            sendRegister();
        } else if (config.staticEndpoint() != null) {
            LOG.log(Level.INFO, "static mode: contacting peer {0} at {1} (no rendezvous)", peerId,
                    HostPort.format(config.staticEndpoint()));
            state = PeerState.CONNECTED;
            setEndpoint(config.staticEndpoint(), 0);
            liveness.opened(now);
            wg.pathUp(now, STATIC_PATH_WAIT, toSession);
        } else {
            LOG.log(Level.INFO, "listening for peer {0} (no rendezvous, no peer endpoint)", peerId);
            state = PeerState.WAITING_FOR_PEER;
        }
    }

    private void enter(long now, PeerOutput out) {
        this.now = now;
        this.out = out;
        absorbDataPath();
    }

    /**
     * The fast path for the edge's data threads (see {@link PeerDataPath}): it works while the
     * partner is reached directly from the main socket and declines everything else to this
     * machine's control calls.
     */
    public PeerDataPath dataPath() {
        return data;
    }

    /** At the end of every control call: tells the data path where the direct path is now, if any. */
    private void publishDataPath() {
        InetSocketAddress at = state == PeerState.CONNECTED ? paths.endpoint() : null;
        data.publish(at == null || at.equals(relay) || paths.socket() != 0 ? null : at);
    }

    /**
     * At the start of every control call: takes in what the data path sent and received since the
     * last one, so liveness, path and status count it as if it had passed through here.
     */
    private void absorbDataPath() {
        long authenticated = data.authenticated();
        if (authenticated != absorbedAuthenticated) {
            long at = data.lastReceivedAt();
            liveness.absorbReceived(at, authenticated - absorbedAuthenticated);
            absorbedAuthenticated = authenticated;
            InetSocketAddress path = paths.endpoint();
            if (path != null && !path.equals(relay)) {
                paths.directHeardAt(at);
            }
        }
        long sent = data.sent();
        if (sent != absorbedSent) {
            absorbedSent = sent;
            liveness.absorbSent(data.lastSentAt());
        }
        long refused = data.refused(PeerDrop.WRONG_SOURCE) + data.refused(PeerDrop.IPV6_NOT_ALLOWED)
                + data.refused(PeerDrop.NOT_IP);
        if (refused != absorbedRefused) {
            absorbedRefused = refused;
            warnRefused();
        }
    }

    // ------------------------------------------------------------------ inputs

    /** Handles one UDP datagram that arrived from {@code from} on the main socket. */
    public void onDatagram(long now, InetSocketAddress from, ByteBuffer datagram, PeerOutput out) {
        onDatagram(now, 0, from, datagram, out);
    }

    /**
     * Handles one UDP datagram that arrived from {@code from} on {@code socket}: 0 = the main
     * socket, i = spare socket i (see {@link PeerOutput#openSpareSockets}). On a spare socket
     * that is not open, or from the rendezvous server on a spare socket, it is dropped
     * ({@link PeerDrop#WRONG_SOCKET}).
     */
    public void onDatagram(long now, int socket, InetSocketAddress from, ByteBuffer datagram, PeerOutput out) {
        try {
            datagramControl(now, socket, from, datagram, out);
        } finally {
            publishDataPath();
        }
    }

    private void datagramControl(long now, int socket, InetSocketAddress from, ByteBuffer datagram, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        enter(now, out);
        if (socket != 0 && !spareOpen(socket)) {
            count(PeerDrop.WRONG_SOCKET);
            return;
        }
        receivedOn = socket;
        try {
            handle(from, datagram);
        } finally {
            receivedOn = 0;
        }
    }

    private void handle(InetSocketAddress from, ByteBuffer datagram) {
        try {
            MessageType type = Header.peekType(datagram);
            if (type == MessageType.RELAY) {
                onRelayed(from, datagram);
                return;
            }
            if (type.isWireGuard()) {
                long handshakes = wg.handshakesCompleted();
                inSession = true;
                try {
                    wg.receive(now, from, datagram, toSession);
                } finally {
                    inSession = false;
                }
                afterSession(handshakes, from);
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
            LOG.log(Level.TRACE, () -> "dropped datagram from " + HostPort.format(from) + ": " + e.getMessage());
        }
    }

    /**
     * Handles a WireGuard handshake initiation that the device's {@link io.pinhole.wireguard.InitiationGate}
     * admitted and decrypted, as {@link #onDatagram(long, int, InetSocketAddress, ByteBuffer, PeerOutput)}
     * would handle the datagram itself. {@code relayed}: it came in a RELAY frame from {@code from},
     * which must then be the rendezvous server on the main socket, with the relay on. The
     * initiation is taken (or zeroed) in every case.
     */
    public void onInitiation(long now, int socket, InetSocketAddress from, boolean relayed,
                             DecryptedInitiation initiation, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            initiation.wipe();
            return;
        }
        enter(now, out);
        if (socket != 0 && !spareOpen(socket)) {
            initiation.wipe();
            count(PeerDrop.WRONG_SOCKET);
            return;
        }
        receivedOn = socket;
        try {
            if (relayed && !fromServer(from)) { // (counted by fromServer)
                initiation.wipe();
                return;
            }
            if (relayed && relay == null) {
                initiation.wipe();
                count(PeerDrop.RELAY_OFF);
                return;
            }
            InetSocketAddress at = relayed ? relay : from;
            long handshakes = wg.handshakesCompleted();
            inSession = true;
            try {
                wg.receiveInitiation(now, at, initiation, toSession);
            } finally {
                inSession = false;
            }
            afterSession(handshakes, at);
        } finally {
            receivedOn = 0;
        }
    }

    /** What a call into the WireGuard session left to do once it returned (see {@link #inSession}). */
    private void afterSession(long handshakesBefore, InetSocketAddress from) {
        if (pathOpenedInSession) {
            pathOpenedInSession = false;
            startTunnel(wg.handshakesCompleted() == handshakesBefore);
        }
        if (pathMovedInSession) {
            pathMovedInSession = false;
            wg.pathMoved(now, toSession);
        }
        noticeHandshake(from);
    }

    /** A RELAY frame: a datagram from the partner through the rendezvous server. */
    private void onRelayed(InetSocketAddress from, ByteBuffer frame) throws MalformedMessageException {
        if (!fromServer(from)) {
            return;
        }
        if (relay == null) {
            count(PeerDrop.RELAY_OFF);
            return;
        }
        handle(relay, Relay.unwrap(frame)); // unwrap admits WireGuard and PUNCH only
    }

    /**
     * Sends to a direct address from {@code socket}, or through the relay (from the main socket)
     * when {@code to} is the relay.
     */
    private void sendVia(InetSocketAddress to, int socket, ByteBuffer datagram) {
        if (to.equals(relay)) {
            out.send(config.rendezvous(), Relay.wrap(datagram));
        } else if (socket == 0) {
            out.send(to, datagram);
        } else {
            out.sendFrom(socket, to, datagram, 0);
        }
    }

    /** True if spare socket {@code socket} is open: one of the running attempt's, or the path's. */
    private boolean spareOpen(int socket) {
        return socket > 0 && (socket == paths.socket() || birthday != null && socket <= birthday.spares());
    }

    /** Handles one IP packet read from the TUN device: into the tunnel, or staged. */
    public void onTunPacket(long now, ByteBuffer packet, PeerOutput out) {
        try {
            tunPacketControl(now, packet, out);
        } finally {
            publishDataPath();
        }
    }

    private void tunPacketControl(long now, ByteBuffer packet, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        enter(now, out);
        if (!packet.hasRemaining() || packet.remaining() > MAX_PACKET) {
            count(PeerDrop.BAD_TUN_PACKET);
            return;
        }
        if (carriesItself(packet)) {
            return;
        }
        AllowedIps.Verdict verdict = allowedIps.destination(packet);
        if (verdict != AllowedIps.Verdict.ALLOWED) {
            count(verdict == AllowedIps.Verdict.NOT_IP ? PeerDrop.NOT_IP : PeerDrop.DESTINATION_NOT_ALLOWED);
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

    /**
     * True (counted, and said at WARNING at most once a minute) if an IP packet read from the TUN
     * device is our own datagram to the direct path or to the rendezvous server: the routing
     * table sends pinhole's UDP into its own tunnel.
     */
    private boolean carriesItself(ByteBuffer packet) {
        InetSocketAddress loop = pathLoop.matches(packet) ? pathLoop.watched()
                : serverLoop.matches(packet) ? serverLoop.watched() : null;
        if (loop == null) {
            return false;
        }
        count(PeerDrop.TUNNEL_LOOP);
        if (loopLog.due(now)) {
            LOG.log(Level.WARNING, "dropped our own datagram to {0} that the routing table sent into the tunnel "
                    + "({1} so far): the tunnel must not carry itself; route {0} outside the tunnel", HostPort.format(loop),
                    drops.get(PeerDrop.TUNNEL_LOOP));
        }
        return true;
    }

    /**
     * True if {@code address} is inside our own tunnel (see {@link PeerOutput#throughTunnel});
     * each such address is logged once.
     */
    private boolean insideTunnel(InetSocketAddress address) {
        if (address.equals(relay) || !out.throughTunnel(address)) {
            return false;
        }
        if (insideLogged.add(address)) {
            if (insideLogged.size() > Probes.MAX_PROBED) {
                insideLogged.remove(insideLogged.iterator().next());
            }
            LOG.log(Level.INFO, "{0} is reached through the tunnel itself: never a path to peer {1}", HostPort.format(address),
                    peerId);
        }
        return true;
    }

    /** Runs the timers. Call every 50-100 ms. */
    public void onTick(long now, PeerOutput out) {
        try {
            tickControl(now, out);
        } finally {
            publishDataPath();
        }
    }

    private void tickControl(long now, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        enter(now, out);
        if (config.usesRendezvous()) {
            registration.tick(now, state != PeerState.CONNECTED || paths.relayed(), out);
        }
        switch (state) {
            case PUNCHING -> {
                if (rounds.running()) {
                    tickPunching();
                }
            }
            case CONNECTED -> tickConnected();
            default -> {
            }
        }
        wg.tick(now, toSession);
    }

    /** Leaves: tells the server and the partner, then does nothing more (and zeroes the WireGuard keys). */
    public void leave(long now, PeerOutput out) {
        try {
            leaveControl(now, out);
        } finally {
            publishDataPath();
        }
    }

    private void leaveControl(long now, PeerOutput out) {
        if (state == PeerState.CLOSED) {
            return;
        }
        enter(now, out);
        Leave leave = new Leave(self, session, registration.nextTimestamp());
        if (paths.endpoint() != null) {
            sendVia(paths.endpoint(), paths.socket(), partner.seal(leave)); // first: through the relay it needs our registration
        }
        ByteBuffer toServer = config.usesRendezvous() ? registration.leaveForServer(leave) : null;
        if (toServer != null) {
            out.send(config.rendezvous(), toServer);
        }
        String told = toServer != null ? "the rendezvous" : "";
        if (paths.endpoint() != null) {
            told = told.isEmpty() ? "peer " + peerId : told + " and peer " + peerId;
        }
        LOG.log(Level.INFO, "left{0}", told.isEmpty() ? "" : ": told " + told);
        state = PeerState.CLOSED;
        staged.clear();
        if (birthday != null || paths.socket() != 0) {
            birthday = null;
            out.closeSpareSockets(0);
        }
        wg.close(); // zeroes the WireGuard secrets; the static private key stays the config owner's
    }

    // ------------------------------------------------------------------ registration

    private void sendRegister() {
        registration.register(now, out);
    }

    private boolean fromServer(InetSocketAddress from) {
        if (!config.usesRendezvous() || !from.equals(config.rendezvous())) {
            count(PeerDrop.NOT_FROM_RENDEZVOUS);
            return false;
        }
        if (receivedOn != 0) {
            count(PeerDrop.WRONG_SOCKET);
            return false;
        }
        return true;
    }

    private void onChallenge(InetSocketAddress from, Challenge challenge) {
        if (fromServer(from)) {
            registration.onChallenge(now, from, challenge, out);
        }
    }

    private void onRegistered(InetSocketAddress from, Registered registered, ByteBuffer datagram) {
        if (!fromServer(from) || !registration.onRegistered(now, from, registered, datagram,
                state == PeerState.CONNECTED)) {
            return;
        }
        if (state == PeerState.REGISTERING) {
            state = PeerState.WAITING_FOR_PEER;
            LOG.log(Level.INFO, "waiting for peer {0} to register", peerId);
        }
    }

    // ------------------------------------------------------------------ pairing and punching

    private void onPeerInfo(InetSocketAddress from, PeerInfo info, ByteBuffer datagram) {
        if (!fromServer(from) || !registration.acceptPeerInfo(info, datagram)) {
            return;
        }
        boolean news = !info.sameNews(lastPeerInfo);
        lastPeerInfo = info;
        long previousSession = partner.id();
        notePeerSession(info.peerSession());
        switch (state) {
            case CONNECTED -> {
                if (previousSession == 0) {
                    // on the relay already (the partner's handshake came through it before this PEER_INFO)
                    LOG.log(Level.INFO, "peer {0} is at {1}; punching for a direct path", peerId,
                            HostPort.format(info.observed()));
                    beginRound(null);
                    return;
                }
                boolean restarted = previousSession != info.peerSession();
                boolean known = info.observed().equals(paths.endpoint()) || info.candidates().contains(paths.endpoint());
                if (!restarted && (known || !news)) {
                    return; // a refresh of what we know
                }
                LOG.log(Level.INFO, "peer {0} {1}; punching to its new endpoint {2}", peerId,
                        restarted ? "restarted" : "moved", HostPort.format(info.observed()));
                if (relay != null) {
                    InetSocketAddress previous = paths.endpoint();
                    moveToRelay();
                    beginRound(previous);
                } else {
                    startPunching(true);
                }
            }
            case PUNCHING -> {
                if (news) {
                    startPunching(false);
                }
            }
            case REGISTERING, WAITING_FOR_PEER -> {
                if (state == PeerState.REGISTERING) {
                    registration.registeredByPeerInfo(now); // an authenticated PEER_INFO proves the registration arrived
                }
                if (relay != null) {
                    openPath(relay);
                    beginRound(null);
                } else {
                    startPunching(false);
                }
            }
            default -> {
            }
        }
    }

    /** No path without the relay: punch until one answers (PUNCHING). */
    private void startPunching(boolean keepCurrentEndpoint) {
        InetSocketAddress previous = keepCurrentEndpoint ? paths.endpoint() : null;
        boolean already = state == PeerState.PUNCHING;
        state = PeerState.PUNCHING;
        clearPath();
        beginRound(previous);
        if (!already) {
            LOG.log(Level.INFO, "punching to peer {0} at {1}", peerId, HostPort.formatAll(rounds.targets()));
        }
        if (rounds.probesDue(now)) {
            tickPunching();
        }
    }

    /**
     * Starts a punching round to the partner's candidates (LAN first, then its observed endpoint,
     * then {@code previous}, a direct endpoint that used to work). With openers on, each target
     * first gets a TTL-limited probe and the full probes follow after the opener lead.
     */
    private void beginRound(InetSocketAddress previous) {
        LinkedHashSet<InetSocketAddress> targets = new LinkedHashSet<>();
        if (lastPeerInfo != null) {
            targets.addAll(lastPeerInfo.candidates());
            targets.add(lastPeerInfo.observed());
        }
        if (previous != null && !previous.equals(relay)) {
            targets.add(previous);
        }
        if (targets.isEmpty()) {
            // Nothing to punch to: the partner reached us through the relay before its PEER_INFO
            // reached us. Ask the server again (it answers with PEER_INFO); try again shortly.
            rounds.stop();
            rounds.retrySoon(now);
            sendRegister();
            return;
        }
        targets.removeIf(this::insideTunnel); // a candidate routed through our tunnel would carry it inside itself
        endBirthday();
        probes.retainOnly(targets, paths.endpoint());
        rounds.begin(now, targets, sendOpeners(targets));
        if (state == PeerState.CONNECTED) {
            LOG.log(Level.INFO, "punching to peer {0} at {1} for a direct path (attempt {2})", peerId,
                    HostPort.formatAll(rounds.targets()), rounds.attempts());
        }
    }

    /** TTL-limited probes that open our own NAT's mappings; true if the edge could send them. */
    private boolean sendOpeners(Collection<InetSocketAddress> targets) {
        int ttl = traversal.openerTtl();
        if (ttl == 0 || targets.isEmpty()) {
            return false;
        }
        boolean sent = false;
        for (InetSocketAddress target : targets) {
            if (out.sendWithTtl(target, nextProbe(), ttl)) {
                noteProbe(target);
                sent = true;
            }
        }
        return sent;
    }

    private ByteBuffer nextProbe() {
        return probes.next(partner.id());
    }

    private void noteProbe(InetSocketAddress target) {
        probes.note(target, now, paths.endpoint());
    }

    private void tickPunching() {
        switch (rounds.tick(now)) {
            case OVER -> roundOver();
            case PROBE -> {
                for (InetSocketAddress target : rounds.targets()) {
                    if (rank(target) < paths.rank()) {
                        out.send(target, nextProbe()); // a counter of its own: its ack proves this address
                        noteProbe(target);
                    }
                }
            }
            default -> {
            }
        }
    }

    /** A round's time is up without a path that ended it. */
    private void roundOver() {
        long roundSeconds = rounds.roundNanos() / 1_000_000_000L;
        if (state == PeerState.PUNCHING) {
            LOG.log(Level.WARNING, "no answer from peer {0} at {1} after {2} s; asking the rendezvous again",
                    peerId, HostPort.formatAll(rounds.targets()), roundSeconds);
            state = PeerState.WAITING_FOR_PEER;
            lastPeerInfo = null; // the next PEER_INFO, even unchanged, starts a new round
            sendRegister();
        } else if (paths.relayed()) {
            rounds.upgradeFailed();
            if (!startBirthday()) {
                long wait = rounds.scheduleUpgrade(now);
                LOG.log(Level.INFO, "no direct path to peer {0} after {1} s (tried {2}); staying on the relay, "
                        + "trying again in {3} s", peerId, roundSeconds, HostPort.formatAll(rounds.targets()),
                        wait / 1_000_000_000L);
            }
        }
    }

    /** A probe on the current path, every keepalive interval: it measures the RTT and proves the path. */
    private void sendPathProbe() {
        sendVia(paths.endpoint(), paths.socket(), nextProbe());
        noteProbe(paths.endpoint());
        liveness.pathProbeSent(probes.last(), now);
    }

    /**
     * Notices a path that stopped answering, at once rather than after the fallback or dead-peer
     * rules, and acts on it:
     * <ul>
     *   <li>A stream from the partner that stops (at least {@value PeerLiveness#STREAM_PACKETS} authenticated
     *       packets in the last full second, then {@value PeerLiveness#STREAM_GAP_MS} ms of nothing), or, on the
     *       relay, sending while hearing nothing for {@value PeerLiveness#RELAY_QUIET_MS} ms: the path is
     *       probed at once ({@link PeerLiveness#quiet}). On a
     *       direct path that probe also re-opens our NAT's mapping if the NAT lost it (a conntrack
     *       flush), so the partner's packets get through again.
     *   <li>A path probe unanswered for {@value PeerLiveness#PROBE_TIMEOUT_MS} ms (on a direct path, once the tunnel is
     *       up): we re-register. The server sees our current public endpoint, which a rebooted NAT
     *       may have changed, and tells the partner, which then carries the tunnel on the relay and
     *       punches to it (we follow it to the relay, and punch too); a restarted server learns us
     *       again. Once per probe, never while a REGISTER is unanswered (its own backoff runs then).
     * </ul>
     * On the relay the server is the path: a restarted server has lost our registration and drops
     * our frames unread, and the re-registration mends it.
     */
    private void checkPath() {
        boolean viaRelay = paths.relayed();
        PeerLiveness.Quiet quiet = liveness.quiet(now, viaRelay, partner.known());
        if (quiet != PeerLiveness.Quiet.NONE) {
            LOG.log(Level.DEBUG, "nothing from peer {0} for {1} ms {2}: probing the path", peerId,
                    liveness.silentFor(now) / 1_000_000, quiet == PeerLiveness.Quiet.STREAM_STOPPED
                            ? "after a stream" : "through the relay");
            sendPathProbe();
            return;
        }
        if (!liveness.probeTimedOut(now)) {
            return;
        }
        if (registration.awaitingAnswer() || !config.usesRendezvous() || !viaRelay && !tunnelUp) {
            return; // (a direct path still being set up has the round and its fallback rules)
        }
        boolean say = pathLossLog.due(now);
        LOG.log(say ? Level.INFO : Level.DEBUG, "no answer from peer {0} {1} for {2} ms: re-registering with "
                + "rendezvous {3}{4}", peerId, describe(paths.endpoint()), (now - liveness.probeSentAt()) / 1_000_000,
                HostPort.format(config.rendezvous()), viaRelay ? " (restarted?)" : " (has our public address changed?)");
        registration.resetBackoff();
        sendRegister();
    }

    /**
     * After a failed round on the relay (the first, then every {@value Birthday#EVERY}th): starts a
     * birthday attempt, if it is on and the edge has spare sockets. Sends the hard side's probes,
     * one per spare socket, at once; the easy side's follow on the ticks.
     *
     * @return true if an attempt started
     */
    private boolean startBirthday() {
        if (!traversal.birthday() || lastPeerInfo == null || !partner.known()
                || !rounds.birthdayTurn() || insideTunnel(lastPeerInfo.observed())) {
            return false;
        }
        int opened = out.openSpareSockets(Birthday.SPARE_SOCKETS);
        if (opened <= 0) {
            LOG.log(Level.DEBUG, "no spare sockets at this edge: no birthday punching");
            return false;
        }
        InetSocketAddress target = lastPeerInfo.observed();
        birthday = new Birthday(target, opened, now, openerLeadNanos, random);
        int ttl = traversal.openerTtl();
        int limited = 0;
        for (int socket = 1; socket <= birthday.spares(); socket++) {
            ByteBuffer probe = nextProbe();
            // TTL-limited, so it opens our NAT's mapping without reaching the partner's NAT. An edge
            // that cannot limit the TTL gets it sent at full TTL: without it this socket has no
            // mapping at all, and a partner NAT that drops unsolicited packets (most) is not harmed.
            if (ttl > 0 && out.sendFrom(socket, target, probe.duplicate(), ttl)) {
                limited++;
            } else {
                out.sendFrom(socket, target, probe, 0);
            }
            birthday.sent(probes.last(), socket, target, now);
        }
        LOG.log(Level.INFO, "no direct path to peer {0} after {1} s; birthday punching for {2} s: {3} spare "
                + "sockets opened towards {4} ({5} of them TTL-limited), up to {6} probes to random ports of {7}",
                peerId, rounds.roundNanos() / 1_000_000_000L, Birthday.DURATION_NANOS / 1_000_000_000L, birthday.spares(),
                HostPort.format(target), limited, Birthday.PROBES, target.getAddress().getHostAddress());
        return true;
    }

    /** The birthday attempt's ticks: paced random-port probes from the main socket, and its end. */
    private void tickBirthday() {
        if (birthday.over(now)) {
            long wait = rounds.scheduleUpgrade(now);
            LOG.log(Level.INFO, "no direct path to peer {0} by birthday punching ({1} spare sockets, {2} probes); "
                    + "staying on the relay, trying again in {3} s", peerId, birthday.spares(), birthday.probesSent(),
                    wait / 1_000_000_000L);
            endBirthday();
            return;
        }
        for (InetSocketAddress target : birthday.due(now)) {
            out.send(target, nextProbe());
            birthday.sent(probes.last(), 0, target, now);
        }
    }

    /** Ends the running birthday attempt, if any: closes its spare sockets except the path's. */
    private void endBirthday() {
        if (birthday != null) {
            birthday = null;
            out.closeSpareSockets(paths.socket());
        }
    }

    /**
     * Moves the path to {@code to} from local {@code socket}; a spare socket the path leaves is
     * closed (unless a birthday attempt still uses it).
     */
    private void setEndpoint(InetSocketAddress to, int socket) {
        left(paths.set(to, socket));
    }

    /** No path: the partner left, or punching starts without the relay. */
    private void clearPath() {
        left(paths.clear());
    }

    /** The path moved, from local socket {@code previous}: watch the new one for loops, close a spare socket it left. */
    private void left(int previous) {
        InetSocketAddress to = paths.endpoint();
        pathLoop.watch(to == null || to.equals(relay) ? null : to);
        if (previous != 0 && previous != paths.socket() && birthday == null) {
            out.closeSpareSockets(paths.socket());
        }
    }

    /** Lower is better: the partner's LAN candidates in its order, then anything public; the relay last. */
    private int rank(InetSocketAddress address) {
        return paths.rank(address, lastPeerInfo == null ? List.of() : lastPeerInfo.candidates());
    }

    private void onPunch(InetSocketAddress from, Punch punch, ByteBuffer datagram) {
        if (!partner.acceptPunch(punch, datagram)) {
            return;
        }
        if (!onPath(from) && insideTunnel(from)) {
            count(PeerDrop.THROUGH_TUNNEL); // not answered: the answer would go into the tunnel
            return;
        }
        if (!punch.ack()) {
            answerProbe(from, punch);
            return;
        }
        // An ack counts once, and only from the address its probe went to (each probe has its own
        // counter, naming our session): that is proof that the partner answers there now.
        long rtt = punch.receiverSession() != session ? -1 : probes.ack(from, punch.counter(), now);
        if (rtt < 0 && birthday != null && punch.receiverSession() == session) {
            rtt = birthday.ack(punch.counter(), receivedOn, from, now); // and on the socket it left from
        }
        if (rtt < 0) {
            count(PeerDrop.STALE_PUNCH);
            return;
        }
        liveness.acked(punch.counter());
        InetSocketAddress before = paths.endpoint();
        onAuthenticated(from);
        if (onPath(from)) {
            paths.measured(rtt);
            if (!from.equals(before) && !from.equals(relay) && state == PeerState.CONNECTED) {
                // Proven to us; an authenticated WireGuard packet over it proves it to the partner
                // (WireGuard's own roaming rule), without waiting for the partner's probes.
                wg.sendKeepalive(now, toSession);
            }
        }
    }

    /**
     * A probe of the partner: answered with an ack from the socket it came in on. It moves no path
     * and opens none (on the path we use, it only keeps that path alive): it is authenticated but not fresh to us (it may have
     * been captured on its way elsewhere and replayed from here). It must name our current session
     * and be new (each counter answered once).
     */
    private void answerProbe(InetSocketAddress from, Punch punch) {
        if (punch.receiverSession() != session) {
            count(PeerDrop.WRONG_SESSION); // meant for an earlier run of ours
            return;
        }
        if (!probes.fresh(punch.counter())) {
            count(PeerDrop.STALE_PUNCH); // a replay, or too old
            return;
        }
        sendVia(from, receivedOn, probes.answer(punch));
        if (state == PeerState.CONNECTED && onPath(from)) {
            // A fresh probe on the path we already use keeps it alive (the partner's probes and ours
            // both count, as on a lossy link they must), though it never opens or moves one.
            liveness.heard(now);
            if (!from.equals(relay)) {
                paths.directHeard(now);
            }
        }
    }

    /** Records the partner's session id; a new one means it restarted and its keys are gone. */
    private void notePeerSession(long id) {
        PartnerSession.Change change = partner.note(id);
        if (change == PartnerSession.Change.SAME) {
            return;
        }
        if (change == PartnerSession.Change.RESTARTED) {
            LOG.log(Level.INFO, "peer {0} started a new session: renewing WireGuard keys", peerId);
            wg.peerRestarted();
            tunnelUp = false;
        }
        probes.partnerRestarted();
    }

    /**
     * An authenticated packet from the partner arrived from {@code from} (the relay, or a direct
     * address). Path choice: a direct path beats the relay at once; on a direct path, a better
     * ranked address (a LAN candidate) or an equally ranked one (the partner roamed) takes over at
     * once, a worse one only after the current address has been quiet for a while; the relay
     * takes over from a direct path that has been quiet (the partner no longer hears it).
     */
    private void onAuthenticated(InetSocketAddress from) {
        boolean viaRelay = from.equals(relay);
        if (!viaRelay && !onPath(from)) {
            if (insideTunnel(from)) {
                count(PeerDrop.THROUGH_TUNNEL);
                return;
            }
            if (state == PeerState.CONNECTED && paths.movesHeld(now)) {
                count(PeerDrop.PATH_MOVES_HELD);
                return;
            }
        }
        liveness.authenticated(now);
        if (!viaRelay && onPath(from)) {
            paths.directHeard(now);
        }
        if (state != PeerState.CONNECTED) {
            openPath(from);
            return;
        }
        if (onPath(from)) {
            return;
        }
        int rank = viaRelay ? Integer.MAX_VALUE : rank(from);
        switch (paths.choose(from, rank, now)) {
            case FOLLOW_TO_RELAY -> {
                LOG.log(Level.INFO, "peer {0} reaches us through the relay and {1} has been quiet for {2} ms; "
                        + "following it to the relay", peerId, HostPort.format(paths.endpoint()),
                        (now - paths.lastDirectAt()) / 1_000_000);
                InetSocketAddress previous = paths.endpoint();
                moveToRelay();
                if (!rounds.running()) {
                    beginRound(previous);
                }
            }
            case HOLD -> holdMoves(from);
            case UP_FROM_RELAY -> {
                LOG.log(Level.INFO, "direct path to peer {0} at {1} (after {2} ms on the relay{3})", peerId,
                        HostPort.format(from), (now - paths.since()) / 1_000_000, birthday == null ? ""
                                : "; birthday punching, from " + (receivedOn == 0 ? "the main socket" : "spare socket "
                                + receivedOn));
                moveDirect(from, rank);
                endBirthday();
                if (inSession) {
                    pathMovedInSession = true; // the session is mid-call; it is told when it returns
                } else {
                    wg.pathMoved(now, toSession);
                }
            }
            case ROAM -> {
                LOG.log(Level.INFO, "peer {0} {1} from {2} to {3}", peerId, rank < paths.rank() ? "has a better path:"
                        : "moved", HostPort.format(paths.endpoint()), HostPort.format(from));
                moveDirect(from, rank);
            }
            case STAY -> {
            }
        }
    }

    /**
     * The path changed more than {@link PathMoves#max()} times in a few seconds: a loop or an
     * attack, not a better path. Says so once, and falls back to the relay (or stays put without
     * one) while moves are held off.
     */
    private void holdMoves(InetSocketAddress from) {
        count(PeerDrop.PATH_MOVES_HELD);
        if (!movesWarned) {
            movesWarned = true;
            LOG.log(Level.WARNING, "the path to peer {0} changed more than {1} times within seconds (last to {2}): "
                    + "a routing loop? {3} for a minute", peerId, paths.maxMoves(), HostPort.format(from),
                    relay != null ? "falling back to the relay" : "holding the path");
        }
        if (paths.directWithRelay()) {
            InetSocketAddress previous = paths.endpoint();
            moveToRelay();
            if (!rounds.running()) {
                beginRound(previous);
            }
        }
    }

    /** True if {@code from}, on the socket the datagram came in on, is the path. */
    private boolean onPath(InetSocketAddress from) {
        return paths.onPath(from, receivedOn);
    }

    private void moveDirect(InetSocketAddress to, int rank) {
        left(paths.moveDirect(to, receivedOn, rank, now));
        liveness.newPath(now); // measure the new path's RTT at once
        rounds.settle(now, paths.rank(), this::rank); // a direct path opened: stop punching, or look for a better one a moment
    }

    private void moveToRelay() {
        left(paths.moveToRelay(now));
        liveness.newPath(now);
    }

    private void openPath(InetSocketAddress from) {
        long tookMillis = state == PeerState.PUNCHING ? (now - rounds.startedAt()) / 1_000_000 : 0;
        boolean punched = state == PeerState.PUNCHING;
        state = PeerState.CONNECTED;
        liveness.opened(now);
        if (from.equals(relay)) {
            moveToRelay();
            LOG.log(Level.INFO, "peer {0} found; the tunnel starts on the relay {1} while punching for a direct "
                    + "path", peerId, HostPort.format(config.rendezvous()));
        } else {
            paths.noteMove(now);
            moveDirect(from, rank(from));
            LOG.log(Level.INFO, "path to peer {0} open at {1}{2}", peerId, HostPort.format(from),
                    punched ? " (punched in " + tookMillis + " ms)" : "");
        }
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
            LOG.log(Level.INFO, "tunnel up: WireGuard handshake with peer {0} {1} complete", peerId, describe(from));
        } else if (rekeyed && tunnelUp) {
            LOG.log(Level.DEBUG, "new WireGuard keypair with peer {0}", peerId);
        }
    }

    private String describe(InetSocketAddress address) {
        return address.equals(relay) ? "through the relay " + HostPort.format(config.rendezvous())
                : "at " + HostPort.format(address);
    }

    private void onLeave(Leave leave, ByteBuffer datagram) {
        if (!partner.acceptLeave(leave, datagram)) {
            return;
        }
        LOG.log(Level.INFO, "peer {0} left; waiting for it to come back", peerId);
        tunnelUp = false;
        if (config.usesRendezvous() || config.staticEndpoint() == null) {
            state = PeerState.WAITING_FOR_PEER;
            endBirthday();
            clearPath();
            lastPeerInfo = null;
            rounds.stop();
        }
    }

    // ------------------------------------------------------------------ connected

    private void tickConnected() {
        liveness.tick(now);
        if (liveness.dead(now)) {
            tunnelUp = false;
            if (config.usesRendezvous()) {
                LOG.log(Level.WARNING, "tunnel down: nothing from peer {0} {1} for {2} s; punching again{3} and "
                        + "re-registering", peerId, describe(paths.endpoint()), liveness.deadNanos() / 1_000_000_000L,
                        relay != null ? " (on the relay meanwhile)" : "");
                sendRegister();
                if (relay != null) {
                    InetSocketAddress previous = paths.endpoint();
                    moveToRelay();
                    liveness.heard(now);
                    if (birthday == null) {
                        beginRound(previous); // a running birthday attempt is the punching; it goes on
                    }
                } else {
                    startPunching(true);
                }
            } else {
                InetSocketAddress target = config.staticEndpoint() != null ? config.staticEndpoint() : paths.endpoint();
                LOG.log(Level.WARNING, "tunnel down: nothing from peer {0} for {1} s; handshaking again with {2}",
                        peerId, liveness.deadNanos() / 1_000_000_000L, HostPort.format(target));
                setEndpoint(target, 0);
                liveness.heard(now);
                wg.initiate(now, toSession, true);
            }
            return;
        }
        checkPath();
        if (rounds.running()) {
            tickPunching();
        } else if (birthday != null) {
            tickBirthday();
        } else if (paths.relayed() && rounds.upgradeDue(now)) {
            beginRound(null);
        }
        if (paths.directSilent(now)) {
            LOG.log(Level.WARNING, "direct path to peer {0} at {1} silent for {2} s; falling back to the relay",
                    peerId, HostPort.format(paths.endpoint()), (now - paths.lastDirectAt()) / 1_000_000_000L);
            InetSocketAddress previous = paths.endpoint();
            moveToRelay();
            beginRound(previous);
        }
        if (config.usesRendezvous() && partner.known() && liveness.pathProbeDue(now)) {
            if (paths.directWithRelay() && insideTunnel(paths.endpoint())) {
                LOG.log(Level.WARNING, "the direct path to peer {0} at {1} now leads into the tunnel itself; "
                        + "falling back to the relay", peerId, HostPort.format(paths.endpoint()));
                InetSocketAddress previous = paths.endpoint();
                moveToRelay();
                beginRound(previous);
            }
            sendPathProbe();
        }
        if (liveness.keepaliveDue(now)) {
            if (!wg.sendKeepalive(now, toSession) && (wg.initiatesFirst() || !config.usesRendezvous())) {
                // No keypair yet: keep handshaking. Between two pinhole peers only the side that
                // initiates first does: if both did, on this fixed 5 s beat, their initiations would
                // cross every time (each answer replaces the other's half-done handshake).
                wg.initiate(now, toSession, false);
            }
            liveness.sent(now);
        }
    }

    // ------------------------------------------------------------------ observation

    /** The current state. */
    public PeerState state() {
        return state;
    }

    /** True when a WireGuard keypair is usable and the partner has not gone silent: IP packets flow. */
    public boolean tunnelReady() {
        return state == PeerState.CONNECTED && tunnelUp && wg.canSend(now);
    }

    /** How packets reach the partner now. */
    public PathKind path() {
        InetSocketAddress at = endpoint();
        return at == null ? PathKind.NONE : at.equals(relay) ? PathKind.RELAYED : PathKind.DIRECT;
    }

    /** The partner's endpoint of the working path (the relay's for a relayed one), or null when not connected. */
    public InetSocketAddress endpoint() {
        return state == PeerState.CONNECTED ? paths.endpoint() : null;
    }

    /**
     * The local socket the path uses: 0 = the main socket, i = spare socket i (a birthday hit);
     * 0 without a path.
     */
    public int pathSocket() {
        return endpoint() == null ? 0 : paths.socket();
    }

    /** True while a birthday-punching attempt runs. */
    public boolean birthdayRunning() {
        return birthday != null;
    }

    /** A snapshot for logs and {@code pinhole status}. */
    public PeerStatus status() {
        return new PeerStatus(state, path(), endpoint(), paths.rttNanos(), tunnelReady(), publicEndpoint(), rounds.attempts(),
                packetsSent(), packetsReceived(), drops()); // on the relay, endpoint() is the rendezvous server's
    }

    /** Our public endpoint as the rendezvous server last saw it, or null. */
    public InetSocketAddress publicEndpoint() {
        return registration.publicEndpoint();
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
        return packetsSent + data.sent();
    }

    /** IP packets received from the partner and delivered. */
    public long packetsReceived() {
        return packetsReceived + data.delivered();
    }

    /** IP packets waiting for a path. */
    public int stagedPackets() {
        return staged.size();
    }

    /** A snapshot of the drop counters. */
    public Map<PeerDrop, Long> drops() {
        Map<PeerDrop, Long> all = drops.snapshot();
        for (PeerDrop drop : new PeerDrop[] {PeerDrop.WRONG_SOURCE, PeerDrop.IPV6_NOT_ALLOWED, PeerDrop.NOT_IP}) {
            long more = data.refused(drop);
            if (more > 0) {
                all.merge(drop, more, Long::sum);
            }
        }
        return all;
    }

    /** One drop counter: this machine's and its data path's. */
    private long dropped(PeerDrop drop) {
        return drops.get(drop) + data.refused(drop);
    }

    private void count(PeerDrop drop) {
        drops.count(drop);
    }

    /**
     * Counts a packet decrypted from the partner that its allowed IPs refuse, and says so at
     * WARNING at most once a minute (with the counts so far): a partner sending from addresses it
     * may not use is misconfigured or spoofing.
     */
    private void refused(PeerDrop drop) {
        count(drop);
        warnRefused();
    }

    /** Says at WARNING, at most once a minute, how many packets the partner's allowed IPs refused. */
    private void warnRefused() {
        if (refusedLog.due(now)) {
            LOG.log(Level.WARNING, "dropped packets from peer {0} that its allowed IPs ({1}) refuse: "
                    + "wrong source {2}, IPv6 not allowed {3}, not IP {4} so far", peerId, allowedIps,
                    dropped(PeerDrop.WRONG_SOURCE), dropped(PeerDrop.IPV6_NOT_ALLOWED), dropped(PeerDrop.NOT_IP));
        }
    }
}
