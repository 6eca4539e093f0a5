package io.pinhole.wireguard;

import io.pinhole.config.HostPort;
import io.pinhole.config.LogNames;
import io.pinhole.crypto.AuthenticationFailedException;
import io.pinhole.crypto.ChaCha20Poly1305;
import io.pinhole.crypto.Tai64n;
import io.pinhole.ratelimiter.HandshakeRateLimiter;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.EnumMap;
import java.util.Map;

/**
 * WireGuardSession: the WireGuard protocol with one peer (whitepaper sections 5 and 6): the
 * handshake, transport keypairs (previous, current, next), encryption of IP packets into
 * transport messages and back, replay protection, cookies under load, and the timers:
 * <ul>
 *   <li>an unanswered initiation is retried after REKEY_TIMEOUT plus up to 333 ms of jitter,
 *       for at most REKEY_ATTEMPT_TIME, after which staged packets are dropped;
 *   <li>the initiator of the current keypair rekeys when sending after REKEY_AFTER_TIME or
 *       REKEY_AFTER_MESSAGES, and when receiving after REJECT_AFTER_TIME - 15 s;
 *   <li>a keypair is never used after REJECT_AFTER_TIME or REJECT_AFTER_MESSAGES;
 *   <li>data sent without anything received for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT starts a
 *       new handshake;
 *   <li>all keys are wiped after 3 x REJECT_AFTER_TIME without a new handshake.
 * </ul>
 * Passive keepalives are left to the caller (pinhole sends one after 5 s idle, see
 * {@link #sendKeepalive}). When a new path comes up ({@link #pathUp}), only the side whose
 * public key sorts first initiates at once, so two peers do not cross initiations.
 *
 * <p>Time: monotonic nanoseconds passed to every call; wall-clock time for the TAI64N timestamp
 * comes from the injected {@link Clock}.
 *
 * <p>Error contract: no datagram makes a method throw; whatever cannot be used is dropped and
 * counted in {@link #drops()}.
 *
 * <p>Secrets: a keypair's transport keys are zeroed when it is dropped: replaced, ended by a
 * responder's new handshake, at the first {@link #tick} after it expires (REJECT_AFTER_TIME; it
 * keeps its slot, so late packets for it still count as {@link SessionDrop#EXPIRED_KEYPAIR}), after
 * 3 x REJECT_AFTER_TIME without a handshake, when the peer restarted, and at {@link #close()}. A
 * dropped keypair is never used again: sealing or opening with it is refused (see
 * {@link Keypair#wipe()}). {@link Handshake} zeroes its own intermediates and ephemeral keys.
 * {@link #close()} zeroes everything else the session holds. The static private key is the
 * caller's (see {@link Identity}).
 *
 * <p>Thread-safety: the methods of this class are the control side and are not thread-safe: the
 * caller serialises them. The {@link #dataPath()} may be used at the same time from data threads
 * (one sealing, one opening) without that serialisation: it reads the keypair slots, which are
 * volatile and written here only, and the keypairs guard their keys against a concurrent wipe
 * (see {@link Keypair}).
 */
public final class WireGuardSession {
    private static final Logger LOG = System.getLogger(LogNames.WIREGUARD);
    private static final byte[] NO_AAD = new byte[0];
    private static final long TIMESTAMP_WHITENER = (1L << 24) - 1;

    private final Identity id;
    private final SecureRandom random;
    private final Clock wall;
    private final SessionTimers timers;
    private final Handshake handshake;
    private final CookieJar cookieJar;
    private final CookieChecker cookieChecker;
    private final HandshakeRateLimiter rateLimiter;
    private final ChaCha20Poly1305 sealer = new ChaCha20Poly1305();
    private final ChaCha20Poly1305 opener = new ChaCha20Poly1305();
    private final String peerId;

    // Written by the control side only; read by data threads too (SessionDataPath).
    volatile Keypair previous;
    volatile Keypair current;
    volatile Keypair next;
    private final ArrayDeque<byte[]> staged = new ArrayDeque<>();

