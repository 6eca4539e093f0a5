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
 * UdpSender: the client's one sending stack for a UDP socket, the main one and each spare one
 * alike: plain sends, and the TTL-limited ones of {@link io.pinhole.peer.PeerOutput#sendWithTtl}
 * and {@link io.pinhole.peer.PeerOutput#sendFrom} (through {@link SocketTtl}, made on the first
 * TTL-limited send). A TTL left limited by a failed restore is put back before the next plain
 * send, whichever socket it is (a spare socket can become the path). Failures go to a
 * {@link SendLog}, one per group of sockets (the main socket; all spare sockets together), so a
 * few hundred spare sockets failing alike log as one.
 *
 * <p>Thread-safety: not thread-safe. {@link ClientRuntime} calls it only with its machine lock
 * held: every send comes out of a call into the {@code PeerMachine} ({@code start},
 * {@code onDatagram}, {@code onTunPacket}, {@code onTick}, {@code leave}), all of which the
 * runtime makes under that one lock, and the runtime closes the channel under the same lock (a
 * spare socket's sender is also called inside {@link SpareSockets}' own lock). That is what makes
 * a TTL-limited send safe: setting the TTL, sending and restoring it cannot interleave with any
 * other send on the socket, and the descriptor cannot be closed (and its number reused) in between.
 *
 * <p>Error contract: never throws; a failed send (an I/O error, or no buffer space on a
 * non-blocking socket) returns false, is counted and logged (at most once every 10 s per
 * {@link SendLog}). {@link #sendWithTtl} returns false, and sends nothing, when the TTL cannot be
 * limited: the socket's descriptor is out of reach (the JVM lacks {@value SocketTtl#ADD_OPENS}) or
 * {@code setsockopt} fails; the first such failure of a {@link SendLog} is logged at WARNING with
 * its reason (errno and name included), later ones at DEBUG. A datagram is never sent at full TTL
 * instead.
 */
final class UdpSender {
    private static final Logger LOG = LoggerFactory.getLogger(LogNames.CLIENT);
    private static final long ERROR_LOG_INTERVAL_NANOS = 10_000_000_000L;

    /** Makes the {@link SocketTtl} of a channel ({@code SocketTtl::of} outside tests). */
    @FunctionalInterface
    interface TtlAccess {
        SocketTtl open(DatagramChannel channel) throws SocketOptionException;
    }

    /**
     * SendLog: the failures of one group of senders: counted, logged at WARNING at most once every
     * 10 s with the count, and TTL-limited sends that cannot be made said once at WARNING, then at
     * DEBUG. Never throws. Not thread-safe: used under the same lock as its senders.
     */
    static final class SendLog {
        private final String group;
        private final String ttlRefused;
        private final LongSupplier clock;
        private long errors;
        private long lastErrorLog = Long.MIN_VALUE;
        private boolean ttlWarned;

        /**
         * @param group what the error count is of, after "send errors" (empty for the main socket)
         * @param ttlRefused what is not sent when the TTL cannot be limited
         * @param clock monotonic nanoseconds, for rate-limiting the log
         */
        SendLog(String group, String ttlRefused, LongSupplier clock) {
            this.group = group;
            this.ttlRefused = ttlRefused;
            this.clock = clock;
        }

        /** A failed send: counted and logged. */
        void failed(String message) {
            errors++;
            log(message);
        }

        /** Logged (at most every 10 s), not counted. */
        void log(String message) {
            long now = clock.getAsLong();
            if (lastErrorLog == Long.MIN_VALUE || now - lastErrorLog >= ERROR_LOG_INTERVAL_NANOS) {
                lastErrorLog = now;
                LOG.warn("{} ({} send errors{} so far)", message, errors, group);
            }
        }

        /** A TTL-limited send not made, for {@code reason}. */
        void ttlUnavailable(String reason) {
            if (!ttlWarned) {
                ttlWarned = true;
                LOG.warn("{}: {}", ttlRefused, reason);
            } else {
                LOG.debug("{}: {}", ttlRefused, reason);
            }
        }

        /** Sends that failed so far (not counting TTL-limited ones that were not attempted). */
        long errors() {
            return errors;
        }
    }

    private final DatagramChannel udp;
    /** The socket's name in log lines ("the UDP socket", "spare socket 7"), and " from" it for a spare one. */
    private final String name;
    private final String from;
    private final SendLog log;
    private final TtlAccess access;
    /** Null until the first TTL-limited send, and when the descriptor is out of reach; then {@link #ttlUnavailable} says why. */
    private SocketTtl ttl;
    private boolean ttlOpened;
    private String ttlUnavailable;

    /**
     * The main socket's sender.
     *
     * @param udp the client's channel (not owned)
     * @param clock monotonic nanoseconds, for rate-limiting the error log
     */
    UdpSender(DatagramChannel udp, LongSupplier clock) {
        this(udp, clock, SocketTtl::of);
    }

    UdpSender(DatagramChannel udp, LongSupplier clock, TtlAccess access) {
        this(udp, "the UDP socket", "", new SendLog("", "TTL-limited openers are not sent", clock), access);
    }

    /**
     * @param udp the channel (not owned)
     * @param name the socket's name in log lines
     * @param from " from" the socket in log lines, or empty for the main socket
     * @param log where failures go (shared by a group of sockets)
     * @param access how the channel's TTL is reached
     */
    UdpSender(DatagramChannel udp, String name, String from, SendLog log, TtlAccess access) {
        this.udp = udp;
        this.name = name;
        this.from = from;
        this.log = log;
        this.access = access;
    }

    /**
     * Sends {@code datagram} (position..limit) to {@code to} with the socket's TTL.
     *
     * @return true if it was sent
     */
    boolean send(InetSocketAddress to, ByteBuffer datagram) {
        if (ttl != null && ttl.restorePending()) {
            try {
                ttl.restore();
                LOG.info("the TTL of {} is restored", name);
            } catch (SocketOptionException e) {
                log.log(name + " still has a limited TTL, so this datagram may not reach " + HostPort.format(to) + ": "
                        + e.getMessage());
            }
        }
        try {
            int length = datagram.remaining();
            if (udp.send(datagram, to) == length) {
                return true;
            }
            log.failed("no buffer space to send to " + HostPort.format(to) + from); // a non-blocking socket
        } catch (ClosedChannelException e) {
            // stopping, or closed
        } catch (IOException | IllegalArgumentException e) {
            log.failed("cannot send to " + HostPort.format(to) + from + ": " + e.getMessage());
        }
        return false;
    }

    /**
     * Sends {@code datagram} to {@code to} with the IP TTL limited to {@code ttlHops} hops.
     *
     * @return true if it was sent with that TTL; false if nothing was sent
     */
    boolean sendWithTtl(InetSocketAddress to, ByteBuffer datagram, int ttlHops) {
        SocketTtl limited = ttl();
        if (limited == null) {
            log.ttlUnavailable(ttlUnavailable);
            return false;
        }
        try {
            return limited.send(to, datagram, ttlHops);
        } catch (SocketOptionException e) {
            if (e.sent()) {
                LOG.error("{} (restoring it again before the next send)", e.getMessage());
                return true;
            }
            log.ttlUnavailable(e.getMessage());
            return false;
        } catch (ClosedChannelException e) {
            return false; // stopping, or closed
        } catch (IOException | IllegalArgumentException e) {
            log.failed("cannot send to " + HostPort.format(to) + from + " with TTL " + ttlHops + ": " + e.getMessage());
            return false;
        }
    }

    /** The socket's TTL access, made once (reflection and getsockopt), or null when out of reach. */
    private SocketTtl ttl() {
        if (!ttlOpened) {
            ttlOpened = true;
            try {
                ttl = access.open(udp);
            } catch (SocketOptionException e) {
                ttlUnavailable = e.getMessage();
            }
        }
        return ttl;
    }

    /** Sends that failed so far in this sender's {@link SendLog} (not counting TTL-limited ones that were not attempted). */
    long sendErrors() {
        return log.errors();
    }
}
