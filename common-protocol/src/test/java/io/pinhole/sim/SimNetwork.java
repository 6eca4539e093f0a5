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
 * protocol machines. Hosts sit on the "internet" or behind a {@link SimNat}; datagrams take a
 * fixed one-way latency per hop and may be lost at a given rate; all randomness comes from one
 * seeded {@link Random}.
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
    private long delivered;
    private long lost;

    public SimNetwork(long seed, long origin) {
        this.random = new Random(seed);
        this.now = origin;
        java.time.Instant base = java.time.Instant.parse("2026-11-21T12:00:00Z");
        this.wall = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return base.plusNanos(now - origin);
            }
        };
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

    /** Probability that any datagram is lost. */
    public SimNetwork loss(double rate) {
        this.lossRate = rate;
        return this;
    }

    /** A NAT with public address {@code publicIp}. */
    public SimNat addNat(String name, String publicIp, SimNat.Behaviour behaviour) {
        SimNat nat = new SimNat(name, ip(publicIp), behaviour, random, Duration.ofSeconds(30).toNanos());
        nats.put(nat.publicAddress(), nat);
        return nat;
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

    /** Runs {@code action} at {@code delay} from now. */
    public void schedule(Duration delay, Runnable action) {
        scheduleAt(now + delay.toNanos(), action);
    }

    private void scheduleAt(long at, Runnable action) {
        events.add(new Event(at, seq++, action));
    }

    /** Sends a datagram from {@code host} (source port {@code port}) to {@code to}. */
    public void send(Host host, int port, InetSocketAddress to, ByteBuffer datagram) {
        ByteBuffer copy = ByteBuffer.allocate(datagram.remaining()).put(datagram.duplicate()).flip();
        InetSocketAddress source = new InetSocketAddress(host.address, port);
        Host local = hosts.get(to.getAddress());
        if (host.nat != null && local != null && local.nat == host.nat) {
            hop(1, source, to, copy); // same LAN
            return;
        }
        InetSocketAddress wanSource = source;
        int hops = 1;
        if (host.nat != null) {
            wanSource = host.nat.outbound(now, source, to);
            hops++;
        }
        hop(hops, wanSource, to, copy);
    }

    private void hop(int hops, InetSocketAddress from, InetSocketAddress to, ByteBuffer datagram) {
        if (lossRate > 0 && random.nextDouble() < lossRate) {
            lost++;
            return;
        }
        scheduleAt(now + hops * hopLatencyNanos, () -> arrive(from, to, datagram));
    }

    private void arrive(InetSocketAddress from, InetSocketAddress to, ByteBuffer datagram) {
        InetSocketAddress destination = to;
        SimNat nat = nats.get(to.getAddress());
        if (nat != null) {
            destination = nat.inbound(now, from, to.getPort());
            if (destination == null) {
                return;
            }
        }
        Host host = hosts.get(destination.getAddress());
        if (host == null || host.receiver == null) {
            return;
        }
        if (nat == null && host.nat != null && !sameLan(from, host)) {
            return; // a private address is not reachable from the internet
        }
        delivered++;
        host.receiver.receive(now, from, destination, datagram);
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