    private boolean handshakeInProgress;
    private long handshakeStartedAt;
    /** The last initiation sent, as sent (resent on a new path while it is in flight). */
    private byte[] lastInitiation;
    private long lastInitiationSentAt;
    /** When we last sent a handshake response; like an initiation, it holds off our own for REKEY_TIMEOUT. */
    private long lastResponseSentAt;
    private boolean respondedAny;
    private long retryJitter;
    private boolean awaitingPeerInitiation;
    private long awaitPeerInitiationUntil;
    private long lastHandshakeCompletedAt;
    private long loadWindowStart;
    private int loadWindowCount;

    private final EnumMap<SessionDrop, Long> drops = new EnumMap<>(SessionDrop.class);
    private long handshakesCompleted;
    volatile boolean closed;
    /** The data threads' way in: sealing and opening without the caller's lock. */
    private final SessionDataPath dataPath;
    /** Where local indices come from when several sessions share a socket; null: our own random ones. */
    private IndexAllocator indices;

    public WireGuardSession(Identity id, SecureRandom random, Clock wall, SessionTimers timers) {
        this.id = id;
        this.random = random;
        this.wall = wall;
        this.timers = timers;
        this.handshake = new Handshake(id, random);
        this.cookieJar = new CookieJar(id);
        this.cookieChecker = new CookieChecker(id, random);
        this.rateLimiter = new HandshakeRateLimiter(timers.rateLimitedAddresses());
        this.peerId = id.remotePublic().shortId();
        this.dataPath = new SessionDataPath(this, timers.mtu());
    }

    /**
     * The data path of this session: sealing IP packets and opening transport messages from data
     * threads, concurrently with the control calls of this class (see {@link SessionDataPath}).
     */
    public SessionDataPath dataPath() {
        return dataPath;
    }

    /**
     * As {@link #WireGuardSession(Identity, SecureRandom, Clock, SessionTimers)}, with local
     * indices from {@code indices} (shared by the sessions of one device, so that a receiver index
     * names one session among them).
     */
    public WireGuardSession(Identity id, SecureRandom random, Clock wall, SessionTimers timers, IndexAllocator indices) {
        this(id, random, wall, timers);
        this.indices = indices;
    }

    // ------------------------------------------------------------------ sending

    /** Encrypts {@code ipPacket} to the peer, or stages it and starts a handshake. */
    public void send(long now, ByteBuffer ipPacket, SessionOutput out) {
        if (closed) {
            count(SessionDrop.CLOSED);
            return;
        }
        if (usable(current, now)) {
            Keypair kp = current;
            encryptAndSend(now, kp, ipPacket, out);
            if (rekeyDueOnSend(kp, now)) {
                initiate(now, out, false);
            }
            return;
        }
        if (staged.size() >= timers.stagedLimit()) {
            staged.pollFirst();
            count(SessionDrop.STAGED_OVERFLOW);
        }
        byte[] copy = new byte[ipPacket.remaining()];
        ipPacket.duplicate().get(copy);
        staged.addLast(copy);
        if (!awaitingPeerInitiation || now - awaitPeerInitiationUntil >= 0) {
            initiate(now, out, false);
        }
    }

    /** Sends a keepalive (an empty transport message) if a keypair is usable; returns whether it did. */
    public boolean sendKeepalive(long now, SessionOutput out) {
        if (!usable(current, now)) {
            return false;
        }
        encryptAndSend(now, current, ByteBuffer.allocate(0), out);
        return true;
    }

    static boolean usable(Keypair kp, long now) {
        return kp != null && !kp.wiped() && !kp.expired(now)
                && Long.compareUnsigned(kp.sendCounter(), Protocol.REJECT_AFTER_MESSAGES) < 0;
    }

