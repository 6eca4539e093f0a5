package io.pinhole.rendezvous;

import io.pinhole.config.HostPort;
import io.pinhole.config.LogNames;
import io.pinhole.crypto.Blake2s;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.drops.DropCounters;
import io.pinhole.ratelimiter.ByteBucket;
import io.pinhole.ratelimiter.FairBudget;
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
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Rendezvous: the rendezvous server's protocol logic, with no socket and no clock of its own.
 *
 * <p>Peers register under their public key, naming the key of the partner they want. A
 * registration is one (key, wanted) pair: one key may hold several, one per partner, from one
 * endpoint (a device with several peers behind one socket); each has its own session, timestamps
 * and refreshes. When both
 * keys of a pair are registered and want each other, each is sent a PEER_INFO with the other's
 * observed endpoint and LAN candidates; again after every registration (an unchanged PEER_INFO
 * at most once per {@link RendezvousConfig#peerInfoMinInterval()}). Pairing is by keys only,
 * never by ports.
 *
 * <p>Bounds: at most {@link RendezvousConfig#maxRegistrations()} registrations; each lives
 * {@link RendezvousConfig#registrationTtl()} after its last refresh and is removed by
 * {@link #expire(long)}. Replies are REGISTERED and PEER_INFO only, both smaller than the
 * fixed-size REGISTER that triggers them, so the server never amplifies.
 *
 * <p>Admission (so that nobody can exhaust the server): registrations are counted per
 * <em>source</em>, an IPv4 address or an IPv6 /64 (as WireGuard's rate limiter keys them). A new
 * key from a source that holds {@link RendezvousConfig#maxPerSource()} registrations is refused
 * ({@link ServerDrop#SOURCE_FULL}), before any Diffie-Hellman. A Diffie-Hellman (a new key) costs
 * its source's own budget (20 a second, bursts of 5: {@link ServerDrop#RATE_LIMITED}) and the
 * global one ({@link RendezvousConfig#dhPerSecond()}, shared fairly among the sources that ask:
 * {@link FairBudget}; {@link ServerDrop#DH_BUDGET}, {@link ServerDrop#DH_SHARE}), so a flood from
 * many addresses cannot take the event loop. With the table full, a new registration (once its
 * MAC is verified) evicts an unpaired registration (one whose partner is not registered wanting
 * it back): first one of a source over its quota (holding more than its quota, which only a
 * peer moving in can cause, or refused for a per-source limit within the last TTL), the oldest
 * first, else the oldest unpaired one of all; paired registrations are never evicted. Only when
 * none is unpaired is the newcomer refused ({@link ServerDrop#TABLE_FULL}), before any
 * Diffie-Hellman. A refused REGISTER gets no reply: a refusal could only be unauthenticated
 * (before the Diffie-Hellman there is no key to MAC it with).
 *
 * <p>Logging: every line that a datagram can trigger (registrations, pairings, departures,
 * evictions, relaying, refusals) is throttled per kind ({@link LogThrottle}): refusals one line
 * per reason a minute, with a count; the others 60 lines a minute each, then one line with the
 * count of the rest.
 *
 * <p>Relay: a RELAY frame ({@link Relay}) from the observed endpoint of a live registration whose
 * partner is registered and wants it back (the pairing rule of PEER_INFO) is forwarded, the
 * identical bytes, to the partner's observed endpoint. The server checks only the frame's form,
 * never reads its payload, and sends exactly as many bytes as it received. Each registration has
 * a byte budget ({@link RendezvousConfig#relayBytesPerSecond()}, bursts of
 * {@link RendezvousConfig#relayBurstBytes()}, at least {@link RendezvousConfig#RELAY_MIN_COST}
 * bytes a frame), and all of them share a global one
 * ({@link RendezvousConfig#relayTotalBytesPerSecond()}), fairly among their sources; a rate of 0
 * turns the relay off. When two registrations claim one endpoint, the
 * latest REGISTER owns it (the other relays again once it refreshes). The start of relaying for a
 * pair is logged (again after a minute without relaying, or toward a new endpoint), never each
 * frame. So the frames of a device whose registrations for several partners share one endpoint
 * go to the partner of its latest REGISTER only (a RELAY frame does not name its destination).
 *
 * <p>Authentication: a REGISTER must carry a cookie that the server gave its source address in a
 * CHALLENGE (with the server's public key), a timestamp newer than the last one accepted for
 * its registration (its key and wanted partner), and a MAC under the key derived from DH(peer, server) ({@link ControlKeys}); so
 * nobody without a peer's private key can register as that peer, and nobody can replay a
 * registration from another address. REGISTERED and PEER_INFO carry the recipient's MAC, so a
 * peer can tell them from forgeries, and the session and timestamp of the recipient's REGISTER
 * they answer (PEER_INFO: the recipient's latest, and the partner's own timestamp), so it can
 * tell them from replays. A REGISTER without a valid cookie or MAC is answered by a 68-byte
 * CHALLENGE that echoes the REGISTER's nonce; the Diffie-Hellman a new key needs is rate-limited
 * (see Admission).
 * The cookie secret changes every two minutes (a cookie lives two to four minutes).
 *
 * <p>Error contract: {@link #onDatagram} never throws for any input datagram; a datagram it
 * cannot use is dropped and counted in {@link #drops()}.
 *
 * <p>Not thread-safe: confine an instance to one thread (the server's event loop).
 */
public final class Rendezvous {
    private static final Logger LOG = System.getLogger(LogNames.RENDEZVOUS);
    /** The interval of the log throttle: one line per refusal reason, 60 per kind of event. */
    private static final long LOG_INTERVAL = 60_000_000_000L;
    private static final int LOG_EVENTS_PER_INTERVAL = 60;
    /** A source's own Diffie-Hellman budget (WireGuard's per-address handshake rate). */
    private static final long DH_PER_SOURCE_PER_SECOND = 20;
    private static final long DH_PER_SOURCE_BURST = 5;
    /** A source with no registration is forgotten after this long without asking for a Diffie-Hellman. */
    private static final long SOURCE_IDLE = 1_000_000_000L;
    /** Over-quota sources looked at per eviction, at most (the others wait for the next one). */
    private static final int EVICTION_SCAN = 64;
    private static final long COOKIE_SECRET_LIFETIME = 120_000_000_000L;
    private static final long DEPARTED_MEMORY = 300_000_000_000L;
    /** Relaying for a pair is logged again after this long without relaying for it. */
    private static final long RELAY_LOG_IDLE = 60_000_000_000L;

    private record Departed(long timestamp, long at) {
    }

    /** What a registration is filed under: the registering key and the partner it wants. */
    private record Pair(NoisePublicKey self, NoisePublicKey wanted) {
    }

    /** Registrations that left or expired recently, oldest first, with their last accepted timestamp. */
    private final LinkedHashMap<Pair, Departed> departed = new LinkedHashMap<>();

    private final RendezvousConfig config;
    private final long ttlNanos;
    private final long peerInfoMinNanos;
    /** Insertion order is refresh order: a refresh re-inserts, so the head expires first. */
    private final LinkedHashMap<Pair, Registration> table = new LinkedHashMap<>();
    /** Each registered key's registrations (one per wanted partner); never an empty set. */
    private final HashMap<NoisePublicKey, LinkedHashSet<Registration>> byKey = new HashMap<>();
    /** The registration each observed endpoint belongs to (the latest REGISTER from it); RELAY's sender. */
    private final HashMap<InetSocketAddress, Registration> byEndpoint = new HashMap<>();
    private final DropCounters<ServerDrop> drops = new DropCounters<>(ServerDrop.class);
    private long pairings;
    private long challenges;
    private long relayedPackets;
    private long relayedBytes;
    private final NoisePrivateKey serverKey;
    private final NoisePublicKey serverPublic;
    private final SecureRandom random;
    /** Sources that hold registrations or asked for a Diffie-Hellman within the last second. */
    private final HashMap<Long, Source> sources = new HashMap<>();
    /** Shared by sources beyond {@link #maxSources} (only ever for their Diffie-Hellman budget). */
    private final Source overflowSource;
    private final int maxSources;
    /** Unpaired registrations, the longest unrefreshed first: the eviction order. */
    private final LinkedHashSet<Registration> unpaired = new LinkedHashSet<>();
    /** Sources that went over quota (see {@link Source#overQuota}); cleaned lazily by eviction. */
    private final LinkedHashSet<Source> overQuota = new LinkedHashSet<>();
    /** The global budgets, made full at their first use (time has no origin before it). */
    private FairBudget dhBudget;
    private FairBudget relayBudget;
    private final LogThrottle<Line> logThrottle = new LogThrottle<>(Line.class, LOG_INTERVAL);
    private long evictions;
    private final byte[] cookieSecret = new byte[32];
    private final byte[] previousCookieSecret = new byte[32];
    private long cookieSecretAt;
    private boolean haveCookieSecret;

    /** One peer's registration. Mutable, owned by the table. */
    private static final class Registration {
        final NoisePublicKey key;
        final NoisePublicKey wanted;
        final Pair pair;
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
        /** The source of {@link #observed}; it counts this registration. */
        Source source;
        /** True while in {@link #unpaired} and its source's list. */
        boolean isUnpaired;

        Registration(Pair pair, ByteBucket relayBudget) {
            this.key = pair.self();
            this.wanted = pair.wanted();
            this.pair = pair;
            this.relayBudget = relayBudget;
        }
    }

    /** One source of registrations: an IPv4 address or an IPv6 /64. Mutable, owned by {@link #sources}. */
    private static final class Source {
        final long key;
        /** Registrations whose observed endpoint is in this source. */
        int held;
        /** Its unpaired registrations, the longest unrefreshed first. */
        final LinkedHashSet<Registration> unpaired = new LinkedHashSet<>();
        ByteBucket dh;
        FairBudget.Share dhShare;
        FairBudget.Share relayShare;
        /** When it was made, last asked for a Diffie-Hellman, or last lost its last registration. */
        long activeAt;
        /** When a REGISTER of this source was last refused for a per-source limit; valid if {@link #refused}. */
        long refusedAt;
        boolean refused;

        Source(long key, long now) {
            this.key = key;
            this.activeAt = now;
        }
    }

    /** Kinds of log line that datagrams trigger, each throttled on its own; a refusal has a reason. */
    private enum Line {
        REGISTERED(null, "registered %,d more peers"),
        RE_REGISTERED(null, "re-registered %,d more peers"),
        PAIRED(null, "paired peers %,d more times"),
        LEFT(null, "%,d more peers left"),
        EXPIRED(null, "%,d more registrations expired"),
        EVICTED(null, "evicted %,d more unpaired registrations to make room"),
        RELAYING(null, "started relaying for peers %,d more times"),
        SOURCE_FULL("a new key, and its source (IPv4 address or IPv6 /64) holds its quota of registrations"
                + " (--max-per-source)", "dropped %,d REGISTERs of new keys from sources at their quota"
                + " (--max-per-source)"),
        TABLE_FULL("a new key, and the registration table is full of paired registrations (--max-registrations)",
                "dropped %,d REGISTERs of new keys: the table was full of paired registrations (--max-registrations)"),
        RATE_LIMITED("its source (IPv4 address or IPv6 /64) is over its Diffie-Hellman rate (20 a second)",
                "dropped %,d REGISTERs from sources over their Diffie-Hellman rate (20 a second)"),
        DH_BUDGET("the Diffie-Hellman budget is spent (--dh-rate)",
                "dropped %,d REGISTERs: the Diffie-Hellman budget was spent (--dh-rate)"),
        DH_SHARE("its source had its share of the Diffie-Hellman budget (--dh-rate)",
                "dropped %,d REGISTERs from sources over their share of the Diffie-Hellman budget (--dh-rate)"),
        RELAY_BUDGET("the total relay budget is spent (--relay-total-rate)",
                "dropped %,d RELAY frames: the total relay budget was spent (--relay-total-rate)"),
        RELAY_SHARE("its source had its share of the total relay budget (--relay-total-rate)",
                "dropped %,d RELAY frames from sources over their share of the total relay budget"
                + " (--relay-total-rate)");

        /** Why a refusal refused; null for other lines. */
        final String reason;
        private final String summary;

        Line(String reason, String summary) {
            this.reason = reason;
            this.summary = summary;
        }

        boolean isRefusal() {
            return reason != null;
        }

        String subject() {
            return this == RELAY_BUDGET || this == RELAY_SHARE ? "RELAY frame" : "REGISTER";
        }

        /** The line that stands for {@code n} lines not logged. */
        String summary(long n) {
            return String.format(Locale.ROOT, summary, n) + " in the last 60 s"
                    + (isRefusal() ? "" : " (not logged one by one)");
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
        this.maxSources = Math.max(4096, 2 * config.maxRegistrations());
        this.overflowSource = new Source(Long.MIN_VALUE, 0);
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
        Pair pair = new Pair(register.self(), register.wanted());
        Registration known = table.get(pair);
        LinkedHashSet<Registration> sameKey = byKey.get(register.self());
        // the key is known already (a registration for another partner): its MAC key is too
        byte[] macKey = known != null ? known.macKey : sameKey != null ? sameKey.iterator().next().macKey : null;
        if (known == null && !admissible(now, from, waitingFor(register))) {
            return; // before any Diffie-Hellman: a refusal costs nothing more
        }
        if (macKey == null) {
            if (!dhAllowed(now, from)) {
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
        long lastSeen = known != null ? known.timestamp : departedTimestamp(now, pair);
        if (register.timestamp() <= lastSeen) {
            count(ServerDrop.REPLAYED);
            return;
        }
        Registration reg = table.remove(pair);
        if (reg == null) {
            expireRegistrations(now); // not the sweep: this runs for every new registration
            if (table.size() >= config.maxRegistrations() && !evictOne(now, waitingFor(register))) {
                refuse(now, ServerDrop.TABLE_FULL, Line.TABLE_FULL, from);
                return;
            }
            reg = new Registration(pair, config.relayOn()
                    ? new ByteBucket(config.relayBytesPerSecond(), config.relayBurstBytes(), now) : null);
            if (logThrottle.allow(now, Line.REGISTERED, LOG_EVENTS_PER_INTERVAL)) {
                LOG.log(Level.INFO, "registered {0} (session {1}) from {2}, wants {3}", register.self().shortId(),
                        Long.toHexString(register.session()), HostPort.format(from), register.wanted().shortId());
            }
        } else if ((reg.session != register.session() || !reg.observed.equals(from))
                && logThrottle.allow(now, Line.RE_REGISTERED, LOG_EVENTS_PER_INTERVAL)) {
            LOG.log(Level.INFO, "re-registered {0} (session {1}) from {2}", register.self().shortId(),
                    Long.toHexString(register.session()), HostPort.format(from));
        }
        boolean changed = reg.session != register.session() || !from.equals(reg.observed)
                || !register.candidates().equals(reg.candidates);
        if (reg.session != register.session() || !from.equals(reg.observed)) {
            reg.lastPeerInfoSent = null; // a new session or address has not heard any news yet
            reg.relayedAt = Long.MIN_VALUE; // and relaying for it, if any, is news for the log
        }
        if (reg.observed != null) {
            byEndpoint.remove(reg.observed, reg);
        }
        byEndpoint.put(from, reg); // the latest REGISTER from an endpoint owns it
        InetSocketAddress observedBefore = reg.observed;
        reg.session = register.session();
        reg.observed = from;
        reg.candidates = register.candidates();
        reg.refreshedAt = now;
        reg.macKey = macKey;
        reg.timestamp = register.timestamp();
        table.put(pair, reg);
        byKey.computeIfAbsent(reg.key, k -> new LinkedHashSet<>()).add(reg);
        if (observedBefore == null || !observedBefore.getAddress().equals(from.getAddress())) {
            moveSource(now, reg);
        }
        refile(reg, true); // refreshed: the last to be evicted among the unpaired
        refile(table.get(new Pair(reg.wanted, reg.key)), false);

        int refreshSeconds = (int) config.refreshInterval().toSeconds();
        reply(out, from, new Registered(register.session(), register.timestamp(), refreshSeconds, from), reg.macKey,
                Register.LENGTH);

        Registration partner = partnerOf(reg);
        if (partner != null) {
            if (changed) {
                pairings++;
            }
            if (changed && logThrottle.allow(now, Line.PAIRED, LOG_EVENTS_PER_INTERVAL)) {
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
        return table.get(new Pair(reg.wanted, reg.key));
    }

    // ---------------------------------------------------------------- admission

    /**
     * The key of the source of {@code address}: an IPv6 address's first 64 bits; an IPv4 address
     * as the /64 0:1:a.b:c.d::/64, which lies in ::/8 (reserved by the IETF, never routed), so
     * it stands for no real IPv6 source.
     */
    static long sourceKey(InetAddress address) {
        byte[] b = address.getAddress();
        boolean v4 = address instanceof Inet4Address;
        long key = v4 ? 1 : 0;
        for (int i = 0; i < (v4 ? 4 : 8); i++) {
            key = key << 8 | (b[i] & 0xff);
        }
        return key;
    }

    /**
     * Whether a new key from {@code from} may register at all: its source below its quota, and
     * the table not full of registrations that cannot be evicted. Counts and logs a refusal.
     */
    private boolean admissible(long now, InetSocketAddress from, Registration spare) {
        Source source = sources.get(sourceKey(from.getAddress()));
        if (source != null && source.held >= config.maxPerSource()) {
            markRefused(now, source);
            refuse(now, ServerDrop.SOURCE_FULL, Line.SOURCE_FULL, from);
            return false;
        }
        if (table.size() >= config.maxRegistrations()) {
            expireRegistrations(now); // not the sweep: this runs per REGISTER while the table is full
            if (table.size() >= config.maxRegistrations() && firstEvictable(unpaired, spare) == null) {
                refuse(now, ServerDrop.TABLE_FULL, Line.TABLE_FULL, from);
                return false;
            }
        }
        return true;
    }

    /**
     * Takes one Diffie-Hellman from the budgets of {@code from}'s source and the global one; or
     * counts, logs and returns false.
     */
    private boolean dhAllowed(long now, InetSocketAddress from) {
        long key = sourceKey(from.getAddress());
        Source source = sources.get(key);
        if (source == null) {
            source = sources.size() < maxSources ? new Source(key, now) : overflowSource;
            if (source != overflowSource) {
                sources.put(key, source);
            }
        }
        source.activeAt = now;
        if (source.dh == null) {
            source.dh = new ByteBucket(DH_PER_SOURCE_PER_SECOND, DH_PER_SOURCE_BURST, now);
        }
        if (!source.dh.holds(now, 1)) {
            markRefused(now, source);
            refuse(now, ServerDrop.RATE_LIMITED, Line.RATE_LIMITED, from);
            return false;
        }
        if (dhBudget == null) {
            dhBudget = new FairBudget(config.dhPerSecond(), config.dhPerSecond(), now);
        }
        if (source.dhShare == null) {
            source.dhShare = dhBudget.newShare();
        }
        switch (dhBudget.take(now, source.dhShare, 1)) {
            case OVER_SHARE -> {
                markRefused(now, source);
                refuse(now, ServerDrop.DH_SHARE, Line.DH_SHARE, from);
                return false;
            }
            case SPENT -> {
                refuse(now, ServerDrop.DH_BUDGET, Line.DH_BUDGET, from);
                return false;
            }
            default -> {
                source.dh.take(now, 1);
                return true;
            }
        }
    }

    /** A REGISTER of {@code source} was refused for a per-source limit: it is over quota for a TTL. */
    private void markRefused(long now, Source source) {
        if (source == overflowSource) {
            return;
        }
        source.refused = true;
        source.refusedAt = now;
        overQuota.add(source);
    }

    private boolean isOverQuota(long now, Source source) {
        return source.held > config.maxPerSource() || source.refused && now - source.refusedAt < ttlNanos;
    }

    /** Counts {@code reg} in the source of its (new) observed address, no longer in its old one. */
    private void moveSource(long now, Registration reg) {
        unfile(reg);
        if (reg.source != null) {
            release(now, reg.source);
        }
        long key = sourceKey(reg.observed.getAddress());
        Source source = sources.get(key);
        if (source == null) {
            source = new Source(key, now);
            sources.put(key, source);
        }
        source.held++;
        reg.source = source;
        if (source.held > config.maxPerSource()) {
            overQuota.add(source); // a peer moved in: the source is over its quota, its unpaired go first
        }
    }

    /**
     * Puts {@code reg} in the unpaired lists or takes it out, as its pairing now is; a refreshed
     * one goes to the end. Null is ignored.
     */
    private void refile(Registration reg, boolean refreshed) {
        if (reg == null) {
            return;
        }
        boolean isUnpaired = partnerOf(reg) == null;
        if (reg.isUnpaired && (refreshed || !isUnpaired)) {
            unfile(reg);
        }
        if (isUnpaired && !reg.isUnpaired) {
            reg.isUnpaired = true;
            unpaired.add(reg);
            reg.source.unpaired.add(reg);
            if (reg.source.refused || reg.source.held > config.maxPerSource()) {
                overQuota.add(reg.source); // perhaps over quota still: eviction looks
            }
        }
    }

    private void unfile(Registration reg) {
        if (reg.isUnpaired) {
            reg.isUnpaired = false;
            unpaired.remove(reg);
            reg.source.unpaired.remove(reg);
        }
    }

    /**
     * The registration that wants {@code register}'s sender and is wanted by it: unpaired only
     * until this REGISTER, so never evicted for it; or null.
     */
    private Registration waitingFor(Register register) {
        return table.get(new Pair(register.wanted(), register.self()));
    }

    /** The first of {@code regs} that is not {@code spare}; or null. */
    private static Registration firstEvictable(LinkedHashSet<Registration> regs, Registration spare) {
        Iterator<Registration> it = regs.iterator();
        while (it.hasNext()) {
            Registration reg = it.next();
            if (reg != spare) {
                return reg;
            }
        }
        return null;
    }

    /**
     * Makes room for one registration: evicts the longest unrefreshed unpaired registration of an
     * over-quota source, else the longest unrefreshed unpaired one of all; never {@code spare}.
     * False when every other registration is paired.
     */
    private boolean evictOne(long now, Registration spare) {
        Registration victim = null;
        Iterator<Source> it = overQuota.iterator();
        for (int looked = 0; victim == null && it.hasNext() && looked < EVICTION_SCAN; looked++) {
            Source source = it.next();
            if (!isOverQuota(now, source) || source.unpaired.isEmpty()) {
                it.remove(); // marked again when it is refused again, or when it has unpaired ones over quota
            } else {
                victim = firstEvictable(source.unpaired, spare);
            }
        }
        boolean overQuotaVictim = victim != null;
        if (victim == null) {
            victim = firstEvictable(unpaired, spare);
            if (victim == null) {
                return false;
            }
        }
        table.remove(victim.pair);
        forget(now, victim);
        evictions++;
        if (logThrottle.allow(now, Line.EVICTED, LOG_EVENTS_PER_INTERVAL)) {
            LOG.log(Level.INFO, "evicted the unpaired registration of {0} from {1}{2} to make room",
                    victim.key.shortId(), HostPort.format(victim.observed), overQuotaVictim ? " (over-quota source)" : "");
        }
        return true;
    }

    /** Takes a registration already removed from the table out of every other index. */
    private void forget(long now, Registration reg) {
        LinkedHashSet<Registration> sameKey = byKey.get(reg.key);
        if (sameKey != null && sameKey.remove(reg) && sameKey.isEmpty()) {
            byKey.remove(reg.key);
        }
        byEndpoint.remove(reg.observed, reg);
        unfile(reg);
        release(now, reg.source);
        rememberDeparted(now, reg);
        refile(partnerOf(reg), false); // its partner, if it had one, is unpaired now
    }

    private static void release(long now, Source source) {
        if (--source.held == 0) {
            source.activeAt = now;
        }
    }

    /** Forgets sources that hold no registration and have not asked for a Diffie-Hellman for a second. */
    private void sweepSources(long now) {
        Iterator<Source> it = sources.values().iterator();
        while (it.hasNext()) {
            Source source = it.next();
            if (source.held == 0 && now - source.activeAt >= SOURCE_IDLE) {
                it.remove();
                overQuota.remove(source);
            }
        }
    }

    /** Counts a refusal, and logs it within the throttle (one line per reason per interval). */
    private void refuse(long now, ServerDrop drop, Line line, InetSocketAddress from) {
        count(drop);
        if (logThrottle.allow(now, line, 1)) {
            LOG.log(Level.WARNING, "dropped a {0} from {1}: {2} (more such drops: one line a minute, with a count)",
                    line.subject(), HostPort.format(from), line.reason);
        }
    }

    private static void logSummary(Line line, long n) {
        LOG.log(line.isRefusal() ? Level.WARNING : Level.INFO, line.summary(n));
    }

    /**
     * The last timestamp accepted for a registration (key and wanted partner) that has left or
     * expired within the last five minutes (longer than any cookie lives), so a captured REGISTER
     * cannot bring back an old session; Long.MIN_VALUE when there is none.
     */
    private long departedTimestamp(long now, Pair key) {
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
        departed.remove(reg.pair);
        departed.put(reg.pair, new Departed(reg.timestamp, now));
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
        Registration reg = leaving(from, leave);
        if (reg == null || !ControlMessage.macValid(datagram, reg.macKey)) {
            count(ServerDrop.STALE_LEAVE);
            return;
        }
        table.remove(reg.pair);
        reg.timestamp = leave.timestamp();
        forget(now, reg);
        if (logThrottle.allow(now, Line.LEFT, LOG_EVENTS_PER_INTERVAL)) {
            LOG.log(Level.INFO, "{0} (session {1}) left", leave.sender().shortId(), Long.toHexString(leave.session()));
        }
    }

    /**
     * The registration that {@code leave} ends: its sender's, of its session, registered from
     * {@code from}, and older than the LEAVE; or null. One LEAVE ends one registration (a device
     * registered for several partners gives each registration a session of its own).
     */
    private Registration leaving(InetSocketAddress from, Leave leave) {
        LinkedHashSet<Registration> regs = byKey.get(leave.sender());
        if (regs == null) {
            return null;
        }
        for (Registration reg : regs) {
            if (reg.session == leave.session() && reg.observed.equals(from) && leave.timestamp() > reg.timestamp) {
                return reg;
            }
        }
        return null;
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
        int cost = Math.max(RendezvousConfig.RELAY_MIN_COST, length);
        if (!sender.relayBudget.take(now, cost)) {
            count(ServerDrop.RELAY_RATE_LIMITED);
            return;
        }
        if (relayBudget == null) {
            relayBudget = new FairBudget(config.relayTotalBytesPerSecond(), config.relayTotalBurstBytes(), now);
        }
        Source source = sender.source;
        if (source.relayShare == null) {
            source.relayShare = relayBudget.newShare();
        }
        switch (relayBudget.take(now, source.relayShare, cost)) {
            case OVER_SHARE -> {
                refuse(now, ServerDrop.RELAY_SHARE, Line.RELAY_SHARE, from);
                return;
            }
            case SPENT -> {
                refuse(now, ServerDrop.RELAY_BUDGET, Line.RELAY_BUDGET, from);
                return;
            }
            default -> {
            }
        }
        boolean news = sender.relayedAt == Long.MIN_VALUE || now - sender.relayedAt >= RELAY_LOG_IDLE
                || !partner.observed.equals(sender.relayedTo);
        sender.relayedAt = now;
        sender.relayedTo = partner.observed;
        if (news && logThrottle.allow(now, Line.RELAYING, LOG_EVENTS_PER_INTERVAL)) {
            LOG.log(Level.INFO, "relaying for {0} at {1} -> {2} at {3}", sender.key.shortId(),
                    HostPort.format(from), partner.key.shortId(), HostPort.format(partner.observed));
        }
        relayedPackets++;
        relayedBytes += length;
        // a copy: the edge owns the datagram it handed in, and the Transmit owns what it is given
        out.send(partner.observed, ByteBuffer.allocate(length).put(datagram.duplicate()).flip());
    }

    /**
     * Removes registrations not refreshed within the TTL, forgets idle sources, and logs the
     * summaries of throttled log lines. Call about once a second.
     */
    public void expire(long now) {
        expireRegistrations(now);
        sweepSources(now);
        logThrottle.flush(now, Rendezvous::logSummary);
    }

    /** Removes registrations not refreshed within the TTL: O(1) when none is due. */
    private void expireRegistrations(long now) {
        Iterator<Registration> it = table.values().iterator();
        while (it.hasNext()) {
            Registration reg = it.next();
            if (now - reg.refreshedAt < ttlNanos) {
                break;
            }
            it.remove();
            forget(now, reg);
            if (logThrottle.allow(now, Line.EXPIRED, LOG_EVENTS_PER_INTERVAL)) {
                LOG.log(Level.INFO, "registration of {0} from {1} expired", reg.key.shortId(),
                        HostPort.format(reg.observed));
            }
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

    /** Number of live registrations (a key registered for two partners counts twice). */
    public int registrations() {
        return table.size();
    }

    /** True if {@code key} is registered now (for any partner). */
    public boolean isRegistered(NoisePublicKey key) {
        return byKey.containsKey(key);
    }

    /** True if {@code key} is registered now wanting {@code wanted}. */
    public boolean isRegistered(NoisePublicKey key, NoisePublicKey wanted) {
        return table.containsKey(new Pair(key, wanted));
    }

    /** Unpaired registrations evicted to make room for new ones. */
    public long evictions() {
        return evictions;
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
        return drops.snapshot();
    }

    /** Total dropped datagrams. */
    public long droppedTotal() {
        return drops.total();
    }

    private void count(ServerDrop drop) {
        drops.count(drop);
    }
}
