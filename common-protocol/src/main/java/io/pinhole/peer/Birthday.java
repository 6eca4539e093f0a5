package io.pinhole.peer;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Birthday: the bookkeeping of one birthday-punching attempt of a {@link PeerMachine}, for a NAT
 * with endpoint-dependent mapping (symmetric: a new random public port per destination), the
 * way Tailscale describes it ("How NAT traversal works").
 *
 * <p>Neither peer knows which side is the hard one, so each plays both roles at once. As the
 * hard side, it sends one probe from each of up to {@value #SPARE_SOCKETS} spare sockets to the
 * partner's observed endpoint (TTL-limited, so the probes open mappings in our own NAT and die
 * before the partner's); as the easy side, it sends up to {@value #PROBES} probes from the main
 * socket to distinct random ports (1024-65535, not the observed one, which plain punching covers)
 * of the partner's public address, paced at
 * {@value #PROBES_PER_SECOND} a second. A probe that lands on one of the hard side's mappings
 * gets through and is acknowledged from that spare socket: that (socket, endpoint) pair is the
 * direct path. With 256 mappings and 2,048 probes over 64,512 ports, all but about 1 in 3,000
 * attempts hit (1,024 probes, Tailscale's figure, miss about 1 in 60: the namespace lab's CI run
 * met one).
 *
 * <p>This class decides which probes are due and remembers where each went (its counter, socket
 * and target), so that an acknowledgement counts only from the address and on the socket its
 * probe used; it never sends. Error contract: no method throws for any input.
 *
 * <p>Not thread-safe: owned by the machine, which the edge serialises.
 */
final class Birthday {
    /** Spare sockets opened for the hard side's role, at most. */
    static final int SPARE_SOCKETS = 256;
    /** Probes to random ports for the easy side's role, at most. */
    static final int PROBES = 2048;
    static final int PROBES_PER_SECOND = 256;
    /** How long one attempt lasts: the probes take 8 s, then a moment for the last answers. */
    static final long DURATION_NANOS = 10_000_000_000L;
    /** Birthday attempts follow the first failed upgrade round and then every this many. */
    static final int EVERY = 5;
    private static final int LOWEST_PORT = 1024;
    private static final int PORTS = 65_536 - LOWEST_PORT;

    /** Where one probe went: from which of our sockets, to where, and when. */
    private record Probe(int socket, InetSocketAddress target, long sentAt) {
    }

    private final InetSocketAddress partner;
    private final int spares;
    private final long probesFrom;
    private final long endsAt;
    private final SecureRandom random;
    private final Set<Integer> portsProbed = new HashSet<>();
    private final Map<Long, Probe> probes = new HashMap<>();

    /**
     * @param partner the partner's observed endpoint: its address is probed, its port is not
     * @param spares how many spare sockets the edge opened (at most {@value #SPARE_SOCKETS} are used)
     * @param now when the attempt starts
     * @param lead how long after the start the random-port probes begin (the partner's openers first)
     * @param random where the random ports come from
     */
    Birthday(InetSocketAddress partner, int spares, long now, long lead, SecureRandom random) {
        this.partner = partner;
        this.spares = Math.min(spares, SPARE_SOCKETS);
        this.probesFrom = now + lead;
        this.endsAt = now + DURATION_NANOS;
        this.random = random;
    }

    /** Spare sockets in use: ids 1..this. */
    int spares() {
        return spares;
    }

    /** True once the attempt's time is up. */
    boolean over(long now) {
        return now - endsAt >= 0;
    }

    /** Random-port probes sent so far. */
    int probesSent() {
        return portsProbed.size();
    }

    /**
     * The random-port targets due by {@code now} that have not gone out yet, none once the
     * attempt is over or {@value #PROBES} have gone; the caller sends each and {@link #sent notes} it.
     */
    List<InetSocketAddress> due(long now) {
        List<InetSocketAddress> due = new ArrayList<>();
        if (now - probesFrom < 0 || over(now)) {
            return due;
        }
        long allowed = Math.min(PROBES, 1 + (now - probesFrom) / (1_000_000_000L / PROBES_PER_SECOND));
        Set<Integer> chosen = new HashSet<>();
        while (portsProbed.size() + chosen.size() < allowed) {
            int port = LOWEST_PORT + random.nextInt(PORTS);
            if (port != partner.getPort() && !portsProbed.contains(port) && chosen.add(port)) {
                due.add(new InetSocketAddress(partner.getAddress(), port));
            }
        }
        return due;
    }

    /** Notes that probe {@code counter} went from {@code socket} to {@code target}. */
    void sent(long counter, int socket, InetSocketAddress target, long now) {
        if (socket == 0) {
            portsProbed.add(target.getPort());
        }
        probes.put(counter, new Probe(socket, target, now));
    }

    /**
     * An acknowledgement of probe {@code counter} arrived at {@code now} on {@code socket} from
     * {@code from}: how long ago that probe was sent (0 or more), if it went from that socket to
     * that address and was not acked before; else -1. (Elapsed time, not the send time, so that no
     * time value can be mistaken for the "none" answer: time has any origin.)
     */
    long ack(long counter, int socket, InetSocketAddress from, long now) {
        Probe p = probes.get(counter);
        if (p == null || p.socket != socket || !p.target.equals(from)) {
            return -1;
        }
        probes.remove(counter);
        return Math.max(0, now - p.sentAt);
    }
}
