package io.pinhole.sim;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.rendezvous.Rendezvous;
import io.pinhole.rendezvous.RendezvousConfig;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * SimRendezvous: the real {@link Rendezvous} core on a simulated public host. It can be stopped
 * (datagrams to it vanish) and started again with an empty table, as a restarted server: with
 * its key, as {@code pinhole-rendezvous} keeps it in its state directory ({@link #start}), or
 * with a new one, as a server that lost its key file ({@link #startWithNewKey}).
 */
public final class SimRendezvous {
    private final SimNetwork net;
    private final SimNetwork.Host host;
    private final int port;
    private final RendezvousConfig config;
    private Rendezvous core;
    private NoisePrivateKey key;
    private long generation;

    public SimRendezvous(SimNetwork net, SimNetwork.Host host, int port, RendezvousConfig config) {
        this.net = net;
        this.host = host;
        this.port = port;
        this.config = config;
        this.key = NoisePrivateKey.generate(net.secureRandom());
        start();
    }

    /** Starts (or restarts) with an empty registration table and the same server key. */
    public void start() {
        core = new Rendezvous(config, key, net.secureRandom());
        long mine = ++generation;
        net.attach(host, (now, from, to, datagram) -> {
            if (to.getPort() == port) {
                core.onDatagram(now, from, datagram, (dst, bytes) -> net.send(host, port, dst, bytes));
            }
        });
        expireLoop(mine);
    }

    /** Restarts with an empty registration table and a new server key. */
    public void startWithNewKey() {
        key = NoisePrivateKey.generate(net.secureRandom());
        start();
    }

    private void expireLoop(long mine) {
        net.schedule(Duration.ofSeconds(1), () -> {
            if (generation == mine && core != null) {
                core.expire(net.now());
                expireLoop(mine);
            }
        });
    }

    /** Stops: the host stops answering and the table is lost. */
    public void stop() {
        generation++;
        core = null;
        net.attach(host, (now, from, to, datagram) -> { });
    }

    public InetSocketAddress endpoint() {
        return new InetSocketAddress(host.address(), port);
    }

    public NoisePrivateKey key() {
        return key;
    }

    public Rendezvous core() {
        return core;
    }
}