    /** True when the initiator of {@code kp} should rekey because it sends with it. */
    static boolean rekeyDueOnSend(Keypair kp, long now) {
        return (kp.initiator && now - kp.createdAt >= Protocol.REKEY_AFTER_TIME.toNanos())
                || Long.compareUnsigned(kp.sendCounter(), Protocol.REKEY_AFTER_MESSAGES) >= 0;
    }

    /** True when the initiator of the current keypair {@code kp} should rekey because it receives with it. */
    static boolean rekeyDueOnReceive(Keypair kp, long now) {
        return kp.initiator && now - kp.createdAt
                >= Protocol.REJECT_AFTER_TIME.minus(Protocol.KEEPALIVE_TIMEOUT).minus(Protocol.REKEY_TIMEOUT).toNanos();
    }

    private void encryptAndSend(long now, Keypair kp, ByteBuffer packet, SessionOutput out) {
        int length = packet.remaining();
        int padded = paddedLength(length, timers.mtu());
        byte[] msg = new byte[Messages.TRANSPORT_HEADER_LENGTH + padded + ChaCha20Poly1305.TAG_LENGTH];
        msg[0] = Messages.TYPE_TRANSPORT;
        Messages.writeIntLe(msg, Messages.TRANSPORT_RECEIVER, kp.remoteIndex);
        long counter = kp.nextCounter();
        Messages.writeLongLe(msg, Messages.TRANSPORT_COUNTER, counter);
        packet.duplicate().get(msg, Messages.TRANSPORT_HEADER_LENGTH, length);
        try {
            kp.seal(sealer, counter, msg, Messages.TRANSPORT_HEADER_LENGTH, padded, NO_AAD);
        } catch (KeypairWipedException e) {
            count(SessionDrop.CLOSED); // only a close() on another thread wipes keys under a control call
            return;
        }
        out.sendToPeer(ByteBuffer.wrap(msg));
        if (length > 0) {
            dataPath.markSent(now);
        }
    }

    /** The padded length of an IP packet of {@code length} bytes (WireGuard pads to 16, not past the MTU). */
    static int paddedLength(int length, int mtu) {
        return length == 0 ? 0 : Math.min(roundUp16(length), Math.max(length, mtu));
    }

    private static int roundUp16(int n) {
        return (n + 15) & ~15;
    }

    // ------------------------------------------------------------------ handshake initiation

    /**
     * A new path to the peer exists. If no keypair is usable, the side whose key sorts first
     * initiates now; the other waits {@code waitNanos} for that initiation before it starts its
     * own (so two pinhole peers do not cross initiations, and a peer that never initiates, such
     * as a WireGuard server without our endpoint, is still reached). The second side waits
     * REKEY_TIMEOUT.
     */
    public void pathUp(long now, SessionOutput out) {
        pathUp(now, Protocol.REKEY_TIMEOUT.toNanos(), out);
    }

    /** As {@link #pathUp(long, SessionOutput)}, with the second side waiting {@code waitNanos}. */
    public void pathUp(long now, long waitNanos, SessionOutput out) {
        if (usable(current, now)) {
            return;
        }
        if (id.initiatesOnNewPath()) {
            initiate(now, out, false); // not if one went out within REKEY_TIMEOUT
        } else {
            awaitingPeerInitiation = true;
            awaitPeerInitiationUntil = now + waitNanos;
        }
    }

    /** True for the side that initiates on a new path (its public key sorts first). */
    public boolean initiatesFirst() {
        return id.initiatesOnNewPath();
    }

    /**
     * The path moved (from the relay to a direct address, say) before a keypair was usable: the
     * side whose key sorts first sends its initiation on the new path at once. If one is in
     * flight (sent within REKEY_TIMEOUT), the same bytes go again: a new initiation made within
     * the same whitened timestamp tick would be dropped by the responder as a replay whenever the
     * old one reached it first, and the answer to the old one would no longer match (both
     * handshakes lost until the retry 5 s later). The other side keeps waiting for it.
     */
    public void pathMoved(long now, SessionOutput out) {
        if (usable(current, now) || !id.initiatesOnNewPath()) {
            return;
        }
        if (handshakeInProgress && lastInitiation != null
                && now - lastInitiationSentAt < Protocol.REKEY_TIMEOUT.toNanos()) {
            LOG.log(Level.DEBUG, "sending the handshake initiation to peer {0} again, on the new path", peerId);
            out.sendToPeer(ByteBuffer.wrap(lastInitiation.clone()));
        } else {
            initiate(now, out, true);
        }
    }

