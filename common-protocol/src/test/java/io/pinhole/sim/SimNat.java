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
 * <p>Around that, as the namespace lab's modes (lab/lab.sh):
 * <ul>
 *   <li>an {@link #upstream()} NAT: this NAT's WAN side sits behind another NAT (carrier-grade
 *       NAT, lab mode {@code cgnat}); its public address is then a private one (100.64.0.0/10);
 *   <li>{@link #udpOnlyTo(InetAddress)}: outbound datagrams to any other address are dropped
 *       (lab mode {@code blocked});
 *   <li>{@link #hairpin(boolean)}: a datagram from the LAN to the NAT's own public address is
 *       translated back into the LAN, to the inside endpoint that last used that public port,
 *       with its source translated to the sender's public mapping (lab {@code --hairpin on});
 *       off, it is dropped;
 *   <li>{@link #isolateLan(boolean)}: hosts behind the NAT cannot reach each other's private
 *       address (client isolation, lab {@code --isolate});
 *   <li>{@link #impairWan(double, java.time.Duration)}: loss and extra one-way delay on the
 *       NAT's WAN link, both directions (lab {@code --netem}).
 * </ul>
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
    private InetAddress publicAddress;
    private final Behaviour behaviour;
    private final Random random;
    private final long timeoutNanos;
    private final Map<Flow, Mapping> byFlow = new HashMap<>();
    /** Tuples (remote, public port) the router's own stack has seen (OPEN only). */
    private final Map<InetSocketAddress, Integer> localTuples = new HashMap<>();
    private long dropped;
    private final SimNat upstream;
    private InetAddress udpOnlyTo;
    private boolean hairpin;
    private boolean isolated;
    private double wanLoss;
    private long wanDelayNanos;
    private long filtered;

    SimNat(String name, InetAddress publicAddress, Behaviour behaviour, Random random, long timeoutNanos) {
        this(name, publicAddress, behaviour, random, timeoutNanos, null);
    }

    SimNat(String name, InetAddress publicAddress, Behaviour behaviour, Random random, long timeoutNanos,
           SimNat upstream) {
        this.name = name;
        this.publicAddress = publicAddress;
        this.behaviour = behaviour;
        this.random = random;
        this.timeoutNanos = timeoutNanos;
        this.upstream = upstream;
    }

    public Behaviour behaviour() {
        return behaviour;
    }

    /** The NAT this one's WAN side sits behind (carrier-grade NAT), or null: on the internet. */
    public SimNat upstream() {
        return upstream;
    }

    /** Drops every outbound datagram not addressed to {@code allowed} (null: no filter). */
    public SimNat udpOnlyTo(InetAddress allowed) {
        this.udpOnlyTo = allowed;
        return this;
    }

    /** Hairpinning on or off (off by default). */
    public SimNat hairpin(boolean on) {
        this.hairpin = on;
        return this;
    }

    /** Client isolation on the LAN: hosts behind this NAT cannot reach each other directly. */
    public SimNat isolateLan(boolean on) {
        this.isolated = on;
        return this;
    }

    /** Loss rate and extra one-way delay on this NAT's WAN link, in both directions. */
    public SimNat impairWan(double loss, java.time.Duration delay) {
        this.wanLoss = loss;
        this.wanDelayNanos = delay.toNanos();
        return this;
    }

    public boolean hairpin() {
        return hairpin;
    }

    public boolean lanIsolated() {
        return isolated;
    }

    double wanLoss() {
        return wanLoss;
    }

    long wanDelayNanos() {
        return wanDelayNanos;
    }

    /** Whether the outbound filter lets a datagram to {@code remote} through. */
    boolean allows(InetSocketAddress remote) {
        return udpOnlyTo == null || udpOnlyTo.equals(remote.getAddress());
    }

    /** Counts a datagram dropped on the LAN side (outbound filter, isolation, no hairpin). */
    void filter() {
        filtered++;
    }

    /**
     * Hairpin: the inside endpoint that most recently used public {@code port} (whatever the
     * remote), or null. The nftables lab does the same with a map that every outbound packet
     * on the WAN updates.
     */
    InetSocketAddress hairpinTarget(long now, int port) {
        expire(now);
        Mapping best = null;
        for (Mapping m : byFlow.values()) {
            if (m.publicPort == port && (best == null || m.lastUsed - best.lastUsed > 0)) {
                best = m;
            }
        }
        return best == null ? null : best.inside;
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

    /** A reboot with another address from the ISP: every mapping gone, and {@code address} is ours now. */
    void reboot(InetAddress address) {
        flush();
        publicAddress = address;
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

    /** Datagrams from the LAN side dropped: outbound filter, client isolation, hairpin off. */
    public long filtered() {
        return filtered;
    }

    /** The public port of the mapping for {@code inside} towards {@code remote}, or -1 if none. */
    public int publicPort(InetSocketAddress inside, InetSocketAddress remote) {
        Mapping m = byFlow.get(new Flow(inside, remote));
        return m == null ? -1 : m.publicPort;
    }

    /** How many mappings exist now. */
    public int mappings() {
        return byFlow.size();
    }
}
