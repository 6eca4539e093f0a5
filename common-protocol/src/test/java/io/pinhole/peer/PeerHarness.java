package io.pinhole.peer;

import static io.pinhole.wire.WireSamples.endpoint;
import static io.pinhole.wire.WireSamples.privateKey;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.rendezvous.Rendezvous;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.WireSamples;
import io.pinhole.wireguard.Identity;
import io.pinhole.wireguard.SessionOutput;
import io.pinhole.wireguard.SessionTimers;
import io.pinhole.wireguard.WireGuardSession;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * PeerHarness: one PeerMachine with a recording PeerOutput and a virtual clock that ticks every
 * 50 ms, plus the cast around it: the rendezvous server (hand-built authenticated messages, or
 * a real {@link Rendezvous} core), and the partner, whose WireGuard side is a real
 * {@link WireGuardSession} and whose control messages are built here with the partner's keys.
 *
 * <p>Keys are fixed: our public key sorts before the partner's, so we initiate WireGuard when a
 * path comes up (unless a test builds the harness with another key of ours).
 */
final class PeerHarness implements PeerOutput {
    /** Punching as before the relay: no relay, no TTL openers (what most unit tests here pin down). */
    static final Traversal CLASSIC = Traversal.defaults().withRelay(false).withOpenerTtl(0);
    static final long MS = 1_000_000L;
    static final long SECOND = 1_000 * MS;
    static final long TICK = 50 * MS;

    static final NoisePrivateKey SELF_KEY = privateKey(0x5e);
    static final NoisePrivateKey PEER_KEY = privateKey(0x77);
    static final NoisePrivateKey SERVER_KEY = privateKey(0x11);
    static final NoisePrivateKey OTHER_SERVER_KEY = privateKey(0x5f);
    static final NoisePrivateKey STRANGER_KEY = privateKey(0xcc);
    static final NoisePublicKey SELF = SELF_KEY.publicKey();
    static final NoisePublicKey PEER = PEER_KEY.publicKey();
    static final NoisePublicKey SERVER = SERVER_KEY.publicKey();
    static final NoisePublicKey OTHER_SERVER = OTHER_SERVER_KEY.publicKey();
    static final NoisePublicKey STRANGER = STRANGER_KEY.publicKey();
    static final long SESSION = 0x5e55_0000_1011L;
    static final long PEER_SESSION = 0xbeef_0000_0001L;
    static final byte[] COOKIE = WireSamples.COOKIE;

    static final InetSocketAddress RENDEZVOUS = endpoint("203.0.113.10", 7777);
    static final InetSocketAddress OUR_PUBLIC = endpoint("198.51.100.2", 40001);
    static final List<InetSocketAddress> OUR_LAN = List.of(endpoint("10.0.1.2", 51820));
    static final InetSocketAddress PEER_PUBLIC = endpoint("192.0.2.2", 40002);
    static final InetSocketAddress PEER_LAN = endpoint("10.0.2.2", 51820);
    static final InetSocketAddress PEER_ROAMED = endpoint("192.0.2.77", 50505);
    static final InetSocketAddress ATTACKER = endpoint("203.0.113.66", 6666);
    static final Instant WALL_START = Instant.parse("2026-11-21T12:00:00Z");

    /** One datagram the machine sent, at virtual time {@code at}, from {@code socket} (0 = main) with {@code ttl} (0 = default). */
    record Sent(long at, InetSocketAddress to, byte[] bytes, int socket, int ttl) {
        Sent(long at, InetSocketAddress to, byte[] bytes) {
            this(at, to, bytes, 0, 0);
        }

        MessageType type() {
            return MessageType.ofCode(bytes[0]);
        }

        ControlMessage message() {
            try {
                return ControlMessage.decode(ByteBuffer.wrap(bytes));
            } catch (MalformedMessageException e) {
                throw new AssertionError("not a control message: " + e.getMessage());
            }
        }