    /**
     * Starts a handshake now unless one was sent within REKEY_TIMEOUT (or {@code force}); never
     * after {@link #close()}.
     */
    public void initiate(long now, SessionOutput out, boolean force) {
        if (closed) {
            return;
        }
        if (!force && handshakeInProgress && now - lastInitiationSentAt < Protocol.REKEY_TIMEOUT.toNanos()) {
            return;
        }
        if (!force && respondedAny && now - lastResponseSentAt < Protocol.REKEY_TIMEOUT.toNanos()) {
            return; // we just answered the peer's handshake: its confirmation is on the way (WireGuard's rule)
        }
        if (!handshakeInProgress) {
            handshakeInProgress = true;
            handshakeStartedAt = now;
        }
        sendInitiation(now, out);
    }

    private void sendInitiation(long now, SessionOutput out) {
        byte[] msg = handshake.createInitiation(timestamp(), newIndex());
        cookieJar.addMacs(msg, Messages.INITIATION_MAC1, now);
        lastInitiation = msg.clone();
        lastInitiationSentAt = now;
        retryJitter = (long) (random.nextDouble() * Protocol.REKEY_TIMEOUT_JITTER_MAX.toNanos());
        LOG.log(Level.DEBUG, "sending handshake initiation to peer {0}", peerId);
        out.sendToPeer(ByteBuffer.wrap(msg));
    }

    /** TAI64N of the wall clock, rounded down as WireGuard does so it leaks no fine timing. */
    private Tai64n timestamp() {
        Instant t = wall.instant();
        return Tai64n.of(Instant.ofEpochSecond(t.getEpochSecond(), t.getNano() & ~TIMESTAMP_WHITENER));
    }

    private int newIndex() {
        if (indices != null) {
            return indices.allocate();
        }
        for (;;) {
            int index = random.nextInt();
            if (index != 0 && !inUse(index)) {
                return index;
            }
        }
    }

    private boolean inUse(int index) {
        return (current != null && current.localIndex == index) || (previous != null && previous.localIndex == index)
                || (next != null && next.localIndex == index)
                || (handshake.state() != Handshake.State.ZEROED && handshake.localIndex() == index);
    }

    // ------------------------------------------------------------------ receiving

