package io.pinhole.sim;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.peer.PeerConfig;
import io.pinhole.peer.PeerMachine;
import io.pinhole.peer.PeerOutput;
import io.pinhole.peer.PeerState;
import io.pinhole.peer.PeerTimers;
import io.pinhole.peer.Traversal;
import io.pinhole.wireguard.SessionTimers;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SimPeer: the real {@link PeerMachine} on a simulated host, with a stand-in TUN device: IP
 * packets are injected with {@link #sendIp(byte[])} and what the machine delivers is collected.
 * It can be killed (no LEAVE, silent) and restarted with a new session, as a crashed client.
 *
 * <p>Spare sockets ({@link PeerOutput#openSpareSockets}) are further ports on the same host,
 * taken in turn from {@value #FIRST_SPARE_PORT} up; what arrives on one goes to the machine with
 * its id. {@link #spareSockets()} says how many are open.
 */
public final class SimPeer {
    private static final Duration TICK = Duration.ofMillis(50);
    private static final int FIRST_SPARE_PORT = 20_000;
    private static final int LAST_SPARE_PORT = 60_000;

    private final SimNetwork net;
    private final SimNetwork.Host host;
    private final NoisePrivateKey key;
    private final NoisePublicKey peerKey;
    private final InetSocketAddress rendezvous;
    private final PeerTimers timers;
    private Traversal traversal = Traversal.defaults();
    private final List<byte[]> delivered = new ArrayList<>();
    private int port;
    private InetSocketAddress staticEndpoint;
    private PeerMachine machine;
    private long generation;
    /** Open spare sockets: id to local port, and back. */
    private final Map<Integer, Integer> sparePorts = new HashMap<>();
    private final Map<Integer, Integer> spareIds = new HashMap<>();
    private int nextSparePort = FIRST_SPARE_PORT;
    private int mostSpares;

    private final PeerOutput output = new PeerOutput() {
        @Override
        public void send(InetSocketAddress to, ByteBuffer datagram) {
            net.send(host, port, to, datagram);
        }

        @Override
        public boolean sendWithTtl(InetSocketAddress to, ByteBuffer datagram, int ttl) {
            net.send(host, port, to, datagram, ttl);
            return true;
        }

        @Override
        public int openSpareSockets(int n) {
            closeSpareSockets(0);
            for (int id = 1; id <= n; id++) {
                int local = nextSparePort++;
                if (local == port) {
                    local = nextSparePort++;
                }
                if (nextSparePort > LAST_SPARE_PORT) {
                    nextSparePort = FIRST_SPARE_PORT;
                }
                sparePorts.put(id, local);
                spareIds.put(local, id);
            }
            mostSpares = Math.max(mostSpares, n);
            return n;
        }

        @Override
        public boolean sendFrom(int socket, InetSocketAddress to, ByteBuffer datagram, int ttl) {
            Integer local = socket == 0 ? Integer.valueOf(port) : sparePorts.get(socket);
            if (local == null) {
                return false;
            }
            net.send(host, local, to, datagram, ttl == 0 ? 64 : ttl);
            return true;
        }

        @Override
        public void closeSpareSockets(int keep) {
            sparePorts.entrySet().removeIf(e -> e.getKey() != keep);
            spareIds.entrySet().removeIf(e -> e.getValue() != keep);
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
            byte[] bytes = new byte[ipPacket.remaining()];
            ipPacket.duplicate().get(bytes);
            delivered.add(bytes);
        }
    };

    public SimPeer(SimNetwork net, SimNetwork.Host host, int port, NoisePrivateKey key, NoisePublicKey peerKey,
                   InetSocketAddress rendezvous, PeerTimers timers) {
        this.net = net;
        this.host = host;
        this.port = port;
        this.key = key;
        this.peerKey = peerKey;
        this.rendezvous = rendezvous;
        this.timers = timers;
    }

    /** Other traversal choices (from the next start). */
    public SimPeer withTraversal(Traversal choices) {
        this.traversal = choices;
        return this;
    }

    /** Static mode: no rendezvous, the partner is contacted at {@code endpoint}. */
    public SimPeer withStaticEndpoint(InetSocketAddress endpoint) {
        this.staticEndpoint = endpoint;
        return this;
    }

    /** Starts a new session on {@code port}. */
    public SimPeer start() {
        long mine = ++generation;
        long session = net.random().nextLong() | 1;
        PeerConfig config = new PeerConfig(key, peerKey, null, staticEndpoint != null ? null : rendezvous, null,
                staticEndpoint,
                List.of(new InetSocketAddress(host.address(), port)), timers, SessionTimers.defaults(),
                traversal);
        machine = new PeerMachine(config, session, net.secureRandom(), net.wallClock());
        sparePorts.clear();
        spareIds.clear();
        net.attach(host, (now, from, to, datagram) -> {
            if (generation != mine) {
                return;
            }
            Integer spare = spareIds.get(to.getPort());
            if (to.getPort() == port) {
                machine.onDatagram(now, from, datagram, output);
            } else if (spare != null) {
                machine.onDatagram(now, spare, from, datagram, output);
            }
        });
        machine.start(net.now(), output);
        tickLoop(mine);
        return this;
    }

    private void tickLoop(long mine) {
        net.schedule(TICK, () -> {
            if (generation == mine) {
                machine.onTick(net.now(), output);
                tickLoop(mine);
            }
        });
    }

    /** Dies without a word (SIGKILL). */
    public void kill() {
        generation++;
    }

    /** Leaves cleanly (SIGTERM) and stops. */
    public void leave() {
        machine.leave(net.now(), output);
        generation++;
    }

    /** Kills this session and starts a new one, on {@code newPort}. */
    public void restart(int newPort) {
        kill();
        this.port = newPort;
        start();
    }

    /** Injects an IP packet as if read from the TUN device. */
    public void sendIp(byte[] packet) {
        machine.onTunPacket(net.now(), ByteBuffer.wrap(packet), output);
    }

    public List<byte[]> delivered() {
        return delivered;
    }

    public PeerMachine machine() {
        return machine;
    }

    /** True when WireGuard is up on a working path: IP packets flow. */
    public boolean connected() {
        return machine.state() == PeerState.CONNECTED && machine.tunnelReady();
    }

    /** Spare sockets open now. */
    public int spareSockets() {
        return sparePorts.size();
    }

    /** The most spare sockets open at once so far. */
    public int mostSpareSockets() {
        return mostSpares;
    }

    public NoisePublicKey publicKey() {
        return key.publicKey();
    }
}
