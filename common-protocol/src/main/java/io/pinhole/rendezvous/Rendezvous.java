package io.pinhole.rendezvous;

import io.pinhole.config.HostPort;
import io.pinhole.config.LogNames;
import io.pinhole.crypto.Blake2s;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.ratelimiter.ByteBucket;
import io.pinhole.ratelimiter.HandshakeRateLimiter;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.Header;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.Relay;
import io.pinhole.wire.Transmit;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rendezvous: the rendezvous server's protocol logic, with no socket and no clock of its own.
 *
 * <p>Peers register under their public key, naming the key of the partner they want. When both
 * keys of a pair are registered and want each other, each is sent a PEER_INFO with the other's
 * observed endpoint and LAN candidates; again after every registration (an unchanged PEER_INFO
 * at most once per {@link RendezvousConfig#peerInfoMinInterval()}). Pairing is by keys only,
 * never by ports.
 *
 * <p>Bounds: at most {@link RendezvousConfig#maxRegistrations()} registrations (new keys beyond
 * that are dropped, counted, and logged once a minute); each lives
 * {@link RendezvousConfig#registrationTtl()} after its last refresh and is removed by
 * {@link #expire(long)}. Replies are REGISTERED and PEER_INFO only, both smaller than the
 * fixed-size REGISTER that triggers them, so the server never amplifies.
 *
 * <p>Relay: a RELAY frame ({@link Relay}) from the observed endpoint of a live registration whose
 * partner is registered and wants it back (the pairing rule of PEER_INFO) is forwarded, the
 * identical bytes, to the partner's observed endpoint. The server checks only the frame's form,
 * never reads its payload, and sends exactly as many bytes as it received. Each registration has
 * a byte budget ({@link RendezvousConfig#relayBytesPerSecond()}, bursts of
 * {@link RendezvousConfig#relayBurstBytes()}, at least {@link RendezvousConfig#RELAY_MIN_COST}
 * bytes a frame); a rate of 0 turns the relay off. When two registrations claim one endpoint, the
 * latest REGISTER owns it (the other relays again once it refreshes). The start of relaying for a
 * pair is logged (again after a minute without relaying, or toward a new endpoint), never each
 * frame.
 *
 * <p>Authentication: a REGISTER must carry a cookie that the server gave its source address in a
 * CHALLENGE (with the server's public key), a timestamp newer than the last one accepted for
 * its key, and a MAC under the key derived from DH(peer, server) ({@link ControlKeys}); so
 * nobody without a peer's private key can register as that peer, and nobody can replay a
 * registration from another address. REGISTERED and PEER_INFO carry the recipient's MAC, so a
 * peer can tell them from forgeries, and the session and timestamp of the recipient's REGISTER
 * they answer (PEER_INFO: the recipient's latest, and the partner's own timestamp), so it can
 * tell them from replays. A REGISTER without a valid cookie or MAC is answered by a 68-byte
 * CHALLENGE that echoes the REGISTER's nonce; the Diffie-Hellman a new key needs is rate-limited
 * per source address.
 * The cookie secret changes every two minutes (a cookie lives two to four minutes).
 *
 * <p>Error contract: {@link #onDatagram} never throws for any input datagram; a datagram it
 * cannot use is dropped and counted in {@link #drops()}.
 *
 * <p>Not thread-safe: confine an instance to one thread (the server's event loop).
 */
public final class Rendezvous {
    private static final Logger LOG = System.getLogger(LogNames.RENDEZVOUS);
    private static final long TABLE_FULL_LOG_INTERVAL = 60_000_000_000L;
    private static final long COOKIE_SECRET_LIFETIME = 120_000_000_000L;
    private static final long DEPARTED_MEMORY = 300_000_000_000L;
    /** Relaying for a pair is logged again after this long without relaying for it. */
    private static final long RELAY_LOG_IDLE = 60_000_000_000L;

    private record Departed(long timestamp, long at) {
    }

    /** Keys that left or expired recently, oldest first, with their last accepted timestamp. */
    private final LinkedHashMap<NoisePublicKey, Departed> departed = new LinkedHashMap<>();

    private final RendezvousConfig config;
    private final long ttlNanos;
    private final long peerInfoMinNanos;
    /** Insertion order is refresh order: a refresh re-inserts, so the head expires first. */
    private final LinkedHashMap<NoisePublicKey, Registration> table = new LinkedHashMap<>();
    /** The registration each observed endpoint belongs to (the latest REGISTER from it); RELAY's sender. */
    private final HashMap<InetSocketAddress, Registration> byEndpoint = new HashMap<>();
    private final EnumMap<ServerDrop, Long> drops = new EnumMap<>(ServerDrop.class);
    private long pairings;
    private long challenges;
    private long relayedPackets;
    private long relayedBytes;
    private final NoisePrivateKey serverKey;
    private final NoisePublicKey serverPublic;
    private final SecureRandom random;
    private final HandshakeRateLimiter dhLimiter = new HandshakeRateLimiter(4096);
    private final byte[] cookieSecret = new byte[32];
    private final byte[] previousCookieSecret = new byte[32];
    private long cookieSecretAt;
    private boolean haveCookieSecret;
    private long lastTableFullLog = Long.MIN_VALUE;

    /** One peer's registration. Mutable, owned by the table. */
    private static final class Registration {
        final NoisePublicKey key;
        NoisePublicKey wanted;
        long session;
        InetSocketAddress observed;
        List<InetSocketAddress> candidates;
        long refreshedAt;
        long peerInfoSentAt = Long.MIN_VALUE;
        PeerInfo lastPeerInfoSent;
        /** MAC key shared with this peer. */
        byte[] macKey;
        /** Timestamp of the last REGISTER accepted. */
        long timestamp;
        /** What this peer may still have relayed; null while the relay is off. */
        final ByteBucket relayBudget;
        /** When this peer's frames were last relayed, and where to (for the log). */
        long relayedAt = Long.MIN_VALUE;
        InetSocketAddress relayedTo;

        Registration(NoisePublicKey key, ByteBucket relayBudget) {
            this.key = key;
            this.relayBudget = relayBudget;
        }
    }

    /**
     * @param serverKey the server's static key (its public half is what peers may pin)
     * @param random source of cookie secrets
     */
    public Rendezvous(RendezvousConfig config, NoisePrivateKey serverKey, SecureRandom random) {
        this.config = config;
        this.serverKey = serverKey;
        this.serverPublic = serverKey.publicKey();
        this.random = random;
        this.ttlNanos = config.registrationTtl().toNanos();
        this.peerInfoMinNanos = config.peerInfoMinInterval().toNanos();
    }

    /**
     * Handles one datagram from {@code from} that arrived at {@code now} (nanoseconds, any
     * origin, monotonic); replies go to {@code out}.
     */
    public void onDatagram(long now, InetSocketAddress from, ByteBuffer datagram, Transmit out) {
        ControlMessage message;
        try {
            MessageType type = Header.peekType(datagram);
            if (type.isWireGuard()) {
                count(ServerDrop.NOT_FOR_SERVER); // peer-to-peer traffic, not an unknown type
                return;
            }
            if (type == MessageType.RELAY) {
                onRelay(now, from, datagram, out);
                return;
            }
            message = ControlMessage.decode(datagram);
        } catch (MalformedMessageException e) {
            count(ServerDrop.of(e.reason()));
            LOG.log(Level.TRACE, () -> "dropped datagram from " + HostPort.format(from) + ": " + e.getMessage());
            return;
        }
        if (message instanceof Register register) {
            onRegister(now, from, register, datagram, out);
        } else if (message instanceof Leave leave) {
            onLeave(now, from, leave, datagram);
        } else {
            count(ServerDrop.NOT_FOR_SERVER);
        }
    }

    private void onRegister(long now, InetSocketAddress from, Register register, ByteBuffer datagram,
                            Transmit out) {
        if (register.self().equals(register.wanted())) {
            count(ServerDrop.SELF_PAIRING);
            return;
        }
        if (!cookieValid(now, from, register.self(), register.cookie())) {
            challenge(now, from, register, out);
            return;
        }
        Registration known = table.get(register.self());
        byte[] macKey = known != null ? known.macKey : null;
        if (known == null && table.size() >= config.maxRegistrations()) {
            expire(now);
            if (table.size() >= config.maxRegistrations()) {
                tableFull(now); // before any Diffie-Hellman: a full table costs nothing more
                return;
            }
        }
        if (macKey == null) {
            if (!dhLimiter.allow(from.getAddress().getAddress(), now)) {
                count(ServerDrop.RATE_LIMITED);
                return;
            }
            try {
                macKey = ControlKeys.serverPeer(serverKey, register.self());
            } catch (IllegalArgumentException e) {
                count(ServerDrop.BAD_KEY);
                return;
            }
        }
        if (!ControlMessage.macValid(datagram, macKey)) {
            count(ServerDrop.BAD_MAC);
            challenge(now, from, register, out); // perhaps it knows an older server key
            return;
        }
        long lastSeen = known != null ? known.timestamp : departedTimestamp(now, register.self());
        if (register.timestamp() <= lastSeen) {
            count(ServerDrop.REPLAYED);
            return;
        }
        Registration reg = table.remove(register.self());
        if (reg == null) {
            expire(now);
            if (table.size() >= config.maxRegistrations()) {
                tableFull(now);
                return;
            }
            reg = new Registration(register.self(), config.relayOn()
                    ? new ByteBucket(config.relayBytesPerSecond(), config.relayBurstBytes(), now) : null);
            LOG.log(Level.INFO, "registered {0} (session {1}) from {2}, wants {3}", register.self().shortId(),
                    Long.toHexString(register.session()), HostPort.format(from), register.wanted().shortId());
        } else if (reg.session != register.session() || !reg.observed.equals(from)) {
            LOG.log(Level.INFO, "re-registered {0} (session {1}) from {2}", register.self().shortId(),
                    Long.toHexString(register.session()), HostPort.format(from));
        }
        boolean changed = reg.session != register.session() || !from.equals(reg.observed)
                || !register.candidates().equals(reg.candidates) || !register.wanted().equals(reg.wanted);
        if (reg.session != register.session() || !from.equals(reg.observed)) {
            reg.lastPeerInfoSent = null; // a new session or address has not heard any news yet
            reg.relayedAt = Long.MIN_VALUE; // and relaying for it, if any, is news for the log
        }
        if (reg.observed != null) {
            byEndpoint.remove(reg.observed, reg);
        }
        byEndpoint.put(from, reg); // the latest REGISTER from an endpoint owns it
        reg.wanted = register.wanted();
        reg.session = register.session();
        reg.observed = from;
        reg.candidates = register.candidates();
        reg.refreshedAt = now;
        reg.macKey = macKey;
        reg.timestamp = register.timestamp();
        table.put(reg.key, reg);

        int refreshSeconds = (int) config.refreshInterval().toSeconds();
        reply(out, from, new Registered(register.session(), register.timestamp(), refreshSeconds, from), reg.macKey,
                Register.LENGTH);

        Registration partner = partnerOf(reg);
        if (partner != null) {
            if (changed) {
                pairings++;
                LOG.log(Level.INFO, "paired {0} at {1} with {2} at {3}", reg.key.shortId(),
                        HostPort.format(reg.observed), partner.key.shortId(), HostPort.format(partner.observed));
            }
            sendPeerInfo(now, out, reg, partner);
            if (!partner.observed.equals(reg.observed)) {
                // Both at one endpoint (only a spoofer does that): a second PEER_INFO to it would amplify.
                sendPeerInfo(now, out, partner, reg);
            }
        }
    }

    /** The registration {@code reg} is paired with: registered, and wanting {@code reg} back; or null. */
    private Registration partnerOf(Registration reg) {
        Registration partner = table.get(reg.wanted);
        return partner != null && partner.wanted.equals(reg.key) ? partner : null;
    }

    private void tableFull(long now) {
        count(ServerDrop.TABLE_FULL);
        if (lastTableFullLog == Long.MIN_VALUE || now - lastTableFullLog >= TABLE_FULL_LOG_INTERVAL) {
            lastTableFullLog = now;
            LOG.log(Level.WARNING, "registration table full ({0} entries, --max-registrations): "
                    + "dropping new registrations until some expire", table.size());
        }
    }

    /**
     * The last timestamp accepted from a key that has left or expired within the last five
     * minutes (longer than any cookie lives), so a captured REGISTER cannot bring back an old
     * session; Long.MIN_VALUE when there is none.
     */
    private long departedTimestamp(long now, NoisePublicKey key) {
        Departed d = departed.get(key);
        if (d == null) {
            return Long.MIN_VALUE;
        }
        if (now - d.at >= DEPARTED_MEMORY) {
            departed.remove(key);
            return Long.MIN_VALUE;
        }
        return d.timestamp;
    }

    private void rememberDeparted(long now, Registration reg) {
        departed.remove(reg.key);
        departed.put(reg.key, new Departed(reg.timestamp, now));
        Iterator<Departed> it = departed.values().iterator();
        while (it.hasNext()) {
            Departed oldest = it.next();
            if (departed.size() <= config.maxRegistrations() && now - oldest.at < DEPARTED_MEMORY) {
                break;
            }
            it.remove();
        }
    }

    /**
     * Tells {@code to} about {@code about}, answering {@code to}'s latest REGISTER (its session and
     * timestamp) and naming the timestamp of {@code about}'s; the same news is not repeated within
     * the min interval.
     */
    private void sendPeerInfo(long now, Transmit out, Registration to, Registration about) {
        PeerInfo info = new PeerInfo(to.session, to.timestamp, about.key, about.session, about.timestamp,
                about.observed, about.candidates);
        boolean recent = to.peerInfoSentAt != Long.MIN_VALUE && now - to.peerInfoSentAt < peerInfoMinNanos;
        if (recent && info.sameNews(to.lastPeerInfoSent)) {
            return;
        }
        to.lastPeerInfoSent = info;
        to.peerInfoSentAt = now;
        reply(out, to.observed, info, to.macKey, Register.LENGTH);
    }

    /** Answers {@code register} with the server key, the cookie of its source, and its own nonce. */
    private void challenge(long now, InetSocketAddress from, Register register, Transmit out) {
        challenges++;
        reply(out, from, new Challenge(serverPublic, cookie(now, from, register.self(), false), register.nonce()), null,
                Register.LENGTH);
    }

    /** The cookie of {@code from} for {@code peer} under the current (or previous) secret. */
    private byte[] cookie(long now, InetSocketAddress from, NoisePublicKey peer, boolean previous) {
        if (!haveCookieSecret || now - cookieSecretAt >= 2 * COOKIE_SECRET_LIFETIME) {
            // First use, or idle for two lifetimes: no cookie given out may still count, and the
            // previous secret must not be a guessable one (it starts as zeros).
            random.nextBytes(previousCookieSecret);
            random.nextBytes(cookieSecret);
            cookieSecretAt = now;
            haveCookieSecret = true;
        } else if (now - cookieSecretAt >= COOKIE_SECRET_LIFETIME) {
            System.arraycopy(cookieSecret, 0, previousCookieSecret, 0, 32);
            random.nextBytes(cookieSecret);
            cookieSecretAt += COOKIE_SECRET_LIFETIME; // on schedule, however late the datagram that rotates it
        }
        byte[] address = from.getAddress().getAddress();
        byte[] port = {(byte) (from.getPort() >>> 8), (byte) from.getPort()};
        return Blake2s.mac(Register.COOKIE_LENGTH, previous ? previousCookieSecret : cookieSecret, address, port,
                peer.toBytes());
    }

    private boolean cookieValid(long now, InetSocketAddress from, NoisePublicKey peer, byte[] cookie) {
        return MessageDigest.isEqual(cookie, cookie(now, from, peer, false))
                || MessageDigest.isEqual(cookie, cookie(now, from, peer, true));
    }

    private static void reply(Transmit out, InetSocketAddress to, ControlMessage message, byte[] macKey,
                              int requestLength) {
        ByteBuffer bytes = message.encode(macKey);
        if (bytes.remaining() > requestLength) {
            // Cannot happen with the fixed-size REGISTER; kept as the amplification guard.
            throw new IllegalStateException(message.type() + " of " + bytes.remaining()
                    + " bytes exceeds its request of " + requestLength);
        }
        out.send(to, bytes);
    }

    private void onLeave(long now, InetSocketAddress from, Leave leave, ByteBuffer datagram) {
        Registration reg = table.get(leave.sender());
        if (reg == null || reg.session != leave.session() || !reg.observed.equals(from)
                || leave.timestamp() <= reg.timestamp || !ControlMessage.macValid(datagram, reg.macKey)) {
            count(ServerDrop.STALE_LEAVE);
            return;
        }
        table.remove(leave.sender());
        byEndpoint.remove(reg.observed, reg);
        reg.timestamp = leave.timestamp();
        rememberDeparted(now, reg);
        LOG.log(Level.INFO, "{0} (session {1}) left", leave.sender().shortId(), Long.toHexString(leave.session()));
    }

    /**
     * Forwards a RELAY frame, unchanged, from a registered peer to its partner; or drops it under
     * the first rule it breaks: relay off, malformed, unknown sender, unpaired, over budget.
     */
    private void onRelay(long now, InetSocketAddress from, ByteBuffer datagram, Transmit out) {
        if (!config.relayOn()) {
            count(ServerDrop.RELAY_OFF);
            return;
        }
        try {
            Relay.check(datagram); // the form only: the payload is the peers' business
        } catch (MalformedMessageException e) {
            count(ServerDrop.of(e.reason()));
            LOG.log(Level.TRACE, () -> "dropped RELAY from " + HostPort.format(from) + ": " + e.getMessage());
            return;
        }
        Registration sender = byEndpoint.get(from);
        if (sender == null || now - sender.refreshedAt >= ttlNanos) {
            count(ServerDrop.RELAY_UNKNOWN_SENDER);
            return;
        }
        Registration partner = partnerOf(sender);
        if (partner == null || now - partner.refreshedAt >= ttlNanos) {
            count(ServerDrop.RELAY_UNPAIRED);
            return;
        }
        int length = datagram.remaining();
        if (!sender.relayBudget.take(now, Math.max(RendezvousConfig.RELAY_MIN_COST, length))) {
            count(ServerDrop.RELAY_RATE_LIMITED);
            return;
        }
        boolean news = sender.relayedAt == Long.MIN_VALUE || now - sender.relayedAt >= RELAY_LOG_IDLE
                || !partner.observed.equals(sender.relayedTo);
        sender.relayedAt = now;
        sender.relayedTo = partner.observed;
        if (news) {
            LOG.log(Level.INFO, "relaying for {0} at {1} -> {2} at {3}", sender.key.shortId(),
                    HostPort.format(from), partner.key.shortId(), HostPort.format(partner.observed));
        }
        relayedPackets++;
        relayedBytes += length;
        // a copy: the edge owns the datagram it handed in, and the Transmit owns what it is given
        out.send(partner.observed, ByteBuffer.allocate(length).put(datagram.duplicate()).flip());
    }

    /** Removes registrations not refreshed within the TTL. Call about once a second. */
    public void expire(long now) {
        Iterator<Registration> it = table.values().iterator();
        while (it.hasNext()) {
            Registration reg = it.next();
            if (now - reg.refreshedAt < ttlNanos) {
                break;
            }
            it.remove();
            byEndpoint.remove(reg.observed, reg);
            rememberDeparted(now, reg);
            LOG.log(Level.INFO, "registration of {0} from {1} expired", reg.key.shortId(),
                    HostPort.format(reg.observed));
        }
    }

    /** The server's public key. */
    public NoisePublicKey publicKey() {
        return serverPublic;
    }

    /** CHALLENGEs sent (to new peers, to peers that moved, and to bad MACs). */
    public long challenges() {
        return challenges;
    }

    /** Number of live registrations. */
    public int registrations() {
        return table.size();
    }

    /** Number of times two peers were paired (or re-paired after a change). */
    public long pairings() {
        return pairings;
    }

    /** RELAY frames forwarded. */
    public long relayedPackets() {
        return relayedPackets;
    }

    /** Bytes of RELAY frames forwarded (whole frames, as received and as sent). */
    public long relayedBytes() {
        return relayedBytes;
    }

    /** A snapshot of the drop counters. */
    public Map<ServerDrop, Long> drops() {
        return new EnumMap<>(drops);
    }

    /** Total dropped datagrams. */
    public long droppedTotal() {
        long sum = 0;
        for (long n : drops.values()) {
            sum += n;
        }
        return sum;
    }

    private void count(ServerDrop drop) {
        drops.merge(drop, 1L, Long::sum);
    }
}