        boolean macValid(byte[] key) {
            return ControlMessage.macValid(ByteBuffer.wrap(bytes), key);
        }

        @Override
        public String toString() {
            return "Sent[at=" + at + ", to=" + to + ", " + type() + " of " + bytes.length + " bytes"
                    + (socket != 0 ? ", from socket " + socket : "") + (ttl != 0 ? ", ttl " + ttl : "") + "]";
        }
    }

    final NoisePrivateKey selfKey;
    final NoisePublicKey self;
    /** What the server MACs its messages to us with (computed on the server's side). */
    final byte[] serverMac;
    /** What we and the partner MAC PUNCH and peer LEAVE with (computed on the partner's side). */
    final byte[] punchMac;
    final PeerConfig config;
    final PeerMachine machine;
    final long origin;
    long now;
    /** Wall time moves with virtual time unless a test freezes or moves it. */
    long wallOffsetNanos;
    boolean wallFrozen;
    private long frozenAt;
    final Clock wall = io.pinhole.sim.VirtualClock.of(() -> WALL_START.plusNanos((wallFrozen ? frozenAt : now - PeerHarness.this.origin) + wallOffsetNanos));

    /** When set, a hand-built server answers each REGISTER: CHALLENGE without a cookie, REGISTERED with one. */
    boolean answerRegisters;
    /** When set, every REGISTER is answered by a CHALLENGE, as by a server whose MAC check always fails. */
    boolean challengeEveryRegister;
    /** When set, REGISTERs go to this real server core and its replies come back. */
    Rendezvous server;
    /** The address the rendezvous sees us at (where our REGISTERs come from). */
    InetSocketAddress ourPublic = OUR_PUBLIC;

    /** The partner's WireGuard, fed with what we send to any partner address when {@link #wireGuardLinked}. */
    final WireGuardSession partner;
    boolean wireGuardLinked = true;
    /** Where the partner's datagrams come from. */
    InetSocketAddress partnerAt = PEER_PUBLIC;
    /** The socket of ours the partner's datagrams arrive on (0 = main). */
    int partnerSocket;

    /** How many spare sockets this edge opens when asked (0: none, as an edge without them). */
    int spareOffer;
    /** Whether sends from a spare socket can have their TTL limited. */
    boolean spareTtl = true;
    /** The spare sockets open now. */
    final java.util.SortedSet<Integer> openSpares = new java.util.TreeSet<>();
    /** Addresses this edge reports as inside our own tunnel ({@link PeerOutput#throughTunnel}). */
    final java.util.Set<InetSocketAddress> insideTunnel = new java.util.HashSet<>();
    /** Each request to open spare sockets: how many were asked for. */
    final List<Integer> spareRequests = new ArrayList<>();
    /** While set, what the partner sends is lost. */
    boolean partnerSilent;
    final List<byte[]> partnerDelivered = new ArrayList<>();
    final List<byte[]> partnerSent = new ArrayList<>();
    private final List<byte[]> partnerQueue = new ArrayList<>();
    private final SessionOutput partnerOut = new SessionOutput() {
        @Override
        public void sendToPeer(ByteBuffer datagram) {
            byte[] bytes = WireSamples.bytes(datagram);
            partnerSent.add(bytes);
            if (!partnerSilent) {
                partnerQueue.add(bytes);
            }
        }

        @Override
        public void send(InetSocketAddress to, ByteBuffer datagram) {
            sendToPeer(datagram);
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
            partnerDelivered.add(WireSamples.bytes(ipPacket));
        }

        @Override
        public void authenticated(InetSocketAddress from) {
        }
    };

    private final List<Sent> sent = new ArrayList<>();
    private int forwarded;
    private final List<byte[]> delivered = new ArrayList<>();
    private long punchCounter = 100;

