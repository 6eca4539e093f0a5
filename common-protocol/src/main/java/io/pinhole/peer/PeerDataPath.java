package io.pinhole.peer;

import io.pinhole.crypto.ChaCha20Poly1305;
import io.pinhole.wireguard.SessionDataPath;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * PeerDataPath: the fast path of one {@link PeerMachine}, for the edge's data threads, which call
 * it without the lock that serialises the machine's control calls.
 *
 * <ul>
 *   <li>{@link #send}: an IP packet read from the TUN device, for the partner over the direct path
 *       on the main socket, with a usable keypair: checked as the machine checks it (size, not our
 *       own datagram looping through the tunnel, destination inside the partner's allowed IPs) and
 *       sealed into a transport message for {@link #endpoint()}.
 *   <li>{@link #receive}: a datagram from the direct path's address on the main socket: a transport
 *       message for the current or previous keypair is opened, checked against the replay window
 *       and the partner's allowed IPs (source), and its IP packet is left in the caller's buffer for
 *       the TUN device.
 * </ul>
 * Anything else is {@link #DECLINED}, with nothing changed: the caller hands it to the machine
 * ({@link PeerMachine#onTunPacket}, {@link PeerMachine#onDatagram}) under its lock, which handles
 * and counts it as it always did: while there is no direct path (punching, the relay, a spare
 * socket), no keypair, a handshake, a packet the machine refuses, or a datagram from anywhere else.
 *
 * <p>Ownership: the machine publishes the path ({@link #publish}, a volatile snapshot it replaces at
 * the end of any control call that changed it); the data path records what it sent and received
 * (counts and the time of the last, written by one thread each, read with volatile semantics) and
 * the machine takes those in at the start of its next control call ({@link PeerMachine}'s
 * liveness, path and status), so its timers see data that never passed through it within one tick.
 *
 * <p>Thread-safety: {@link #send} from one thread at a time, {@link #receive} from one thread at a
 * time, the two concurrently with each other and with the machine's control calls. Nothing is
 * allocated per packet: buffers and the {@link ChaCha20Poly1305} (one per thread) are the caller's.
 *
 * <p>Error contract: never throws for any packet or datagram; a buffer too small for the message is
 * an {@link IllegalArgumentException} (size buffers with {@link #BUFFER_SIZE}).
 */
public final class PeerDataPath {
    /** The packet or datagram is the machine's: hand it to its control call unchanged. */
    public static final int DECLINED = SessionDataPath.DECLINED;
    /** Handled here, nothing to deliver or send (a keepalive, or a packet refused and counted). */
    public static final int HANDLED = 0;
    /** A buffer large enough for any datagram {@link #send} makes or {@link #receive} takes. */
    public static final int BUFFER_SIZE = 65_536;

    /** The direct path as the data threads see it: where to send, and our own datagrams' destinations. */
    private record Route(InetSocketAddress endpoint, TunnelLoop pathLoop, TunnelLoop serverLoop) { }

    private final SessionDataPath session;
    private final AllowedIps allowedIps;
    private final InetSocketAddress server;
    private volatile Route route;

    // written by the send thread only
    private final AtomicLong sent = new AtomicLong();
    private volatile long lastSentAt;
    // written by the receive thread only
    private final AtomicLong authenticated = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private volatile long lastReceivedAt;
    private final AtomicLong wrongSource = new AtomicLong();
    private final AtomicLong ipv6NotAllowed = new AtomicLong();
    private final AtomicLong notIp = new AtomicLong();

    PeerDataPath(SessionDataPath session, AllowedIps allowedIps, InetSocketAddress server) {
        this.session = session;
        this.allowedIps = allowedIps;
        this.server = server;
    }

    /**
     * Control side: the direct path on the main socket is {@code endpoint}, or there is none
     * (null: everything goes to the machine).
     */
    void publish(InetSocketAddress endpoint) {
        Route r = route;
        if (endpoint == null) {
            if (r != null) {
                route = null;
            }
            return;
        }
        if (r != null && r.endpoint.equals(endpoint)) {
            return;
        }
        TunnelLoop pathLoop = new TunnelLoop();
        pathLoop.watch(endpoint);
        TunnelLoop serverLoop = new TunnelLoop();
        serverLoop.watch(server);
        route = new Route(endpoint, pathLoop, serverLoop); // the loops are not changed after this
    }

    /** Where the datagrams {@link #send} makes go: the direct path's address, or null while there is none. */
    public InetSocketAddress endpoint() {
        Route r = route;
        return r == null ? null : r.endpoint;
    }

    /**
     * Seals the IP packet {@code packet} (position to limit, unchanged) for the partner into
     * {@code dst} when the direct path and a keypair are up and the machine would send it.
     *
     * @param now monotonic nanoseconds
     * @return the transport message's length (send it to {@link #endpoint()} from the main socket),
     *     or {@link #DECLINED}
     */
    public int send(long now, ByteBuffer packet, byte[] dst, ChaCha20Poly1305 aead) {
        Route r = route;
        int length = packet.remaining();
        if (r == null || length == 0 || length > PeerMachine.MAX_PACKET || r.pathLoop.matches(packet)
                || r.serverLoop.matches(packet) || allowedIps.destination(packet) != AllowedIps.Verdict.ALLOWED) {
            return DECLINED;
        }
        int n = session.seal(now, packet, dst, aead);
        if (n > 0) {
            lastSentAt = now;
            sent.lazySet(sent.get() + 1);
        }
        return n;
    }

    /**
     * Opens a datagram that came from {@code from} on the main socket when it is a transport
     * message on the direct path; the IP packet is left in {@code plain}'s array at
     * {@link SessionDataPath#PLAIN_OFFSET}, with room before it.
     *
     * @param plain a heap buffer of at least the datagram's length ({@link #BUFFER_SIZE} holds any);
     *     on a return above 0 its position and limit frame the packet
     * @return the IP packet's length (write it to the TUN device), {@link #HANDLED}, or
     *     {@link #DECLINED}
     */
    public int receive(long now, InetSocketAddress from, ByteBuffer datagram, ByteBuffer plain, ChaCha20Poly1305 aead) {
        Route r = route;
        if (r == null || !r.endpoint.equals(from)) {
            return DECLINED;
        }
        int n = session.open(now, datagram, plain.array(), aead);
        if (n == DECLINED) {
            return DECLINED;
        }
        lastReceivedAt = now;
        authenticated.lazySet(authenticated.get() + 1);
        if (n == SessionDataPath.NOT_IP) {
            notIp.lazySet(notIp.get() + 1);
            return HANDLED;
        }
        if (n == 0) {
            return HANDLED;
        }
        plain.limit(SessionDataPath.PLAIN_OFFSET + n).position(SessionDataPath.PLAIN_OFFSET);
        AllowedIps.Verdict verdict = allowedIps.source(plain);
        if (verdict != AllowedIps.Verdict.ALLOWED) {
            AtomicLong refused = verdict == AllowedIps.Verdict.NO_IPV6 ? ipv6NotAllowed
                    : verdict == AllowedIps.Verdict.NOT_IP ? notIp : wrongSource;
            refused.lazySet(refused.get() + 1);
            return HANDLED;
        }
        delivered.lazySet(delivered.get() + 1);
        return n;
    }

    /** IP packets sealed here. */
    long sent() {
        return sent.get();
    }

    /** When the last of {@link #sent()} was sealed. */
    long lastSentAt() {
        return lastSentAt;
    }

    /** Transport messages that authenticated here (keepalives included). */
    long authenticated() {
        return authenticated.get();
    }

    /** When the last of {@link #authenticated()} arrived. */
    long lastReceivedAt() {
        return lastReceivedAt;
    }

    /** IP packets opened here and left for the TUN device. */
    long delivered() {
        return delivered.get();
    }

    /** Packets opened here that the partner's allowed IPs refuse, by the drop the machine counts them as. */
    long refused(PeerDrop drop) {
        return switch (drop) {
            case WRONG_SOURCE -> wrongSource.get();
            case IPV6_NOT_ALLOWED -> ipv6NotAllowed.get();
            case NOT_IP -> notIp.get();
            default -> 0;
        };
    }
}
