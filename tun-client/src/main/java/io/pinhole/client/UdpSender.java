package io.pinhole.client;

import io.pinhole.client.tun.SocketOptionException;
import io.pinhole.client.tun.SocketTtl;
import io.pinhole.config.HostPort;
import io.pinhole.config.LogNames;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * UdpSender: the client's sends on its UDP socket, plain ones and the TTL-limited openers of
 * {@link io.pinhole.peer.PeerOutput#sendWithTtl} (through {@link SocketTtl}).
 *
 * <p>Thread-safety: not thread-safe. {@link ClientRuntime} calls it only with its machine lock
 * held: every send comes out of a call into the {@code PeerMachine} ({@code start},
 * {@code onDatagram}, {@code onTunPacket}, {@code onTick}, {@code leave}), all of which the
 * runtime makes under that one lock, and the runtime closes the channel under the same lock. That
 * is what makes a TTL-limited send safe: setting the TTL, sending and restoring it cannot
 * interleave with any other send on the socket, and the descriptor cannot be closed (and its
 * number reused) in between.
 *
 * <p>Error contract: never throws; a failed send is counted and logged (at most once every 10 s).
 * {@link #sendWithTtl} returns false, and sends nothing, when the TTL cannot be limited: the
 * socket's descriptor is out of reach (the JVM lacks {@value SocketTtl#ADD_OPENS}) or
 * {@code setsockopt} fails; the first such failure is logged at WARNING with its reason (errno
 * and name included), later ones at DEBUG. A datagram is never sent at full TTL instead.
 */
final class UdpSender {
    private static final Logger LOG = LoggerFactory.getLogger(LogNames.CLIENT);
    private static final long ERROR_LOG_INTERVAL_NANOS = 10_000_000_000L;

    /** Makes the {@link SocketTtl} of a channel ({@code SocketTtl::of} outside tests). */
    @FunctionalInterface
    interface TtlAccess {
        SocketTtl open(DatagramChannel channel) throws SocketOptionException;
    }

    private final DatagramChannel udp;
    private final LongSupplier clock;
    /** Null when the descriptor is out of reach; then {@link #ttlUnavailable} says why. */
    private final SocketTtl ttl;
    private final String ttlUnavailable;
    private boolean ttlWarned;
    private long sendErrors;
    private long lastErrorLog = Long.MIN_VALUE;

    /**
     * @param udp the client's channel (not owned)
     * @param clock monotonic nanoseconds, for rate-limiting the error log
     */
    UdpSender(DatagramChannel udp, LongSupplier clock) {
        this(udp, clock, SocketTtl::of);
    }

    UdpSender(DatagramChannel udp, LongSupplier clock, TtlAccess access) {
        this.udp = udp;
        this.clock = clock;
        SocketTtl opened = null;
        String reason = null;
        try {
            opened = access.open(udp);
        } catch (SocketOptionException e) {
            reason = e.getMessage();
        }
        this.ttl = opened;
        this.ttlUnavailable = reason;
    }

    /** Sends {@code datagram} (position..limit) to {@code to}. */
    void send(InetSocketAddress to, ByteBuffer datagram) {
        if (ttl != null && ttl.restorePending()) {
            try {
                ttl.restore();
                LOG.info("the TTL of the UDP socket is restored");
            } catch (SocketOptionException e) {
                logSendError("the UDP socket still has a limited TTL, so this datagram may not reach " + HostPort.format(to)
                        + ": "
                        + e.getMessage());
            }
        }
        try {
            udp.send(datagram, to);
        } catch (ClosedChannelException e) {
            // stopping
        } catch (IOException | IllegalArgumentException e) {
            sendErrors++;
            logSendError("cannot send to " + HostPort.format(to) + ": " + e.getMessage());
        }
    }

    /**
     * Sends {@code datagram} to {@code to} with the IP TTL limited to {@code ttl} hops.
     *
     * @return true if it was sent with that TTL; false if nothing was sent
     */
    boolean sendWithTtl(InetSocketAddress to, ByteBuffer datagram, int ttlHops) {
        if (ttl == null) {
            warnTtlOnce(ttlUnavailable);
            return false;
        }
        try {
            return ttl.send(to, datagram, ttlHops);
        } catch (SocketOptionException e) {
            if (e.sent()) {
                LOG.error("{} (restoring it again before the next send)", e.getMessage());
                return true;
            }
            warnTtlOnce(e.getMessage());
            return false;
        } catch (ClosedChannelException e) {
            return false; // stopping
        } catch (IOException | IllegalArgumentException e) {
            sendErrors++;
            logSendError("cannot send to " + HostPort.format(to) + " with TTL " + ttlHops + ": " + e.getMessage());
            return false;
        }
    }

    /** Sends that failed so far (not counting TTL-limited ones that were not attempted). */
    long sendErrors() {
        return sendErrors;
    }

    private void warnTtlOnce(String reason) {
        if (!ttlWarned) {
            ttlWarned = true;
            LOG.warn("TTL-limited openers are not sent: {}", reason);
        } else {
            LOG.debug("TTL-limited opener not sent: {}", reason);
        }
    }

    private void logSendError(String message) {
        long now = clock.getAsLong();
        if (lastErrorLog == Long.MIN_VALUE || now - lastErrorLog >= ERROR_LOG_INTERVAL_NANOS) {
            lastErrorLog = now;
            LOG.warn("{} ({} send errors so far)", message, sendErrors);
        }
    }
}