    PeerHarness(long origin, NoisePrivateKey selfKey, PeerConfig config) {
        this.origin = origin;
        this.now = origin;
        this.selfKey = selfKey;
        this.self = selfKey.publicKey();
        this.serverMac = ControlKeys.serverPeer(SERVER_KEY, self);
        this.punchMac = ControlKeys.peerPeer(PEER_KEY, self);
        this.config = config;
        this.machine = new PeerMachine(config, SESSION, WireSamples.seededRandom(origin), wall);
        this.partner = new WireGuardSession(new Identity(PEER_KEY, self, config.presharedKey()),
                WireSamples.seededRandom(origin + 1), wall, SessionTimers.defaults());
    }

    PeerHarness(long origin, PeerConfig config) {
        this(origin, config.key(), config);
    }

    PeerHarness(long origin) {
        this(origin, config(SELF_KEY, null, SessionTimers.defaults()));
    }

    PeerHarness() {
        this(7 * SECOND);
    }

    static PeerConfig config(NoisePrivateKey key, NoisePublicKey rendezvousKey, SessionTimers session) {
        return new PeerConfig(key, PEER, null, RENDEZVOUS, rendezvousKey, null, OUR_LAN, PeerTimers.defaults(),
                session, CLASSIC);
    }

    static PeerConfig configWithStagedLimit(int limit) {
        return config(SELF_KEY, null, new SessionTimers(1420, limit, 32, 4096));
    }

    // ---------------------------------------------------------------- PeerOutput

    @Override
    public void send(InetSocketAddress to, ByteBuffer datagram) {
        record(new Sent(now, to, WireSamples.bytes(datagram)));
    }

    /** Records a datagram sent, and the counter of a probe by its target (kept when the record is taken). */
    private void record(Sent s) {
        sent.add(s);
        if (s.to().equals(RENDEZVOUS) && s.type() == MessageType.REGISTER) {
            lastRegister = (Register) s.message();
        }
        if (s.type() == MessageType.PUNCH && !((Punch) s.message()).ack()) {
            latestProbes.put(s.to(), ((Punch) s.message()).counter());
            latestProbe = ((Punch) s.message()).counter();
        }
    }

    private final java.util.Map<InetSocketAddress, Long> latestProbes = new java.util.HashMap<>();
    private long latestProbe;

    @Override
    public void deliver(ByteBuffer ipPacket) {
        delivered.add(WireSamples.bytes(ipPacket));
    }

    @Override
    public int openSpareSockets(int n) {
        spareRequests.add(n);
        openSpares.clear();
        for (int id = 1; id <= Math.min(n, spareOffer); id++) {
            openSpares.add(id);
        }
        return openSpares.size();
    }

    @Override
    public boolean sendFrom(int socket, InetSocketAddress to, ByteBuffer datagram, int ttl) {
        if (socket == 0) {
            return PeerOutput.super.sendFrom(socket, to, datagram, ttl);
        }
        if (!openSpares.contains(socket)) {
            throw new AssertionError("sent from spare socket " + socket + ", which is not open: " + openSpares);
        }
        if (ttl != 0 && !spareTtl) {
            return false;
        }
        record(new Sent(now, to, WireSamples.bytes(datagram), socket, ttl));
        return true;
    }

    @Override
    public boolean throughTunnel(InetSocketAddress address) {
        return insideTunnel.contains(address);
    }

    @Override
    public void closeSpareSockets(int keep) {
        openSpares.removeIf(id -> id != keep);
    }

    // ---------------------------------------------------------------- driving

    PeerHarness start() {
        machine.start(now, this);
        serve();
        pump();
        return this;
    }

    /** Lets {@code duration} pass, ticking both WireGuard sides every 50 ms; the server answers if asked to. */
    void advance(Duration duration) {
        long end = now + duration.toNanos();
        while (end - now > 0) {
            now += Math.min(TICK, end - now);
            machine.onTick(now, this);
            partner.tick(now, partnerOut);
            serve();
            pump();
        }
    }

    void advanceMillis(long millis) {
        advance(Duration.ofMillis(millis));
    }

