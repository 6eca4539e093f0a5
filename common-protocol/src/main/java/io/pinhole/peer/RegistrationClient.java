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
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.Transmit;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;

/**
 * RegistrationClient: one client's session with the rendezvous server, the registration part of
 * a {@link PeerMachine}. Its one job: keep us registered, and take only the server's answers that
 * are genuine and fresh.
 *
 * <ul>
 *   <li>REGISTER carries the server's address cookie, a timestamp (strictly increasing, from the
 *       injected wall clock, shared with LEAVE: {@link #nextTimestamp}), a random nonce and a MAC
 *       under the peer-server key; the first one, lacking cookie and MAC, is answered by a
 *       CHALLENGE naming the server key.
 *   <li>Server key trust: a CHALLENGE counts only if it echoes the nonce of a REGISTER in flight,
 *       and only with the pinned server key or (unpinned) the first one learnt, kept for the whole
 *       run (trust on first use); another key is refused, counted
 *       ({@link PeerDrop#SERVER_KEY_MISMATCH}) and said at WARNING at most once a minute.
 *   <li>REGISTERED and PEER_INFO count only with a valid MAC, for this session, answering a recent
 *       REGISTER and newer than the last taken ({@link RecentRegisters}): a replay changes nothing.
 *   <li>Timing: refreshed at the server's interval (at most every {@link PeerTimers#waitingRefresh}
 *       while the partner is absent); unanswered, retried with backoff from
 *       {@link PeerTimers#registerRetryInitial} doubling to 8 s while the server is the only way to
 *       the partner and to {@link PeerTimers#registerRetryMax} otherwise; logged at the first miss,
 *       then once a minute.
 * </ul>
 *
 * <p>Pure: no clock reads but the injected wall clock for timestamps; time is an argument
 * (monotonic nanoseconds, any origin, overflow-safe comparisons); what must go to the server is
 * sent through the given {@link Transmit}. Where a datagram comes from (the server's address, the
 * main socket) is the caller's to check.
 *
 * <p>Error contract: no method throws for any input; an answer that does not count is dropped and
 * counted in the machine's {@link DropCounters}.
 *
 * <p>Not thread-safe: owned by the control side of its {@link PeerMachine}, which the edge serialises.
 */
final class RegistrationClient {
    private static final Logger LOG = System.getLogger(LogNames.PATH);
    /**
     * The longest REGISTER backoff while the server is the only way to the partner (no path yet, or
     * the relay); on a direct path the backoff goes to the configured maximum.
     */
    static final long UNPAIRED_RETRY_MAX = 8_000_000_000L;
    /** While the server does not answer, a line at most this often after the first. */
    private static final long LOG_INTERVAL = OncePer.MINUTE;

    private final PeerConfig config;
    private final long session;
    private final NoisePublicKey self;
    private final SecureRandom random;
    private final Clock wall;
    private final DropCounters<PeerDrop> drops;
    private final long retryInitialNanos;
    private final long retryMaxNanos;
    private final long waitingRefreshNanos;

    private boolean awaitingRegistered;
    private boolean challengeAnswered;
    private long nextRegisterAt;
    private long retryNanos;
    private long refreshNanos;
    private int unansweredRegisters;
    private long unansweredSince;
    private long notAnsweringLoggedAt;
    private InetSocketAddress publicEndpoint;
    private NoisePublicKey serverKey;
    private byte[] serverMacKey;
    private byte[] cookie;
    private long lastTimestamp;
    /** Our recent REGISTERs, to match the server's answers to them (and refuse replays). */
    private final RecentRegisters registers = new RecentRegisters();
    /** Another server key is said to be refused at most once a minute. */
    private final OncePer keyRefusedLog = OncePer.minute();

    /**
     * @param config who we are, whom we want, the server and its pinned key (if any), the timers
     * @param session this run's session id
     * @param random where the REGISTER nonces come from
     * @param wall wall-clock time for timestamps
     * @param drops where refused answers are counted
     */
    RegistrationClient(PeerConfig config, long session, SecureRandom random, Clock wall, DropCounters<PeerDrop> drops) {
        this.config = config;
        this.session = session;
        this.self = config.key().publicKey();
        this.random = random;
        this.wall = wall;
        this.drops = drops;
        PeerTimers t = config.timers();
        this.retryInitialNanos = t.registerRetryInitial().toNanos();
        this.retryMaxNanos = t.registerRetryMax().toNanos();
        this.waitingRefreshNanos = t.waitingRefresh().toNanos();
        this.refreshNanos = t.refreshFallback().toNanos();
        this.retryNanos = retryInitialNanos;
        if (config.rendezvousKey() != null) {
            serverKey = config.rendezvousKey();
            serverMacKey = ControlKeys.peerServer(config.key(), serverKey);
        }
    }

