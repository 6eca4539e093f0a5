package io.pinhole.device;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.drops.DropCounters;
import io.pinhole.peer.PeerConfig;
import io.pinhole.peer.PeerMachine;
import io.pinhole.peer.PeerOutput;
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
import io.pinhole.wire.Relay;
import io.pinhole.wireguard.DecryptedInitiation;
import io.pinhole.wireguard.GateDrop;
import io.pinhole.wireguard.InitiationGate;
import io.pinhole.wireguard.Messages;
import io.pinhole.wireguard.SessionTimers;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Device: one WireGuard identity (one static key) with N peers behind ONE UDP socket and ONE TUN
 * device: one {@link PeerMachine} per partner, each with its own registration at the rendezvous
 * server, its own punching, path and WireGuard session, all sharing the socket. Pure, as the
 * machines: no socket, no TUN, no clock; the edge calls {@link #start}, {@link #onDatagram},
 * {@link #onTunPacket} and {@link #onTick} (every 50-100 ms) with monotonic nanoseconds and
 * its {@link PeerOutput}, and {@link #leave} at the end.
 *
 * <p>Incoming datagrams (the demultiplexer) go to the one machine they are for, decided from the
 * datagram alone:
 * <ul>
 *   <li>WireGuard handshake initiation (type 1): admitted (mac1; under load, mac2 or a cookie
 *       reply) and decrypted ONCE for the device by an {@link InitiationGate}; the initiator's
 *       static key names the peer ({@link PeerMachine#onInitiation}). Another key:
 *       {@link DeviceDrop#UNKNOWN_INITIATOR}.
 *   <li>Handshake response, cookie reply, transport message (types 2-4): by receiver index.
 *       Every session's local indices come from the device's allocator, so an index names one
 *       session across the device ({@link io.pinhole.wireguard.WireGuardSession#ownsIndex}).
 *       None: {@link DeviceDrop#UNKNOWN_INDEX}.
 *   <li>PUNCH (probes and acks) and LEAVE: by sender key ({@link DeviceDrop#UNKNOWN_SENDER}).
 *   <li>From the rendezvous server only ({@link DeviceDrop#NOT_FROM_RENDEZVOUS}): REGISTERED and
 *       PEER_INFO by the session they answer (each machine has a session id of its own,
 *       {@link DeviceDrop#UNKNOWN_SESSION}); CHALLENGE by the nonce it echoes, which the device
 *       learnt from each machine's outgoing REGISTERs (the last {@value #NONCES} per machine;
 *       {@link DeviceDrop#UNKNOWN_NONCE}); RELAY by its payload, with the rules above (the frame
 *       itself goes to the machine, which unwraps it).
 *   <li>Anything else (a REGISTER, an unknown type, a truncated message): {@link DeviceDrop#MALFORMED}
 *       or {@link DeviceDrop#UNSUPPORTED_TYPE}.
 * </ul>
 * What a machine then refuses (a bad MAC, a replay, a stale probe) it counts itself.
 *
 * <p>Outgoing IP packets from the TUN device go to the peer whose allowed IPs hold the
 * destination, longest prefix first ({@link DeviceRoutes}; none: {@link DeviceDrop#NO_ROUTE});
 * a decrypted packet is delivered to the TUN device only if its source is in that peer's allowed
 * IPs (the machine checks).
 *
 * <p>All peers must use the same rendezvous server (or none), and the device's key. Each machine
 * gets its own random session id (the rendezvous server keeps one registration per key and
 * wanted partner, see {@link io.pinhole.rendezvous.Rendezvous}). Birthday punching is off in a
 * device (its spare sockets are per machine; the edge's {@code openSpareSockets} is not offered).
 * The relay works for a device with one peer; with several, the server relays a frame of ours to
 * the partner of our latest REGISTER only (a RELAY frame does not name its destination), so a
 * mesh relies on direct paths.
 *
 * <p>Error contract: no datagram or packet makes a method throw; what the device cannot route
 * is dropped and counted in {@link #drops()} by {@link DeviceDrop} reason, initiations refused
 * before decryption in {@link #gateDrops()}. The constructor throws
 * {@link IllegalArgumentException} for an inconsistent configuration.
 *
 * <p>Not thread-safe: the edge serialises all calls (one thread or one lock), as for a machine.
 */
public final class Device {
    /** REGISTER nonces remembered per machine, to route CHALLENGEs. */
    static final int NONCES = 8;

    private final NoisePublicKey self;
    private final InetSocketAddress rendezvous;
    private final PeerMachine[] machines;
    private final NoisePublicKey[] peers;
    private final long[] sessions;
    private final MachineOutput[] outputs;
    private final DeviceRoutes routes;
    private final InitiationGate gate;
    private final SecureRandom random;
    private final DropCounters<DeviceDrop> drops = new DropCounters<>(DeviceDrop.class);
    /** Each machine's last REGISTER nonces, a ring per machine. */
    private final byte[][][] nonces;
    private final int[] nextNonce;
    /** The machine the last index lookup found: checked first (one busy peer is the common case). */
    private int lastIndexed;

    /**
     * @param key the device's static key (one WireGuard identity for all its peers)
     * @param peers one config per partner, each with {@code key} as its key; the same rendezvous
     *     server (or none) for all; distinct partners
     * @param random randomness for sessions, WireGuard and REGISTER nonces
     * @param wall wall-clock time for timestamps
     * @throws IllegalArgumentException if {@code peers} is empty or inconsistent as said above
     */
    public Device(NoisePrivateKey key, List<PeerConfig> peers, SecureRandom random, Clock wall) {
        this(key, peers, random, wall, new DeviceLinearRoutes(peers.stream().map(PeerConfig::allowedIps).toList()));
    }

    /** As {@link #Device(NoisePrivateKey, List, SecureRandom, Clock)}, with another routing table over the same peers. */
    public Device(NoisePrivateKey key, List<PeerConfig> peers, SecureRandom random, Clock wall, DeviceRoutes routes) {
        if (peers.isEmpty()) {
            throw new IllegalArgumentException("a device needs at least one peer");
        }
        this.self = key.publicKey();
        this.rendezvous = peers.get(0).rendezvous();
        this.random = random;
        this.routes = routes;
        int n = peers.size();
        this.machines = new PeerMachine[n];
        this.peers = new NoisePublicKey[n];
        this.sessions = new long[n];
        this.outputs = new MachineOutput[n];
        this.nonces = new byte[n][NONCES][];
        this.nextNonce = new int[n];
        Set<NoisePublicKey> seen = new HashSet<>();
        Set<Long> sessionIds = new HashSet<>();
        SessionTimers timers = peers.get(0).session();
        for (int i = 0; i < n; i++) {
            PeerConfig config = peers.get(i);
            if (!config.key().publicKey().equals(self)) {
                throw new IllegalArgumentException("peer " + i + " has another key than the device's");
            }
            if (!Objects.equals(config.rendezvous(), rendezvous)) {
                throw new IllegalArgumentException("peer " + i + " uses another rendezvous server than peer 0");
            }
            if (!seen.add(config.peer())) {
                throw new IllegalArgumentException("peer " + config.peer().shortId() + " is configured twice");
            }
            long session;
            do {
                session = random.nextLong();
            } while (session == 0 || !sessionIds.add(session));
            this.peers[i] = config.peer();
            this.sessions[i] = session;
            this.outputs[i] = new MachineOutput(i);
            this.machines[i] = new PeerMachine(config, session, random, wall,
                    this::newIndex);
        }
        this.gate = new InitiationGate(key, random, timers);
    }

    // ------------------------------------------------------------------ edge calls

    /** Starts every peer (registration, or its static endpoint). */
    public void start(long now, PeerOutput out) {
        for (int i = 0; i < machines.length; i++) {
            machines[i].start(now, outputs[i].to(out));
        }
    }

    /** Runs every peer's timers. Call every 50-100 ms. */
    public void onTick(long now, PeerOutput out) {
        for (int i = 0; i < machines.length; i++) {
            machines[i].onTick(now, outputs[i].to(out));
        }
    }

    /** Every peer leaves (tells the server and its partner), and the gate's cookie secret is zeroed. */
    public void leave(long now, PeerOutput out) {
        for (int i = 0; i < machines.length; i++) {
            machines[i].leave(now, outputs[i].to(out));
        }
        gate.close();
    }

    /** Handles one IP packet read from the TUN device: to the peer whose allowed IPs hold its destination. */
    public void onTunPacket(long now, ByteBuffer packet, PeerOutput out) {
        int peer = routes.lookup(packet);
        if (peer == DeviceRoutes.NOT_IP) {
            drops.count(DeviceDrop.NOT_IP);
            return;
        }
        if (peer == DeviceRoutes.NO_PEER) {
            drops.count(DeviceDrop.NO_ROUTE);
            return;
        }
        machines[peer].onTunPacket(now, packet, outputs[peer].to(out));
    }

    /** Handles one UDP datagram that arrived from {@code from} on the device's socket: to the peer it is for. */
    public void onDatagram(long now, InetSocketAddress from, ByteBuffer datagram, PeerOutput out) {
        try {
            MessageType type = Header.peekType(datagram);
            if (type.isWireGuard()) {
                int peer = wireGuardPeer(now, from, false, datagram, out);
                if (peer >= 0) {
                    machines[peer].onDatagram(now, from, datagram, outputs[peer].to(out));
                }
                return;
            }
            if (type == MessageType.RELAY) {
                onRelay(now, from, datagram, out);
                return;
            }
            int peer = controlPeer(from, ControlMessage.decode(datagram.duplicate()));
            if (peer >= 0) {
                machines[peer].onDatagram(now, from, datagram, outputs[peer].to(out));
            }
        } catch (MalformedMessageException e) {
            drops.count(DeviceDrop.MALFORMED);
        }
    }

    /** A RELAY frame: only from the server; routed by its payload, and handed on whole. */
    private void onRelay(long now, InetSocketAddress from, ByteBuffer frame, PeerOutput out)
            throws MalformedMessageException {
        if (!fromServer(from)) {
            return;
        }
        ByteBuffer payload = Relay.unwrap(frame);
        MessageType type = Header.peekType(payload);
        int peer = type.isWireGuard() ? wireGuardPeer(now, from, true, payload, out)
                : controlPeer(null, ControlMessage.decode(payload.duplicate()));
        if (peer >= 0) {
            machines[peer].onDatagram(now, from, frame, outputs[peer].to(out));
        }
    }

    /**
     * The peer a WireGuard message is for, or -1: an initiation is handed to its peer here
     * (decrypted once) and -1 returned; the others by receiver index. Counts what it drops.
     */
    private int wireGuardPeer(long now, InetSocketAddress from, boolean relayed, ByteBuffer datagram, PeerOutput out) {
        int type = Messages.typeOf(datagram);
        if (type == Messages.TYPE_INITIATION) {
            DecryptedInitiation initiation = gate.admit(now, from, datagram, out);
            if (initiation != null) {
                int peer = peerOf(initiation.initiator());
                if (peer < 0) {
                    initiation.wipe();
                    drops.count(DeviceDrop.UNKNOWN_INITIATOR);
                } else {
                    machines[peer].onInitiation(now, 0, from, relayed, initiation, outputs[peer].to(out));
                }
            }
            return -1;
        }
        // the receiver index: after the sender's in a response, right after the type in the others
        int at = type == Messages.TYPE_RESPONSE ? Messages.RESPONSE_RECEIVER : Messages.TRANSPORT_RECEIVER;
        if (datagram.remaining() < at + 4 || type < Messages.TYPE_RESPONSE || type > Messages.TYPE_TRANSPORT) {
            drops.count(DeviceDrop.MALFORMED);
            return -1;
        }
        int p = datagram.position() + at - 4;
        int receiver = datagram.get(p + 4) & 0xff | (datagram.get(p + 5) & 0xff) << 8
                | (datagram.get(p + 6) & 0xff) << 16 | (datagram.get(p + 7) & 0xff) << 24;
        int peer = ownerOf(receiver);
        if (peer < 0) {
            drops.count(DeviceDrop.UNKNOWN_INDEX);
        }
        return peer;
    }

    /**
     * The peer a control message is for, or -1 (counted). {@code from} is null for the payload of
     * a RELAY frame (already known to come from the server, and never a server message).
     */
    private int controlPeer(InetSocketAddress from, ControlMessage message) {
        if (message instanceof Punch punch) {
            return senderPeer(punch.sender());
        }
        if (message instanceof Leave leave) {
            return senderPeer(leave.sender());
        }
        if (from == null || !(message instanceof Challenge || message instanceof Registered
                || message instanceof PeerInfo)) {
            drops.count(DeviceDrop.UNSUPPORTED_TYPE);
            return -1;
        }
        if (!fromServer(from)) {
            return -1;
        }
        if (message instanceof Challenge challenge) {
            int peer = nonceOwner(challenge.nonce());
            if (peer < 0) {
                drops.count(DeviceDrop.UNKNOWN_NONCE);
            }
            return peer;
        }
        long session = message instanceof Registered registered ? registered.session() : ((PeerInfo) message).session();
        for (int i = 0; i < sessions.length; i++) {
            if (sessions[i] == session) {
                return i;
            }
        }
        drops.count(DeviceDrop.UNKNOWN_SESSION);
        return -1;
    }

    private int senderPeer(NoisePublicKey sender) {
        int peer = peerOf(sender);
        if (peer < 0) {
            drops.count(DeviceDrop.UNKNOWN_SENDER);
        }
        return peer;
    }

    private boolean fromServer(InetSocketAddress from) {
        if (rendezvous == null || !rendezvous.equals(from)) {
            drops.count(DeviceDrop.NOT_FROM_RENDEZVOUS);
            return false;
        }
        return true;
    }

    private int peerOf(NoisePublicKey key) {
        for (int i = 0; i < peers.length; i++) {
            if (peers[i].equals(key)) {
                return i;
            }
        }
        return -1;
    }

    /** The machine whose WireGuard session holds local index {@code index}, or -1. Allocates nothing. */
    private int ownerOf(int index) {
        if (index == 0) {
            return -1;
        }
        if (machines[lastIndexed].wireGuard().ownsIndex(index)) {
            return lastIndexed;
        }
        for (int i = 0; i < machines.length; i++) {
            if (i != lastIndexed && machines[i].wireGuard().ownsIndex(index)) {
                lastIndexed = i;
                return i;
            }
        }
        return -1;
    }

    /** A new local index, non-zero and held by no session of the device (the {@link io.pinhole.wireguard.IndexAllocator}). */
    private int newIndex() {
        for (;;) {
            int index = random.nextInt();
            if (index != 0 && ownerOf(index) < 0) {
                return index;
            }
        }
    }

    private int nonceOwner(byte[] nonce) {
        for (int i = 0; i < nonces.length; i++) {
            for (byte[] mine : nonces[i]) {
                if (mine != null && Arrays.equals(mine, nonce)) {
                    return i;
                }
            }
        }
        return -1;
    }

    /** Notes the nonce of a REGISTER machine {@code peer} sends to the server. */
    private void noteRegister(int peer, ByteBuffer datagram) {
        try {
            if (Header.peekType(datagram) == MessageType.REGISTER
                    && ControlMessage.decode(datagram.duplicate()) instanceof Register register) {
                nonces[peer][nextNonce[peer]] = register.nonce();
                nextNonce[peer] = (nextNonce[peer] + 1) % NONCES;
            }
        } catch (MalformedMessageException e) {
            // not a REGISTER of ours: nothing to note (the machines send only well-formed ones)
        }
    }

    // ------------------------------------------------------------------ observation

    /** The device's public key. */
    public NoisePublicKey publicKey() {
        return self;
    }

    /** The number of peers. */
    public int size() {
        return machines.length;
    }

    /** The machine of peer {@code i} (in the order given), for its state and counters. */
    public PeerMachine machine(int i) {
        return machines[i];
    }

    /** The machine for partner {@code peer}, or null. */
    public PeerMachine machine(NoisePublicKey peer) {
        int i = peerOf(peer);
        return i < 0 ? null : machines[i];
    }

    /** All machines, in the order given. */
    public List<PeerMachine> machines() {
        return List.of(machines);
    }

    /** A snapshot of the device's own drop counters. */
    public Map<DeviceDrop, Long> drops() {
        return drops.snapshot();
    }

    /** A snapshot of the initiation gate's drop counters (refused before or at decryption). */
    public Map<GateDrop, Long> gateDrops() {
        return gate.drops();
    }

    /**
     * One machine's view of the edge: everything passes through to the edge's output, except that
     * REGISTERs to the server are noted (their nonces route CHALLENGEs) and spare sockets are not
     * offered (no birthday punching in a device). Preallocated per machine; pointed at the edge's
     * current output on each call.
     */
    private final class MachineOutput implements PeerOutput {
        private final int peer;
        private PeerOutput edge;

        MachineOutput(int peer) {
            this.peer = peer;
        }

        MachineOutput to(PeerOutput out) {
            this.edge = out;
            return this;
        }

        @Override
        public void send(InetSocketAddress to, ByteBuffer datagram) {
            if (to.equals(rendezvous)) {
                noteRegister(peer, datagram);
            }
            edge.send(to, datagram);
        }

        @Override
        public boolean sendWithTtl(InetSocketAddress to, ByteBuffer datagram, int ttl) {
            return edge.sendWithTtl(to, datagram, ttl);
        }

        @Override
        public boolean sendFrom(int socket, InetSocketAddress to, ByteBuffer datagram, int ttl) {
            if (socket != 0) {
                return false;
            }
            if (to.equals(rendezvous)) {
                noteRegister(peer, datagram);
            }
            return edge.sendFrom(0, to, datagram, ttl);
        }

        @Override
        public boolean throughTunnel(InetSocketAddress address) {
            return edge.throughTunnel(address);
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
            edge.deliver(ipPacket);
        }
    }
}