    /** Virtual milliseconds since the origin. */
    long elapsedMillis(long at) {
        return (at - origin) / MS;
    }

    void freezeWallClock() {
        frozenAt = now - origin;
        wallFrozen = true;
    }

    void receive(InetSocketAddress from, byte[] datagram) {
        receive(0, from, datagram);
    }

    /** A datagram arrives on our socket {@code socket} (0 = main). */
    void receive(int socket, InetSocketAddress from, byte[] datagram) {
        machine.onDatagram(now, socket, from, ByteBuffer.wrap(datagram), this);
        serve();
        pump();
    }

    void receive(InetSocketAddress from, ControlMessage message, byte[] macKey) {
        receive(from, WireSamples.bytes(message.encode(macKey)));
    }

    /** Answers REGISTERs sent since the last call, by the real core or the hand-built server. */
    private void serve() {
        int from = servedUpTo;
        servedUpTo = sent.size();
        for (Sent s : new ArrayList<>(sent.subList(from, sent.size()))) {
            if (!s.to().equals(RENDEZVOUS) || s.type() != MessageType.REGISTER && s.type() != MessageType.LEAVE) {
                continue;
            }
            if (server != null) {
                server.onDatagram(now, ourPublic, ByteBuffer.wrap(s.bytes()), (to, datagram) -> {
                    if (to.equals(ourPublic)) {
                        machine.onDatagram(now, RENDEZVOUS, datagram, this);
                    } else {
                        serverToOthers.add(WireSamples.bytes(datagram));
                    }
                });
            } else if (challengeEveryRegister && s.type() == MessageType.REGISTER) {
                challenge(SERVER, ((Register) s.message()).nonce());
            } else if (answerRegisters && s.type() == MessageType.REGISTER) {
                Register register = (Register) s.message();
                if (java.util.Arrays.equals(register.cookie(), new byte[16])) {
                    challenge(SERVER, register.nonce());
                } else {
                    receive(RENDEZVOUS, registeredFor(register), serverMac);
                }
            }
        }
        if (servedUpTo < sent.size()) {
            serve(); // the answers may have caused more REGISTERs
        }
    }

    private int servedUpTo;
    /** What the real server sent to addresses other than ours (to the partner). */
    final List<byte[]> serverToOthers = new ArrayList<>();

    /** Moves WireGuard datagrams both ways between the machine and the partner until none are left. */
    void pump() {
        if (!wireGuardLinked) {
            forwarded = sent.size();
            return;
        }
        for (int rounds = 0; rounds < 100; rounds++) {
            boolean moved = false;
            while (forwarded < sent.size()) {
                Sent s = sent.get(forwarded++);
                if (isPartnerAddress(s.to()) && s.type() != null && s.type().isWireGuard()) {
                    partner.receive(now, ourPublic, ByteBuffer.wrap(s.bytes()), partnerOut);
                    moved = true;
                }
            }
            List<byte[]> queued = new ArrayList<>(partnerQueue);
            partnerQueue.clear();
            for (byte[] d : queued) {
                machine.onDatagram(now, partnerSocket, partnerAt, ByteBuffer.wrap(d), this);
                moved = true;
            }
            serve();
            if (!moved) {
                return;
            }
        }
        throw new AssertionError("WireGuard ping-pong does not settle");
    }

    static boolean isPartnerAddress(InetSocketAddress a) {
        return a.equals(PEER_PUBLIC) || a.equals(PEER_LAN) || a.equals(PEER_ROAMED);
    }

    // ---------------------------------------------------------------- the server's messages

    /** The latest REGISTER we sent (kept across {@link #takeSent}). */
    Register lastRegister() {
        if (lastRegister == null) {
            throw new AssertionError("we sent no REGISTER");
        }
        return lastRegister;
    }

