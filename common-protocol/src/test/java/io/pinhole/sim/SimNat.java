package io.pinhole.sim;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;

/**
 * SimNat: a UDP NAT in the simulated network, in RFC 4787 terms.
 *
 * <p>Mapping is endpoint-independent (one public port per private endpoint, port preserved when
 * free, like Linux masquerade) or {@link Behaviour#SYMMETRIC} (a new random port per
 * destination). Filtering is address-and-port-dependent: inbound passes only from a remote
 * endpoint the private side has sent to. What happens to unsolicited inbound depends on the
 * behaviour: {@link Behaviour#HOME} drops it (an input filter, as home routers do);
 * {@link Behaviour#OPEN} lets the router's own stack take it, which, as Linux conntrack does,
 * records the tuple so that the private peer's later packet to that remote clashes and gets a
 * different public port. Mappings expire after {@link #timeoutNanos} idle; {@link #flush()}
 * forgets them all (conntrack -F).
 *
 * <p>Not thread-safe; the simulated network is single-threaded.
 */
public final class SimNat {
    /** How the NAT behaves; see the class comment. */
    public enum Behaviour { HOME, OPEN, SYMMETRIC }

    private record Flow(InetSocketAddress inside, InetSocketAddress remote) {
    }

    private static final class Mapping {
        final InetSocketAddress inside;
        final InetSocketAddress remote;
        final int publicPort;
        long lastUsed;

        Mapping(InetSocketAddress inside, InetSocketAddress remote, int publicPort, long now) {
            this.inside = inside;
            this.remote = remote;
            this.publicPort = publicPort;
            this.lastUsed = now;
        }
    }

    private final String name;
    private final InetAddress publicAddress;
    private final Behaviour behaviour;
    private final Random random;
    private final long timeoutNanos;
    private final Map<Flow, Mapping> byFlow = new HashMap<>();
    /** Tuples (remote, public port) the router's own stack has seen (OPEN only). */
    private final Map<InetSocketAddress, Integer> localTuples = new HashMap<>();
    private long dropped;

    SimNat(String name, InetAddress publicAddress, Behaviour behaviour, Random random, long timeoutNanos) {
        this.name = name;
        this.publicAddress = publicAddress;
        this.behaviour = behaviour;
        this.random = random;
        this.timeoutNanos = timeoutNanos;
    }

    public String name() {
        return name;
    }

    public InetAddress publicAddress() {
        return publicAddress;
    }

    /** Outbound: the public source for a packet from {@code inside} to {@code remote}. */
    InetSocketAddress outbound(long now, InetSocketAddress inside, InetSocketAddress remote) {
        expire(now);
        Flow flow = new Flow(inside, remote);
        Mapping m = byFlow.get(flow);
        if (m == null) {
            m = findEndpointIndependent(inside);
            if (m == null || behaviour == Behaviour.SYMMETRIC) {
                m = new Mapping(inside, remote, choosePort(inside.getPort(), remote), now);
            } else {
                int port = m.publicPort;
                Integer clash = localTuples.get(remote);
                if (clash != null && clash == port) {
                    port = choosePort(port + 1, remote); // conntrack clash: masquerade picks another port
                }
                m = new Mapping(inside, remote, port, now);
            }
            byFlow.put(flow, m);
        }
        m.lastUsed = now;
        return new InetSocketAddress(publicAddress, m.publicPort);
    }

    /** Inbound: the private destination for a packet from {@code remote} to public {@code port}, or null. */
    InetSocketAddress inbound(long now, InetSocketAddress remote, int port) {
        expire(now);
        for (Mapping m : byFlow.values()) {
            if (m.publicPort == port && m.remote.equals(remote)) {
                m.lastUsed = now;
                return m.inside;
            }
        }
        dropped++;
        if (behaviour == Behaviour.OPEN) {
            localTuples.put(remote, port); // the router's stack answered; its conntrack entry stays
        }
        return null;
    }

    private Mapping findEndpointIndependent(InetSocketAddress inside) {
        for (Mapping m : byFlow.values()) {
            if (m.inside.equals(inside)) {
                return m;
            }
        }
        return null;
    }

    private int choosePort(int preferred, InetSocketAddress remote) {
        int port = behaviour == Behaviour.SYMMETRIC ? 1024 + random.nextInt(64_000) : preferred;
        while (portTaken(port, remote)) {
            port = 1024 + random.nextInt(64_000);
        }
        return port;
    }

    private boolean portTaken(int port, InetSocketAddress remote) {
        Integer local = localTuples.get(remote);
        if (local != null && local == port) {
            return true;
        }
        for (Mapping m : byFlow.values()) {
            if (m.publicPort == port && m.remote.equals(remote)) {
                return true;
            }
        }
        return false;
    }

    private void expire(long now) {
        Iterator<Mapping> it = byFlow.values().iterator();
        while (it.hasNext()) {
            if (now - it.next().lastUsed >= timeoutNanos) {
                it.remove();
            }
        }
    }

    /** Forgets every mapping, as {@code conntrack -F} does. */
    public void flush() {
        byFlow.clear();
        localTuples.clear();
    }

    /** Inbound packets dropped for want of a mapping. */
    public long dropped() {
        return dropped;
    }

    /** How many mappings exist now. */
    public int mappings() {
        return byFlow.size();
    }
}
