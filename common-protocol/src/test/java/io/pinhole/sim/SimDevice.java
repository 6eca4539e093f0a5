package io.pinhole.sim;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.device.Device;
import io.pinhole.peer.AllowedIps;
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
import java.util.List;

/**
 * SimDevice: the real {@link Device} (several peers behind one socket) on a simulated host, with
 * a stand-in TUN device: IP packets are injected with {@link #sendIp(byte[])} and what the device
 * delivers is collected. No spare sockets (a device does no birthday punching).
 */
public final class SimDevice {
    private static final Duration TICK = Duration.ofMillis(50);

    /** One partner of the device: its key and the allowed IPs it holds. */
    public record Partner(NoisePublicKey key, String allowedIps) {
    }

    private final SimNetwork net;
    private final SimNetwork.Host host;
    private final int port;
    private final NoisePrivateKey key;
    private final InetSocketAddress rendezvous;
    private final List<Partner> partners = new ArrayList<>();
    private Traversal traversal = Traversal.defaults();
    private final List<byte[]> delivered = new ArrayList<>();
    private Device device;
    private boolean running;

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
        public void deliver(ByteBuffer ipPacket) {
            byte[] bytes = new byte[ipPacket.remaining()];
            ipPacket.duplicate().get(bytes);
            delivered.add(bytes);
        }
    };

    public SimDevice(SimNetwork net, SimNetwork.Host host, int port, NoisePrivateKey key, InetSocketAddress rendezvous) {
        this.net = net;
        this.host = host;
        this.port = port;
        this.key = key;
        this.rendezvous = rendezvous;
    }

    /** Adds a partner (before {@link #start}). */
    public SimDevice with(NoisePublicKey partner, String allowedIps) {
        partners.add(new Partner(partner, allowedIps));
        return this;
    }

    /** Other traversal choices for every peer (before {@link #start}). */
    public SimDevice withTraversal(Traversal choices) {
        this.traversal = choices;
        return this;
    }

    public SimDevice start() {
        List<PeerConfig> configs = new ArrayList<>();
        for (Partner partner : partners) {
            configs.add(new PeerConfig(key, partner.key(), null, rendezvous, null, null,
                    List.of(new InetSocketAddress(host.address(), port)), PeerTimers.defaults(),
                    SessionTimers.defaults(), traversal).withAllowedIps(AllowedIps.parse(partner.allowedIps())));
        }
        device = new Device(key, configs, net.secureRandom(), net.wallClock());
        net.attach(host, (now, from, to, datagram) -> {
            if (running && to.getPort() == port) {
                device.onDatagram(now, from, datagram, output);
            }
        });
        running = true;
        device.start(net.now(), output);
        tickLoop();
        return this;
    }

    private void tickLoop() {
        net.schedule(TICK, () -> {
            if (running) {
                device.onTick(net.now(), output);
                tickLoop();
            }
        });
    }

    /** Leaves cleanly and stops. */
    public void leave() {
        device.leave(net.now(), output);
        running = false;
    }

    /** Injects an IP packet as if read from the TUN device. */
    public void sendIp(byte[] packet) {
        device.onTunPacket(net.now(), ByteBuffer.wrap(packet), output);
    }

    public List<byte[]> delivered() {
        return delivered;
    }

    public Device device() {
        return device;
    }

    /** The machine for {@code partner}. */
    public PeerMachine machine(NoisePublicKey partner) {
        return device.machine(partner);
    }

    /** True when WireGuard is up to {@code partner} on a working path. */
    public boolean connected(NoisePublicKey partner) {
        PeerMachine m = device.machine(partner);
        return m.state() == PeerState.CONNECTED && m.tunnelReady();
    }

    public NoisePublicKey publicKey() {
        return key.publicKey();
    }
}