    private Register lastRegister;
    /** The partner's REGISTER timestamps, as the hand-built server reports them: one newer per PEER_INFO. */
    private long partnerTimestamp = 1_700_000_000_000_000L;

    /** A CHALLENGE from the server with {@code serverKey}, answering our latest REGISTER. */
    void challenge(NoisePublicKey serverKey) {
        challenge(serverKey, lastRegister().nonce());
    }

    void challenge(NoisePublicKey serverKey, byte[] nonce) {
        receive(RENDEZVOUS, new Challenge(serverKey, COOKIE, nonce), null);
    }

    void challenge() {
        challenge(SERVER);
    }

    /** The REGISTERED the server would send for {@code register}, seeing us at {@link #OUR_PUBLIC}. */
    static Registered registeredFor(Register register) {
        return new Registered(SESSION, register.timestamp(), 20, OUR_PUBLIC);
    }

    /** A REGISTERED answering our latest REGISTER. */
    void registered() {
        receive(RENDEZVOUS, registeredFor(lastRegister()), serverMac);
    }

    void peerInfo() {
        peerInfo(PEER_SESSION, PEER_PUBLIC, List.of(PEER_LAN));
    }

    /** A PEER_INFO answering our latest REGISTER, reporting a newer REGISTER of the partner than the last. */
    void peerInfo(long session, InetSocketAddress observed, List<InetSocketAddress> candidates) {
        receive(RENDEZVOUS, WireSamples.bytes(peerInfoMessage(session, observed, candidates).encode(serverMac)));
    }

    /** The PEER_INFO {@link #peerInfo(long, InetSocketAddress, List)} would send, not sent. */
    PeerInfo peerInfoMessage(long session, InetSocketAddress observed, List<InetSocketAddress> candidates) {
        return new PeerInfo(SESSION, lastRegister().timestamp(), PEER, session, ++partnerTimestamp, observed,
                candidates);
    }

    // ---------------------------------------------------------------- the partner's messages

    /** A probe of the partner (a new counter each time), as bytes, not sent. */
    byte[] probeFromPeer() {
        return WireSamples.bytes(new Punch(PEER, self, PEER_SESSION, SESSION, ++punchCounter, false).encode(punchMac));
    }

    /** An ack by the partner to our probe number {@code counter}, as bytes, not sent. */
    byte[] ackFromPeer(long counter) {
        return WireSamples.bytes(new Punch(PEER, self, PEER_SESSION, SESSION, counter, true).encode(punchMac));
    }

    /** The counter of our latest probe. */
    long ourLatestProbe() {
        return ourLatestProbe(null);
    }

    /** The counter of our latest probe to {@code target} (any target if null); each probe goes to one address. */
    long ourLatestProbe(InetSocketAddress target) {
        Long counter = target == null ? (latestProbe == 0 ? null : latestProbe) : latestProbes.get(target);
        if (counter == null) {
            throw new AssertionError("we sent no probe" + (target == null ? "" : " to " + target));
        }
        return counter;
    }

    void probeFromPeer(InetSocketAddress from) {
        receive(from, probeFromPeer());
    }

    void ackFromPeer(InetSocketAddress from) {
        receive(from, ackFromPeer(ourLatestProbe(from)));
    }

    void tun(byte[] packet) {
        machine.onTunPacket(now, ByteBuffer.wrap(packet), this);
        serve();
        pump();
    }

    /** The partner starts a WireGuard handshake (from {@link #partnerAt}), as it does once a path is proven to it. */
    void partnerInitiates() {
        partner.initiate(now, partnerOut, true);
        pump();
    }

    /** The partner sends an IP packet through its WireGuard (it must have a keypair). */
    void partnerSends(byte[] packet) {
        partner.send(now, ByteBuffer.wrap(packet), partnerOut);
        pump();
    }

    /**
     * Registered, told of the partner, a probe of the partner answered and the partner's ack to
     * our probe there received (the proof that opens a path): the path is open.
     */
    PeerHarness pathOpen() {
        start();
        challenge();
        registered();
        peerInfo();
        probeFromPeer(PEER_PUBLIC);
        ackFromPeer(PEER_PUBLIC);
        return this;
    }