    /**
     * Handles a WireGuard datagram (types 1-4) from {@code from}.
     *
     * @return true if it authenticated as coming from the peer
     */
    public boolean receive(long now, InetSocketAddress from, ByteBuffer datagram, SessionOutput out) {
        if (closed) {
            count(SessionDrop.CLOSED);
            return false;
        }
        int type = Messages.typeOf(datagram);
        switch (type) {
            case Messages.TYPE_INITIATION -> {
                return onInitiation(now, from, bytes(datagram), out);
            }
            case Messages.TYPE_RESPONSE -> {
                return onResponse(now, from, bytes(datagram), out);
            }
            case Messages.TYPE_COOKIE_REPLY -> {
                onCookieReply(now, bytes(datagram));
                return false;
            }
            case Messages.TYPE_TRANSPORT -> {
                return onTransport(now, from, datagram, out);
            }
            default -> {
                count(SessionDrop.MALFORMED);
                return false;
            }
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    /** mac1, then (under load) mac2 or a cookie reply, then the per-address rate. */
    private boolean admitHandshake(long now, InetSocketAddress from, byte[] msg, int mac1Offset, int senderIndex,
                                   SessionOutput out) {
        if (!cookieChecker.mac1Valid(msg, mac1Offset)) {
            count(SessionDrop.BAD_MAC1);
            return false;
        }
        if (loadWindowCount == 0 || now - loadWindowStart >= 1_000_000_000L) { // (the first one starts a window)
            loadWindowStart = now;
            loadWindowCount = 0;
        }
        loadWindowCount++;
        if (loadWindowCount <= timers.underLoadPerSecond()) {
            return true;
        }
        byte[] source = sourceBytes(from);
        if (!cookieChecker.mac2Valid(msg, mac1Offset, source, now)) {
            count(SessionDrop.COOKIE_DEMANDED);
            out.send(from, ByteBuffer.wrap(cookieChecker.reply(msg, mac1Offset, senderIndex, source, now)));
            return false;
        }
        if (!rateLimiter.allow(from.getAddress().getAddress(), now)) {
            count(SessionDrop.RATE_LIMITED);
            return false;
        }
        return true;
    }

    static byte[] sourceBytes(InetSocketAddress from) {
        byte[] ip = from.getAddress().getAddress();
        byte[] out = new byte[ip.length + 2];
        System.arraycopy(ip, 0, out, 0, ip.length);
        out[ip.length] = (byte) (from.getPort() >>> 8);
        out[ip.length + 1] = (byte) from.getPort();
        return out;
    }

    private boolean onInitiation(long now, InetSocketAddress from, byte[] msg, SessionOutput out) {
        int senderIndex = Messages.readIntLe(msg, Messages.INITIATION_SENDER);
        if (!admitHandshake(now, from, msg, Messages.INITIATION_MAC1, senderIndex, out)) {
            return false;
        }
        Handshake.Initiation initiation = Handshake.decryptInitiation(id.localPrivate, id.localPublicBytes, msg);
        if (initiation == null) {
            count(SessionDrop.HANDSHAKE_FAILED);
            return false;
        }
        return acceptInitiation(now, from, initiation, out);
    }

    /**
     * Handles a handshake initiation that a device's {@link InitiationGate} already admitted and
     * decrypted (so it is not checked or decrypted again): if it is from our peer and newer than
     * the last one (not a replay), answers it as {@link #receive} does. Takes the initiation's
     * secrets, or zeroes them; one already taken or wiped is refused.
     *
     * @return true if it authenticated as coming from the peer
     */
    public boolean receiveInitiation(long now, InetSocketAddress from, DecryptedInitiation decrypted, SessionOutput out) {
        if (!decrypted.take()) {
            count(SessionDrop.HANDSHAKE_REPLAYED);
            return false;
        }
        if (closed) {
            decrypted.initiation.wipe();
            count(SessionDrop.CLOSED);
            return false;
        }
        return acceptInitiation(now, from, decrypted.initiation, out);
    }

    /** A decrypted initiation: accepted if from our peer and not a replay, and answered. */
    private boolean acceptInitiation(long now, InetSocketAddress from, Handshake.Initiation initiation,
                                     SessionOutput out) {
        if (!initiation.remoteStatic().equals(id.remotePublic)) {
            initiation.wipe();
            count(SessionDrop.UNKNOWN_PEER);
            return false;
        }
        if (!handshake.acceptInitiation(initiation, now)) {
            count(SessionDrop.HANDSHAKE_REPLAYED);
            return false;
        }
        out.authenticated(from);
        dataPath.markAnswered(); // any authenticated packet answers the 15 s rule, as in WireGuard
        byte[] response = handshake.createResponse(newIndex());
        cookieJar.addMacs(response, Messages.RESPONSE_MAC1, now);
        Keypair kp = handshake.deriveKeypair(now);
        if (next != null) {
            next.wipe();
        }
        next = kp;
        if (previous != null) {
            // As wireguard-go does: a responder's new handshake ends the keypair before the current
            // one at once (the current one keeps decrypting what is in flight until the new one is
            // confirmed, and then becomes the previous one).
            previous.wipe();
            previous = null;
        }
        // Our own initiation (if any) was just replaced, so its response will fail; keep the
        // retry timer running until this keypair is confirmed, as WireGuard does, or crossing
        // initiations leave both sides waiting for each other forever.
        awaitingPeerInitiation = false;
        lastHandshakeCompletedAt = now;
        handshakesCompleted++;
        LOG.log(Level.DEBUG, "answered handshake initiation from peer {0} at {1}", peerId,
                HostPort.format(from));
        lastResponseSentAt = now;
        respondedAny = true;
        out.sendToPeer(ByteBuffer.wrap(response));
        return true;
    }

    private boolean onResponse(long now, InetSocketAddress from, byte[] msg, SessionOutput out) {
        int senderIndex = Messages.readIntLe(msg, Messages.RESPONSE_SENDER);
        if (!admitHandshake(now, from, msg, Messages.RESPONSE_MAC1, senderIndex, out)) {
            return false;
        }
        if (!handshake.consumeResponse(msg)) {
            count(SessionDrop.HANDSHAKE_FAILED);
            return false;
        }
        out.authenticated(from);
        dataPath.markAnswered();
        Keypair kp = handshake.deriveKeypair(now);
        if (next != null) {
            if (previous != null) {
                previous.wipe();
            }
            if (current != null) {
                current.wipe(); // dropped, as in WireGuard: previous becomes the unconfirmed next
            }
            previous = next;
            next = null;
        } else {
            if (previous != null) {
                previous.wipe();
            }
            previous = current;
        }
        current = kp;
        handshakeInProgress = false;
        awaitingPeerInitiation = false;
        lastHandshakeCompletedAt = now;
        handshakesCompleted++;
        LOG.log(Level.DEBUG, "handshake with peer {0} complete (initiator)", peerId);
        if (staged.isEmpty()) {
            encryptAndSend(now, current, ByteBuffer.allocate(0), out); // confirms the keypair to the responder
        } else {
            flushStaged(now, out);
        }
        return true;
    }

    private void onCookieReply(long now, byte[] msg) {
        int receiver = Messages.readIntLe(msg, Messages.COOKIE_RECEIVER);
        boolean answersOurInitiation = handshake.state() == Handshake.State.INITIATION_CREATED
                && receiver == handshake.localIndex();
        boolean answersOurResponse = next != null && receiver == next.localIndex; // as WireGuard does
        if (!(answersOurInitiation || answersOurResponse) || !cookieJar.consumeReply(msg, now)) {
            count(SessionDrop.BAD_COOKIE_REPLY);
            return;
        }
        LOG.log(Level.DEBUG, "peer {0} is under load: got a cookie; the next initiation carries mac2", peerId);
    }

    private boolean onTransport(long now, InetSocketAddress from, ByteBuffer datagram, SessionOutput out) {
        int p = datagram.position();
        int receiver = datagram.get(p + 4) & 0xff | (datagram.get(p + 5) & 0xff) << 8
                | (datagram.get(p + 6) & 0xff) << 16 | (datagram.get(p + 7) & 0xff) << 24;
        Keypair kp = byIndex(receiver);
        if (kp == null) {
            count(SessionDrop.UNKNOWN_INDEX);
            return false;
        }
        if (kp.expired(now) || kp.wiped()) { // (only an expired keypair is wiped and still in a slot)
            count(SessionDrop.EXPIRED_KEYPAIR);
            return false;
        }
        long counter = 0;
        for (int i = 7; i >= 0; i--) {
            counter = counter << 8 | (datagram.get(p + 8 + i) & 0xff);
        }
        int sealedLength = datagram.remaining() - Messages.TRANSPORT_HEADER_LENGTH;
        byte[] plain = new byte[sealedLength - ChaCha20Poly1305.TAG_LENGTH];
        byte[] sealed = new byte[sealedLength];
        datagram.duplicate().position(p + Messages.TRANSPORT_HEADER_LENGTH).get(sealed);
        try {
            kp.open(opener, counter, sealed, 0, sealedLength, NO_AAD, plain);
        } catch (AuthenticationFailedException e) {
            count(SessionDrop.DECRYPT_FAILED);
            return false;
        }
        if (!kp.acceptCounter(counter, Protocol.REJECT_AFTER_MESSAGES)) {
            count(SessionDrop.REPLAYED);
            return false;
        }
        out.authenticated(from);
        dataPath.markAnswered();
        if (kp == next) {
            if (previous != null) {
                previous.wipe();
            }
            previous = current;
            current = next;
            next = null;
            handshakeInProgress = false; // handshake complete (responder side)
            LOG.log(Level.DEBUG, "peer {0} confirmed the new keypair", peerId);
            flushStaged(now, out);
        }
        if (kp == current && rekeyDueOnReceive(kp, now)) {
            initiate(now, out, false);
        }
        if (plain.length == 0) {
            return true; // keepalive
        }
        int length = innerLength(plain, 0, plain.length);
        if (length < 0) {
            count(SessionDrop.BAD_INNER_PACKET);
            out.notIp();
            return true;
        }
        out.deliver(ByteBuffer.wrap(plain, 0, length));
        return true;
    }

    /** Length of the IP packet at the start of {@code plain}, or -1 if it is not one. */
    static int innerLength(byte[] plain, int at, int plainLength) {
        int version = (plain[at] & 0xff) >>> 4;
        int length;
        if (version == 4 && plainLength >= 20) {
            length = (plain[at + 2] & 0xff) << 8 | (plain[at + 3] & 0xff);
            if (length < 20) {
                return -1;
            }
        } else if (version == 6 && plainLength >= 40) {
            length = 40 + ((plain[at + 4] & 0xff) << 8 | (plain[at + 5] & 0xff));
        } else {
            return -1;
        }
        return length <= plainLength ? length : -1;
    }

    Keypair byIndex(int index) {
        if (current != null && current.localIndex == index) {
            return current;
        }
        if (next != null && next.localIndex == index) {
            return next;
        }
        if (previous != null && previous.localIndex == index) {
            return previous;
        }
        return null;
    }

    private void flushStaged(long now, SessionOutput out) {
        while (!staged.isEmpty() && usable(current, now)) {
            encryptAndSend(now, current, ByteBuffer.wrap(staged.pollFirst()), out);
        }
    }

    // ------------------------------------------------------------------ timers

    /**
     * Runs the timers; call every 50-100 ms. Zeroes the keys of expired keypairs; does nothing
     * after {@link #close()}.
     */
    public void tick(long now, SessionOutput out) {
        if (closed) {
            return;
        }
        wipeExpired(now);
        if (dataPath.takeRekeyWanted() && usable(current, now)) {
            initiate(now, out, false); // the data path saw a rekey due while sealing or opening
        }
        if (handshakeInProgress && now - lastInitiationSentAt >= Protocol.REKEY_TIMEOUT.toNanos() + retryJitter) {
            if (now - handshakeStartedAt >= Protocol.REKEY_ATTEMPT_TIME.toNanos()) {
                LOG.log(Level.WARNING, "no handshake with peer {0} after {1} s; giving up this attempt{2}", peerId,
                        Protocol.REKEY_ATTEMPT_TIME.toSeconds(),
                        staged.isEmpty() ? "" : " and dropping " + staged.size() + " waiting packets");
                drops.merge(SessionDrop.HANDSHAKE_GAVE_UP, (long) staged.size(), Long::sum);
                staged.clear();
                handshakeInProgress = false;
                handshake.clear();
            } else {
                sendInitiation(now, out);
            }
        }
        if (awaitingPeerInitiation && now - awaitPeerInitiationUntil >= 0) {
            awaitingPeerInitiation = false;
            if (!usable(current, now)) {
                initiate(now, out, false);
            }
        }
        if (dataPath.unansweredFor(now) >= Protocol.KEEPALIVE_TIMEOUT.plus(Protocol.REKEY_TIMEOUT).toNanos()) {
            dataPath.markAnswered();
            initiate(now, out, false);
        }
        if ((current != null || previous != null || next != null)
                && now - lastHandshakeCompletedAt >= 3 * Protocol.REJECT_AFTER_TIME.toNanos()) {
            LOG.log(Level.INFO, "no new handshake with peer {0} for {1} s: keys wiped", peerId,
                    3 * Protocol.REJECT_AFTER_TIME.toSeconds());
            wipeAll();
        }
    }

    /**
     * The peer restarted (a new pinhole session): its keypairs are gone, so ours are useless.
     * Wipes them and any handshake in progress; packets already staged stay staged.
     */
    public void peerRestarted() {
        wipeAll();
        handshakeInProgress = false;
        awaitingPeerInitiation = false;
        dataPath.markAnswered();
    }

    /**
     * Ends the session for good and zeroes every secret it holds: all keypairs, the handshake in
     * progress (its ephemeral key included), the cookie and cookie secret, the identity's
     * static-static DH and pre-shared key copy, and the JDK Ciphers' copies of the last transport
     * keys. Staged packets are dropped. Afterwards {@link #send} and {@link #receive} only count a
     * {@link SessionDrop#CLOSED} drop, {@link #canSend} is false and nothing initiates a handshake.
     * Idempotent. The static private key is not destroyed: the caller owns it (see {@link Identity}).
     */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        wipeAll();
        staged.clear();
        lastInitiation = null;
        handshakeInProgress = false;
        awaitingPeerInitiation = false;
        dataPath.markAnswered();
        cookieJar.wipe();
        cookieChecker.wipe();
        sealer.clearKey();
        opener.clearKey();
        id.wipeSecrets();
    }

    /** True once {@link #close()} ran. */
    public boolean closed() {
        return closed;
    }

    /** Zeroes the keys of every keypair past REJECT_AFTER_TIME; it keeps its slot until replaced. */
    private void wipeExpired(long now) {
        wipeIfExpired(previous, now);
        wipeIfExpired(current, now);
        wipeIfExpired(next, now);
    }

    private static void wipeIfExpired(Keypair kp, long now) {
        if (kp != null && !kp.wiped() && kp.expired(now)) {
            kp.wipe();
        }
    }

    private void wipeAll() {
        for (Keypair kp : new Keypair[] {previous, current, next}) {
            if (kp != null) {
                kp.wipe();
            }
        }
        previous = null;
        current = null;
        next = null;
        handshake.clear();
    }

    // ------------------------------------------------------------------ observation

    /**
     * True if {@code index} is one of our local indices now (a keypair's, or the handshake in
     * progress's): a response, cookie reply or transport message with it as receiver is ours.
     */
    public boolean ownsIndex(int index) {
        return inUse(index);
    }

    /** True when IP packets can be sent now without a handshake. */
    public boolean canSend(long now) {
        return usable(current, now);
    }

    /** Test hook: the keypair used for sending, or null (tests set its counter near the message limits). */
    Keypair currentKeypair() {
        return current;
    }

    /** Test hook: the keypair before the current one, or null. */
    Keypair previousKeypair() {
        return previous;
    }

    /** Test hook: the handshake state machine. */
    Handshake handshake() {
        return handshake;
    }

    /** Completed handshakes, both roles. */
    public long handshakesCompleted() {
        return handshakesCompleted;
    }

    /** Packets waiting for a keypair. */
    public int stagedPackets() {
        return staged.size();
    }

    /** A snapshot of the drop counters. */
    public Map<SessionDrop, Long> drops() {
        EnumMap<SessionDrop, Long> all = new EnumMap<>(drops);
        long badInner = dataPath.badInnerPackets();
        if (badInner > 0) {
            all.merge(SessionDrop.BAD_INNER_PACKET, badInner, Long::sum);
        }
        return all;
    }

    private void count(SessionDrop drop) {
        drops.merge(drop, 1L, Long::sum);
    }
}