    /** The next timestamp for a message of ours (microseconds of wall-clock time, strictly increasing). */
    long nextTimestamp() {
        Instant t = wall.instant();
        long micros = t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
        lastTimestamp = Math.max(micros, lastTimestamp + 1);
        return lastTimestamp;
    }

    /** Sends a REGISTER now; the next one follows after the current retry wait unless answered. */
    void register(long now, Transmit out) {
        byte[] nonce = new byte[Register.NONCE_LENGTH];
        random.nextBytes(nonce);
        long timestamp = nextTimestamp();
        Register register = new Register(self, config.peer(), session, timestamp, cookie, config.candidates(), nonce);
        registers.sent(timestamp, nonce);
        out.send(config.rendezvous(), register.encode(cookie == null ? null : serverMacKey));
        awaitingRegistered = true;
        challengeAnswered = false;
        nextRegisterAt = now + retryNanos;
    }

    /**
     * The timers: when a REGISTER is due (a refresh, or a retry of an unanswered one), sends it; an
     * unanswered one backs the retry off first.
     *
     * @param serverNeeded true while the server is our only way to the partner (no path, or the
     *     relay): the backoff then stops at 8 s
     */
    void tick(long now, boolean serverNeeded, Transmit out) {
        if (now - nextRegisterAt < 0) {
            return;
        }
        if (awaitingRegistered) {
            noteUnanswered(now, serverNeeded);
        }
        register(now, out);
    }

    /**
     * A REGISTER went unanswered: back off (doubling; to 8 s while the server is our only way to
     * the partner, to the configured maximum on a direct path) and say so: the first time at
     * WARNING, then one line a minute.
     */
    private void noteUnanswered(long now, boolean serverNeeded) {
        if (unansweredRegisters++ == 0) {
            unansweredSince = now;
        }
        long cap = serverNeeded ? Math.min(retryMaxNanos, UNPAIRED_RETRY_MAX) : retryMaxNanos;
        retryNanos = Math.min(retryNanos * 2, cap);
        if (unansweredRegisters == 1) {
            notAnsweringLoggedAt = now;
            LOG.log(Level.WARNING, "rendezvous {0} not answering; retrying in {1} s, backing off to {2} s{3}",
                    HostPort.format(config.rendezvous()), retryNanos / 1_000_000_000L, cap / 1_000_000_000L,
                    serverNeeded ? "" : " (the direct path does not need it)");
        } else if (now - notAnsweringLoggedAt >= LOG_INTERVAL) {
            notAnsweringLoggedAt = now;
            LOG.log(Level.WARNING, "rendezvous {0} still not answering: {1} REGISTERs unanswered in {2} s; "
                    + "retrying every {3} s", HostPort.format(config.rendezvous()), unansweredRegisters,
                    (now - unansweredSince) / 1_000_000_000L, retryNanos / 1_000_000_000L);
        } else {
            LOG.log(Level.DEBUG, "rendezvous {0} not answering ({1} unanswered); retrying in {2} s",
                    HostPort.format(config.rendezvous()), unansweredRegisters, retryNanos / 1_000_000_000L);
        }
    }

    /**
     * A CHALLENGE from the server: counts only if it echoes the nonce of a REGISTER of ours in
     * flight (so an off-path attacker cannot make one), and names the server key we pinned or,
     * unpinned, the first one we learnt (trust on first use: kept for the whole run, never
     * switched). Then answered at once with a REGISTER carrying the cookie and our MAC.
     */
    void onChallenge(long now, InetSocketAddress from, Challenge challenge, Transmit out) {
        if (!registers.inFlight(challenge.nonce())) {
            drops.count(PeerDrop.STALE_CHALLENGE);
            return;
        }
        if (serverKey != null && !challenge.server().equals(serverKey)) {
            refuseServerKey(now, from, challenge.server());
            return; // the nonce stays in flight: the real server's answer to the same REGISTER still counts
        }
        if (!awaitingRegistered || challengeAnswered) {
            drops.count(PeerDrop.UNSOLICITED_CHALLENGE);
            return;
        }
        if (serverKey == null) {
            try {
                serverMacKey = ControlKeys.peerServer(config.key(), challenge.server());
            } catch (IllegalArgumentException e) {
                drops.count(PeerDrop.BAD_MAC);
                return;
            }
            serverKey = challenge.server();
            LOG.log(Level.INFO, "rendezvous {0} has key {1}: trusting it for as long as this runs (trust on first "
                    + "use; --rendezvous-key pins it)", HostPort.format(from), serverKey);
        }
        registers.challenged(challenge.nonce());
        cookie = challenge.cookie();
        register(now, out);
        challengeAnswered = true;
    }