    /** The path is open and the WireGuard handshake done: IP packets flow; clears the record. */
    PeerHarness connected() {
        pathOpen();
        if (!machine.tunnelReady()) {
            throw new AssertionError("the tunnel did not come up: " + sent);
        }
        takeSent();
        return this;
    }

    // ---------------------------------------------------------------- observing

    List<Sent> takeSent() {
        List<Sent> taken = List.copyOf(sent);
        sent.clear();
        forwarded = 0;
        servedUpTo = 0;
        return taken;
    }

    List<Sent> sent() {
        return List.copyOf(sent);
    }

    int sentCount() {
        return sent.size();
    }

    /** What was sent after the first {@code count} datagrams (a view, valid until the next call). */
    List<Sent> sentSince(int count) {
        return sent.subList(count, sent.size());
    }

    List<Sent> sentTo(InetSocketAddress to) {
        return sent.stream().filter(s -> s.to().equals(to)).toList();
    }

    List<Sent> sentOfType(MessageType type) {
        return sent.stream().filter(s -> s.type() == type).toList();
    }

    List<byte[]> delivered() {
        return delivered;
    }

    long drops(PeerDrop drop) {
        return machine.drops().getOrDefault(drop, 0L);
    }

    long wireGuardDrops(io.pinhole.wireguard.SessionDrop drop) {
        return machine.wireGuard().drops().getOrDefault(drop, 0L);
    }

    /** Our tunnel address ({@code --local}). */
    static final String OUR_TUNNEL_ADDRESS = "10.10.0.1";
    /** The partner's tunnel address ({@code --remote}): its allowed IPs by default in {@code pinhole up}. */
    static final String PEER_TUNNEL_ADDRESS = "10.10.0.2";

    /**
     * A real IPv4 packet of 20 + n bytes (total length set, as WireGuard strips padding by it) from
     * our tunnel address to the partner's, as a ping from this side.
     */
    static byte[] packet(int n) {
        return ipv4(OUR_TUNNEL_ADDRESS, PEER_TUNNEL_ADDRESS, n);
    }

    /** {@link #packet(int)} the other way: from the partner's tunnel address to ours. */
    static byte[] peerPacket(int n) {
        return ipv4(PEER_TUNNEL_ADDRESS, OUR_TUNNEL_ADDRESS, n);
    }

    /** An IPv4 packet of 20 + n bytes from {@code source} to {@code destination} (literals). */
    static byte[] ipv4(String source, String destination, int n) {
        byte[] p = new byte[20 + n];
        p[0] = 0x45;
        p[2] = (byte) ((20 + n) >>> 8);
        p[3] = (byte) (20 + n);
        p[8] = 64;
        System.arraycopy(address(source, 4), 0, p, 12, 4);
        System.arraycopy(address(destination, 4), 0, p, 16, 4);
        if (n > 0) {
            p[20] = (byte) n;
        }
        return p;
    }

    /** An IPv6 packet with a payload of n bytes (payload length set) from {@code source} to {@code destination}. */
    static byte[] ipv6(String source, String destination, int n) {
        byte[] p = new byte[40 + n];
        p[0] = 0x60;
        p[4] = (byte) (n >>> 8);
        p[5] = (byte) n;
        p[6] = 58; // ICMPv6
        p[7] = (byte) 255;
        System.arraycopy(address(source, 16), 0, p, 8, 16);
        System.arraycopy(address(destination, 16), 0, p, 24, 16);
        return p;
    }

    private static byte[] address(String literal, int length) {
        try {
            byte[] a = java.net.InetAddress.getByName(literal).getAddress();
            if (a.length != length) {
                throw new IllegalArgumentException(literal + " is not " + length + " bytes long");
            }
            return a;
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
