package io.pinhole.peer;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * PathSelector: which path carries the tunnel to the partner, per peer. Its one job: hold the
 * path (the partner's address, the local socket, the relay or a direct one) and decide every
 * move of it; the machine does the moving (sockets, probes, logs, WireGuard).
 *
 * <ul>
 *   <li>Ranking ({@link #rank}): the partner's LAN candidates in its order (lower is better),
 *       then any public address ({@value #RANK_PUBLIC}), the relay last.
 *   <li>Moves on an authenticated packet from a new address ({@link #choose}): a direct path
 *       beats the relay at once; on a direct path, a better-ranked address (a LAN candidate) or an
 *       equally ranked one (the partner roamed) takes over at once, a worse one only after the
 *       path has been quiet for {@value #ROAM_QUIET_MS} ms; the relay takes over from a direct
 *       path quiet that long (the partner no longer hears it). More than {@link PathMoves#max()}
 *       direct moves within seconds are a loop, not a better path: moves are held off.
 *   <li>Fallback ({@link #directSilent}): a direct path without an authenticated packet for
 *       {@link Traversal#directSilent} goes back to the relay.
 * </ul>
 *
 * <p>Pure: time is an argument (monotonic nanoseconds, any origin, overflow-safe comparisons); it
 * sends nothing and opens or closes no socket: each move returns the socket the path used
 * before, for the caller to close. Error contract: no method throws for any input.
 *
 * <p>Not thread-safe: owned by the control side of its {@link PeerMachine}, which the edge serialises.
 */
final class PathSelector {
    /** Rank of the partner's observed endpoint and of addresses learnt from its packets (LAN candidates rank lower = better). */
    static final int RANK_PUBLIC = 100;
    static final long ROAM_QUIET_MS = 2_000;
    /** On a direct path, a packet from a worse-ranked address moves the path only after this much quiet. */
    private static final long ROAM_QUIET = ROAM_QUIET_MS * 1_000_000L;

    /** What an authenticated packet from an address that is not the path asks for. */
    enum Move {
        /** Keep the path. */
        STAY,
        /** The partner reaches us through the relay and our direct path has been quiet: follow it there. */
        FOLLOW_TO_RELAY,
        /** A direct path instead of the relay. */
        UP_FROM_RELAY,
        /** Another direct address: a better one, the partner roamed, or the old one went quiet. */
        ROAM,
        /** The path moved too often: moves are held off. */
        HOLD
    }

    /** The relay "endpoint" (datagrams to it go through the rendezvous server), or null without the relay. */
    private final InetSocketAddress relay;
    private final long directSilentNanos;
    /** The brake on path moves: a path that changes too often is a loop, not a better path. */
    private final PathMoves moves = PathMoves.defaults();
    /** Where packets to the partner go: a direct address, or {@link #relay}; null without a path. */
    private InetSocketAddress endpoint;
    /** The local socket the path uses: 0 = the main socket, i = spare socket i (a birthday hit). */
    private int socket;
    private int rank = Integer.MAX_VALUE;
    /** Last authenticated packet from the direct {@link #endpoint}. */
    private long lastDirectAt;
    private long since;
    private long rttNanos = -1;

    /**
     * @param relay the relay "endpoint" (the rendezvous server's address), or null without the relay
     * @param directSilentNanos how long a direct path may go without an authenticated packet
     */
    PathSelector(InetSocketAddress relay, long directSilentNanos) {
        this.relay = relay;
        this.directSilentNanos = directSilentNanos;
    }

    /** Where packets to the partner go now (a direct address or the relay), or null. */
    InetSocketAddress endpoint() {
        return endpoint;
    }

    /** The local socket the path uses: 0 = the main socket (always for the relay), i = spare socket i. */
    int socket() {
        return socket;
    }

    /** The path's rank (lower is better; {@link Integer#MAX_VALUE} for the relay or none). */
    int rank() {
        return rank;
    }

    /** When the path last moved. */
    long since() {
        return since;
    }

    /** The path's last measured round-trip time, or -1 when none has been measured on it yet. */
    long rttNanos() {
        return rttNanos;
    }

    /** When the last authenticated packet came from the direct path. */
    long lastDirectAt() {
        return lastDirectAt;
    }

    /** True if {@code address} is the relay. */
    boolean isRelay(InetSocketAddress address) {
        return address.equals(relay);
    }

    /** True when the path is the relay. */
    boolean relayed() {
        return relay != null && relay.equals(endpoint);
    }

    /** True when the path is a direct one that the relay backs up. */
    boolean directWithRelay() {
        return relay != null && !relay.equals(endpoint);
    }

    /** True if {@code from}, arriving on {@code receivedOn}, is the path. */
    boolean onPath(InetSocketAddress from, int receivedOn) {
        return from.equals(endpoint) && (receivedOn == socket || from.equals(relay));
    }

    /**
     * The rank of {@code address}, lower is better: its place among the partner's LAN
     * {@code candidates}, else {@value #RANK_PUBLIC}; the relay last.
     */
    int rank(InetSocketAddress address, List<InetSocketAddress> candidates) {
        if (address.equals(relay)) {
            return Integer.MAX_VALUE;
        }
        int lan = candidates.indexOf(address);
        return lan >= 0 ? lan : RANK_PUBLIC;
    }

    /**
     * Puts the path at {@code to} (null: none) from local socket {@code from}, keeping its rank
     * (the relay always uses the main socket). Returns the socket the path used before.
     */
    int set(InetSocketAddress to, int from) {
        int previous = socket;
        endpoint = to;
        socket = to == null || to.equals(relay) ? 0 : from;
        return previous;
    }

    /** No path (the partner left, or punching starts without the relay). Returns the socket the path used before. */
    int clear() {
        rank = Integer.MAX_VALUE;
        return set(null, 0);
    }

    /** Moves to the direct address {@code to}, on local socket {@code from}, with {@code newRank}, at {@code now}. */
    int moveDirect(InetSocketAddress to, int from, int newRank, long now) {
        int previous = set(to, from);
        rank = newRank;
        lastDirectAt = now;
        since = now;
        rttNanos = -1;
        return previous;
    }

    /** Moves to the relay at {@code now}. Returns the socket the path used before. */
    int moveToRelay(long now) {
        int previous = set(relay, 0);
        rank = Integer.MAX_VALUE;
        since = now;
        rttNanos = -1;
        return previous;
    }

    /** An authenticated packet (or a fresh probe) came from the direct path at {@code now}. */
    void directHeard(long now) {
        lastDirectAt = now;
    }

    /** The direct path was heard at {@code at} by the data path: as {@link #directHeard}, unless already heard later. */
    void directHeardAt(long at) {
        if (at - lastDirectAt > 0) {
            lastDirectAt = at;
        }
    }

    /** A probe on the path was answered after {@code nanos}. */
    void measured(long nanos) {
        rttNanos = nanos;
    }

    /** True while moves are held off (too many too fast). */
    boolean movesHeld(long now) {
        return moves.held(now);
    }

    /** Records a move that needs no decision (the first direct path) against the brake. */
    void noteMove(long now) {
        moves.allow(now);
    }

    /** Most direct moves allowed within the brake's window. */
    int maxMoves() {
        return moves.max();
    }

    /**
     * An authenticated packet came at {@code now} from {@code from}, which is not the path, while
     * connected; {@code fromRank} is its rank. Says which move it asks for; a move counts against
     * the brake, and one past it answers {@link Move#HOLD}.
     */
    Move choose(InetSocketAddress from, int fromRank, long now) {
        if (from.equals(relay)) {
            return now - lastDirectAt >= ROAM_QUIET ? Move.FOLLOW_TO_RELAY : Move.STAY;
        }
        boolean moving = relayed() || fromRank <= rank || now - lastDirectAt >= ROAM_QUIET;
        if (moving && !moves.allow(now)) {
            return Move.HOLD;
        }
        if (relayed()) {
            return Move.UP_FROM_RELAY;
        }
        return moving ? Move.ROAM : Move.STAY;
    }

    /** True when a direct path backed by the relay has been silent for the fallback time. */
    boolean directSilent(long now) {
        return directWithRelay() && now - lastDirectAt >= directSilentNanos;
    }
}
