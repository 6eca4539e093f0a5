package io.pinhole.sim;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * SimNetwork: an in-process network with virtual time, for fast deterministic tests of the
 * protocol machines. Hosts sit on the "internet" or behind a {@link SimNat}, which may itself
 * sit behind another NAT (carrier-grade NAT); hosts behind one NAT share a LAN. Datagrams take
 * a fixed one-way latency per hop (the sender's LAN, and each NAT it crosses on the way out),
 * plus the extra delay of any impaired NAT WAN link they cross, and may be lost at a given rate
 * (and on impaired links); all randomness comes from one seeded {@link Random}.
 *
 * <p>Time is nanoseconds starting at an arbitrary origin (tests use origins near overflow to
 * check that nothing assumes zero). Nothing runs until {@link #runFor(Duration)} is called.
 *
 * <p>Not thread-safe: one test thread drives it.
 */
public final class SimNetwork {
    /** Receives datagrams addressed to a host's address. */
    public interface Receiver {
        void receive(long now, InetSocketAddress from, InetSocketAddress to, ByteBuffer datagram);
    }

    /** A host: an address, maybe behind a NAT, and its receiver. */
    public static final class Host {
        final String name;
        final InetAddress address;
        final SimNat nat;
        Receiver receiver;

        Host(String name, InetAddress address, SimNat nat) {
            this.name = name;
            this.address = address;
            this.nat = nat;
        }

        public InetAddress address() {
            return address;
        }

        public String name() {
            return name;
        }
    }

    private record Event(long at, long seq, Runnable action) {
    }

    private final Random random;
    private final PriorityQueue<Event> events = new PriorityQueue<>(
            (a, b) -> a.at != b.at ? Long.compare(a.at - b.at, 0) : Long.compare(a.seq, b.seq));
    private final Map<InetAddress, Host> hosts = new HashMap<>();
    private final Map<InetAddress, SimNat> nats = new HashMap<>();
    private long now;
    private final java.time.Clock wall;
    private long seq;
    private long hopLatencyNanos = 5_000_000;
    private double lossRate;
    /** Pairs of public addresses between which the internet drops every datagram (see {@link #cut}). */
    private final java.util.Set<java.util.Set<InetAddress>> cuts = new java.util.HashSet<>();
    private long jitterNanos;
    private long delivered;
    private long lost;

    public SimNetwork(long seed, long origin) {
        this.random = new Random(seed);
        this.now = origin;
        java.time.Instant base = java.time.Instant.parse("2026-11-21T12:00:00Z");
        this.wall = VirtualClock.of(() -> base.plusNanos(now - origin));
    }

    /** Current virtual time. */
    public long now() {
        return now;
    }

    /** One-way latency of each hop. */
    public SimNetwork latency(Duration perHop) {
        this.hopLatencyNanos = perHop.toNanos();
        return this;
    }

    /**
     * Up to this much time (uniform, per datagram) a host takes to act on a datagram once it has
     * arrived, after every NAT on the way has seen it: the scheduling delays of real hosts, so
     * that two PEER_INFOs sent together are not acted on together. Zero by default. Datagrams
     * to one host may then overtake each other.
     */
    public SimNetwork jitter(Duration max) {
        this.jitterNanos = max.toNanos();
        return this;
    }

    /** Probability that any datagram is lost. */
    public SimNetwork loss(double rate) {
        this.lossRate = rate;
        return this;
    }

    /** A NAT with public address {@code publicIp}. */
    public SimNat addNat(String name, String publicIp, SimNat.Behaviour behaviour) {
        return addNat(name, publicIp, behaviour, null);
    }

    /**
     * A NAT whose WAN address {@code wanIp} sits behind {@code upstream} (a carrier-grade NAT),
     * or, with a null upstream, on the internet.
     */
    public SimNat addNat(String name, String wanIp, SimNat.Behaviour behaviour, SimNat upstream) {
        SimNat nat = new SimNat(name, ip(wanIp), behaviour, random, Duration.ofSeconds(30).toNanos(), upstream);
        nats.put(nat.publicAddress(), nat);
        return nat;
    }

    /**
     * {@code nat} reboots and comes back with the public address {@code newIp} (its ISP handed out
     * another one): every mapping is gone, and datagrams to the old address reach nobody.
     */
    public void rebootWithNewAddress(SimNat nat, String newIp) {
        nats.remove(nat.publicAddress());
        nat.reboot(ip(newIp));
        nats.put(nat.publicAddress(), nat);
    }

    /** A host at {@code ip}, behind {@code nat} (null: on the internet). */
    public Host addHost(String name, String ip, SimNat nat) {
        Host host = new Host(name, ip(ip), nat);
        hosts.put(host.address, host);
        return host;
    }

    /** Attaches what receives the host's datagrams. */
    public void attach(Host host, Receiver receiver) {
        host.receiver = receiver;
    }

    /**
     * Cuts (or mends) the internet between two public addresses: every datagram between them is
     * dropped, both ways, while other traffic (to the rendezvous host, say) still flows.
     */
    public SimNetwork cut(InetAddress a, InetAddress b, boolean on) {
        if (on) {
            cuts.add(java.util.Set.of(a, b));
        } else {
            cuts.remove(java.util.Set.of(a, b));
        }
        return this;
    }

    /** Runs {@code action} at {@code delay} from now. */
    public void schedule(Duration delay, Runnable action) {
        scheduleAt(now + delay.toNanos(), action);
    }

    private void scheduleAt(long at, Runnable action) {
        events.add(new Event(at, seq++, action));
    }

    /** Sends a datagram from {@code host} (source port {@code port}) to {@code to}. */
    public void send(Host host, int port, InetSocketAddress to, ByteBuffer datagram) {
        send(host, port, to, datagram, 64);
    }

    /**
     * Sends with an IP TTL of {@code ttl}: each NAT that forwards it needs at least 2 left and
     * takes one, and crossing the internet between the NATs needs at least 2 left after the
     * sender's NATs (there is at least one router there). So TTL 2 behind one NAT opens that NAT's
     * mapping and dies before the partner's NAT, as in the namespace lab.
     */
    public void send(Host host, int port, InetSocketAddress to, ByteBuffer datagram, int ttl) {
        ByteBuffer copy = ByteBuffer.allocate(datagram.remaining()).put(datagram.duplicate()).flip();
        InetSocketAddress source = new InetSocketAddress(host.address, port);
        Host local = hosts.get(to.getAddress());
        if (host.nat != null && local != null && local.nat == host.nat) {
            if (host.nat.lanIsolated()) {
                host.nat.filter(); // client isolation: only the router is reachable
                return;
            }
            hop(1, source, to, copy, null, null); // same LAN
            return;
        }
        InetSocketAddress wanSource = source;
        int hops = 1;
        SimNat outer = null;
        for (SimNat nat = host.nat; nat != null; nat = nat.upstream()) {
            if (ttl < 2) {
                return; // time exceeded at this router
            }
            ttl--;
            if (to.getAddress().equals(nat.publicAddress())) {
                hairpin(nat, wanSource, hops, to, copy);
                return;
            }
            if (!nat.allows(to)) {
                nat.filter();
                return;
            }
            wanSource = nat.outbound(now, wanSource, to);
            hops++;
            outer = nat;
        }
        if (outer != null && ttl < 2) {
            return; // time exceeded at the first router past our NATs: the mappings are made, nothing arrives
        }
        SimNat remote = nats.get(to.getAddress());
        hop(hops, wanSource, to, copy, outer, remote != null && remote.upstream() == null ? remote : null);
    }

    /** A datagram from the LAN of {@code nat} to its own public address {@code to}. */
    private void hairpin(SimNat nat, InetSocketAddress source, int hops, InetSocketAddress to, ByteBuffer datagram) {
        if (!nat.hairpin()) {
            nat.filter(); // the router's own stack takes it: nothing listens there
            return;
        }
        InetSocketAddress inside = nat.hairpinTarget(now, to.getPort());
        if (inside == null) {
            nat.filter();
            return;
        }
        InetSocketAddress translated = nat.outbound(now, source, to);
        if (lossRate > 0 && random.nextDouble() < lossRate) {
            lost++;
            return;
        }
        scheduleAt(now + (hops + 1) * hopLatencyNanos, () -> arriveInside(translated, inside, datagram));
    }

    /**
     * Schedules the arrival {@code hops} hops from now, unless lost: the network's loss rate,
     * then the loss of the impaired WAN links crossed ({@code out}: the sender's outermost NAT,
     * {@code in}: the receiver's), whose delays are added.
     */
    private void hop(int hops, InetSocketAddress from, InetSocketAddress to, ByteBuffer datagram, SimNat out,
                     SimNat in) {
        if (cuts.contains(java.util.Set.of(from.getAddress(), to.getAddress()))) {
            lost++;
            return;
        }
        if (lossRate > 0 && random.nextDouble() < lossRate) {
            lost++;
            return;
        }
        long delay = hops * hopLatencyNanos;
        for (SimNat link : new SimNat[] {out, in}) {
            if (link == null) {
                continue;
            }
            if (link.wanLoss() > 0 && random.nextDouble() < link.wanLoss()) {
                lost++;
                return;
            }
            delay += link.wanDelayNanos();
        }
        scheduleAt(now + delay, () -> arrive(from, to, datagram));
    }

    /** Hands the datagram to the host's receiver, at once or after the host's jitter. */
    private void deliver(Host host, InetSocketAddress from, InetSocketAddress destination, ByteBuffer datagram) {
        if (jitterNanos <= 0) {
            delivered++;
            host.receiver.receive(now, from, destination, datagram);
            return;
        }
        scheduleAt(now + (long) (random.nextDouble() * jitterNanos), () -> {
            if (host.receiver != null) {
                delivered++;
                host.receiver.receive(now, from, destination, datagram);
            }
        });
    }

    private void arrive(InetSocketAddress from, InetSocketAddress to, ByteBuffer datagram) {
        InetSocketAddress destination = to;
        SimNat nat = nats.get(to.getAddress());
        if (nat != null && nat.upstream() != null) {
            return; // the WAN address of a NAT behind a carrier NAT is not on the internet
        }
        boolean translated = false;
        while (nat != null) { // inwards through each NAT layer
            destination = nat.inbound(now, from, destination.getPort());
            if (destination == null) {
                return;
            }
            translated = true;
            nat = nats.get(destination.getAddress());
        }
        Host host = hosts.get(destination.getAddress());
        if (host == null || host.receiver == null) {
            return;
        }
        if (!translated && host.nat != null && !sameLan(from, host)) {
            return; // a private address is not reachable from the internet
        }
        deliver(host, from, destination, datagram);
    }

    /** A hairpinned datagram: from the public {@code from} to {@code inside}, on the NAT's LAN. */
    private void arriveInside(InetSocketAddress from, InetSocketAddress inside, ByteBuffer datagram) {
        InetSocketAddress destination = inside;
        SimNat inner = nats.get(inside.getAddress());
        while (inner != null) { // the inside endpoint may be an inner NAT's mapping
            destination = inner.inbound(now, from, destination.getPort());
            if (destination == null) {
                return;
            }
            inner = nats.get(destination.getAddress());
        }
        Host host = hosts.get(destination.getAddress());
        if (host == null || host.receiver == null) {
            return;
        }
        deliver(host, from, destination, datagram);
    }

    private boolean sameLan(InetSocketAddress from, Host host) {
        Host sender = hosts.get(from.getAddress());
        return sender != null && sender.nat == host.nat;
    }

    /** Runs events for {@code duration} of virtual time. */
    public void runFor(Duration duration) {
        long until = now + duration.toNanos();
        while (!events.isEmpty() && events.peek().at - until <= 0) {
            Event e = events.poll();
            now = e.at;
            e.action.run();
        }
        now = until;
    }

    /** Runs until {@code condition} holds or {@code limit} passes; returns whether it held. */
    public boolean runUntil(java.util.function.BooleanSupplier condition, Duration limit) {
        long until = now + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (events.isEmpty() || events.peek().at - until > 0) {
                now = until;
                return condition.getAsBoolean();
            }
            Event e = events.poll();
            now = e.at;
            e.action.run();
        }
        return true;
    }

    public long delivered() {
        return delivered;
    }

    public long lost() {
        return lost;
    }

    public Random random() {
        return random;
    }

    /** A SecureRandom seeded from the network's seed: deterministic keys and nonces per run. */
    public java.security.SecureRandom secureRandom() {
        try {
            java.security.SecureRandom r = java.security.SecureRandom.getInstance("SHA1PRNG");
            r.setSeed(random.nextLong());
            return r;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Wall-clock time that moves with virtual time (one clock for the whole network). */
    public java.time.Clock wallClock() {
        return wall;
    }

    static InetAddress ip(String text) {
        try {
            return InetAddress.getByName(text); // literal addresses only: no lookup happens
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(text, e);
        }
    }
}