    /**
     * Another server key answered: counted, and said at WARNING (at most once a minute), never
     * taken. The client goes on with the key it has; the server that lost its key is fixed by
     * restoring it, or by restarting this client.
     */
    private void refuseServerKey(long now, InetSocketAddress from, NoisePublicKey offered) {
        drops.count(PeerDrop.SERVER_KEY_MISMATCH);
        if (!keyRefusedLog.due(now)) {
            return;
        }
        long refused = drops.get(PeerDrop.SERVER_KEY_MISMATCH);
        if (config.rendezvousKey() != null) {
            LOG.log(Level.WARNING, "REFUSED: rendezvous {0} presents key {1}, not the pinned {2} ({3} refused so "
                    + "far; said at most once a minute)", HostPort.format(from), offered, serverKey, refused);
        } else {
            LOG.log(Level.WARNING, "REFUSED: rendezvous {0} presents key {1}, but this client trusts {2}, the key it "
                    + "presented first: an impostor, or a server that lost its key; never switching ({3} refused so "
                    + "far; said at most once a minute). If the server really has a new key, restore its old key file "
                    + "or restart pinhole up (or pin the new key with --rendezvous-key)", HostPort.format(from),
                    offered, serverKey, refused);
        }
    }

    /**
     * A REGISTERED from the server: taken if its MAC is valid and it answers a recent REGISTER of
     * this session, newer than the last one taken; then the retry backoff ends and the next
     * refresh is scheduled.
     *
     * @param connected true when a path to the partner works (the refresh is then the server's
     *     interval; otherwise at most the waiting refresh)
     * @return true if it was taken
     */
    boolean onRegistered(long now, InetSocketAddress from, Registered registered, ByteBuffer datagram,
                         boolean connected) {
        if (!ControlMessage.macValid(datagram, serverMacKey)) {
            drops.count(PeerDrop.BAD_MAC);
            return false;
        }
        if (registered.session() != session || !registers.takeRegistered(registered.timestamp())) {
            drops.count(PeerDrop.STALE_REGISTERED);
            return false;
        }
        if (unansweredRegisters > 0) {
            LOG.log(Level.INFO, "rendezvous {0} answers again (after {1} unanswered REGISTERs in {2} s)",
                    HostPort.format(config.rendezvous()), unansweredRegisters, (now - unansweredSince) / 1_000_000_000L);
        }
        awaitingRegistered = false;
        unansweredRegisters = 0;
        retryNanos = retryInitialNanos;
        if (registered.refreshSeconds() > 0) {
            refreshNanos = registered.refreshSeconds() * 1_000_000_000L;
        }
        nextRegisterAt = now + (connected ? refreshNanos : Math.min(refreshNanos, waitingRefreshNanos));
        if (!registered.observed().equals(publicEndpoint)) {
            publicEndpoint = registered.observed();
            LOG.log(Level.INFO, "registered with rendezvous {0} (key {1}); it sees us at {2}",
                    HostPort.format(from), serverKey.shortId(), HostPort.format(publicEndpoint));
        }
        return true;
    }

    /**
     * A PEER_INFO from the server: true if its MAC is valid, it names our partner, and it answers a
     * recent REGISTER of this session, newer than the last one taken; else counted and false.
     */
    boolean acceptPeerInfo(PeerInfo info, ByteBuffer datagram) {
        if (!ControlMessage.macValid(datagram, serverMacKey)) {
            drops.count(PeerDrop.BAD_MAC);
            return false;
        }
        if (!info.peer().equals(config.peer())) {
            drops.count(PeerDrop.WRONG_KEY);
            return false;
        }
        if (info.session() != session || !registers.takePeerInfo(info.timestamp(), info.peerTimestamp())) {
            drops.count(PeerDrop.STALE_PEER_INFO); // recorded and replayed, or older than one taken: changes nothing
            return false;
        }
        return true;
    }

    /**
     * A PEER_INFO was taken before any REGISTERED: it proves the registration arrived, so the
     * retries stop and the next REGISTER is the refresh.
     */
    void registeredByPeerInfo(long now) {
        awaitingRegistered = false;
        retryNanos = retryInitialNanos;
        nextRegisterAt = now + refreshNanos;
    }

    /** True while a REGISTER of ours waits for its answer. */
    boolean awaitingAnswer() {
        return awaitingRegistered;
    }

    /** The next unanswered REGISTER waits the initial retry time again (the path, not the server, failed). */
    void resetBackoff() {
        retryNanos = retryInitialNanos;
    }

    /** The LEAVE for the server, sealed with the peer-server key; null while no server key is known. */
    ByteBuffer leaveForServer(Leave leave) {
        return serverMacKey == null ? null : leave.encode(serverMacKey);
    }

    /** Our public endpoint as the server last saw it, or null. */
    InetSocketAddress publicEndpoint() {
        return publicEndpoint;
    }

    /** The server key trusted (pinned, or learnt first), or null before one is known. */
    NoisePublicKey serverKey() {
        return serverKey;
    }

    /** How long an unanswered REGISTER waits before the next one, now. */
    long retryNanos() {
        return retryNanos;
    }
}
