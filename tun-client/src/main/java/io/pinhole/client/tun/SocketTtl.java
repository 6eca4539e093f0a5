package io.pinhole.client.tun;

import com.sun.jna.LastErrorException;
import io.pinhole.config.HostPort;
import java.io.IOException;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.UnresolvedAddressException;

/**
 * SocketTtl sends single datagrams on a {@link DatagramChannel} with the IP time-to-live limited
 * to a few hops, which the JDK cannot do (it has no unicast TTL socket option): it sets
 * {@code IP_TTL} (for an IPv4 destination, also on an IPv6 socket, where it covers IPv4-mapped
 * traffic) or {@code IPV6_UNICAST_HOPS} (for an IPv6 destination) on the socket's file
 * descriptor, sends, and puts the previous value back. The previous value is read with
 * {@code getsockopt} once per option, the first time it is needed, so nobody else may change
 * those options on the socket.
 *
 * <p>The file descriptor comes from the JDK's {@code sun.nio.ch.DatagramChannelImpl.getFDVal()}
 * through reflection, which needs the JVM option {@value #ADD_OPENS} ({@code bin/pinhole} passes
 * it, and so does the jar's manifest); {@link #of} says so when it is missing.
 *
 * <p>Thread-safety: not thread-safe, and stricter than that: {@link #send} changes a property of
 * the socket for the length of one send, so the caller must serialise it with <em>every</em> send
 * on the channel (or another thread's datagram could leave with the limited TTL), and must not
 * close the channel concurrently (close it under the same lock: the descriptor number could
 * otherwise be reused before the TTL is restored). Receiving concurrently is fine.
 *
 * <p>Error contract: {@link SocketOptionException} (see its message format) when the TTL cannot
 * be limited, in which case nothing was sent, or cannot be restored afterwards, in which case
 * the datagram was sent ({@link SocketOptionException#sent()}), the socket keeps the limited
 * value and {@link #restorePending()} is true until {@link #restore()} succeeds; the channel's
 * own exceptions from the send, after the TTL was put back; {@link IllegalArgumentException}
 * for a TTL outside 1..255.
 */
public final class SocketTtl {
    /** The JVM option that lets {@link #of} reach the socket's file descriptor. */
    public static final String ADD_OPENS = "--add-opens java.base/sun.nio.ch=ALL-UNNAMED";
    private static final int UNKNOWN = -1;

    /** One of the two options, with its level and name for messages. */
    private enum Option {
        IPV4(In.IPPROTO_IP, In.IP_TTL, "IPPROTO_IP, IP_TTL"),
        IPV6(In.IPPROTO_IPV6, In.IPV6_UNICAST_HOPS, "IPPROTO_IPV6, IPV6_UNICAST_HOPS");

        final int level;
        final int name;
        final String label;

        Option(int level, int name, String label) {
            this.level = level;
            this.name = name;
            this.label = label;
        }
    }

    private final DatagramChannel channel;
    private final int fd;
    private final int[] previous = {UNKNOWN, UNKNOWN};
    private Option pending;

    private SocketTtl(DatagramChannel channel, int fd) {
        this.channel = channel;
        this.fd = fd;
    }

    /**
     * A SocketTtl for {@code channel} (not owned: closing stays the caller's job).
     *
     * @throws SocketOptionException if the channel's file descriptor is out of reach (no
     *     {@value #ADD_OPENS}, or a JDK whose channel has no {@code getFDVal()})
     */
    public static SocketTtl of(DatagramChannel channel) throws SocketOptionException {
        return new SocketTtl(channel, descriptor(channel));
    }

    /** A SocketTtl that uses {@code fd} as the channel's descriptor (tests: a descriptor that is no socket). */
    static SocketTtl of(DatagramChannel channel, int fd) {
        return new SocketTtl(channel, fd);
    }

    /** The channel's file descriptor, through {@code sun.nio.ch}'s {@code getFDVal()}. */
    static int descriptor(DatagramChannel channel) throws SocketOptionException {
        String what = "cannot limit the TTL of " + describe(channel, -1) + ": ";
        try {
            Method getFdVal = channel.getClass().getMethod("getFDVal");
            getFdVal.setAccessible(true);
            return (Integer) getFdVal.invoke(channel);
        } catch (InaccessibleObjectException e) {
            throw new SocketOptionException(what + "the JDK does not let pinhole read the socket's file descriptor"
                    + " (java.base does not open sun.nio.ch; start java with " + ADD_OPENS + ", as bin/pinhole does)",
                    "getFDVal", 0, false, e);
        } catch (NoSuchMethodException | IllegalAccessException | InvocationTargetException | ClassCastException
                 | SecurityException e) {
            throw new SocketOptionException(what + "cannot read the socket's file descriptor from "
                    + channel.getClass().getName() + ".getFDVal(): " + e, "getFDVal", 0, false, e);
        }
    }

    /**
     * Sends {@code datagram} (position..limit) to {@code to} with the IP TTL (IPv6: hop limit)
     * set to {@code ttl}, then puts the previous value back. A pending restore is done first.
     *
     * @return true if the datagram was sent; false only for a non-blocking channel without room
     * @throws SocketOptionException if the TTL could not be limited (nothing was sent) or restored
     *     (the datagram was sent: see {@link SocketOptionException#sent()})
     * @throws IOException from the channel's send, after the TTL was restored
     * @throws IllegalArgumentException if {@code ttl} is not 1..255
     */
    public boolean send(InetSocketAddress to, ByteBuffer datagram, int ttl) throws IOException {
        if (ttl < 1 || ttl > 255) {
            throw new IllegalArgumentException("TTL must be 1..255, not " + ttl);
        }
        if (!channel.isOpen()) {
            throw new ClosedChannelException();
        }
        if (to.isUnresolved()) {
            throw new UnresolvedAddressException();
        }
        restore();
        Option option = to.getAddress() instanceof Inet6Address ? Option.IPV6 : Option.IPV4;
        int before = previous(option);
        set(option, ttl, "limit", false);
        int length = datagram.remaining();
        int sent;
        try {
            sent = channel.send(datagram, to);
        } catch (IOException | RuntimeException e) {
            try {
                set(option, before, "restore", false);
            } catch (SocketOptionException restoreFailed) {
                pending = option;
                e.addSuppressed(restoreFailed);
            }
            throw e;
        }
        try {
            set(option, before, "restore", true);
        } catch (SocketOptionException e) {
            pending = option;
            throw e;
        }
        return sent == length;
    }

    /** True when a failed restore left the socket's TTL limited. */
    public boolean restorePending() {
        return pending != null;
    }

    /**
     * Puts back the TTL that a failed restore left limited; does nothing when none is pending.
     *
     * @throws SocketOptionException if that fails again
     */
    public void restore() throws SocketOptionException {
        if (pending != null) {
            set(pending, previous[pending.ordinal()], "restore", false);
            pending = null;
        }
    }

    private int previous(Option option) throws SocketOptionException {
        int value = previous[option.ordinal()];
        if (value == UNKNOWN) {
            int[] out = new int[1];
            int[] length = {Integer.BYTES};
            try {
                LibC.getsockopt(fd, option.level, option.name, out, length);
            } catch (LastErrorException e) {
                throw failure("read the TTL of", "getsockopt(" + option.label + ")", e, false);
            }
            value = out[0];
            previous[option.ordinal()] = value;
        }
        return value;
    }

    private void set(Option option, int value, String verb, boolean sent) throws SocketOptionException {
        try {
            LibC.setsockopt(fd, option.level, option.name, new int[] {value}, Integer.BYTES);
        } catch (LastErrorException e) {
            throw failure(verb + " the TTL of", "setsockopt(" + option.label + ", " + value + ")", e, sent);
        }
    }

    private SocketOptionException failure(String what, String operation, LastErrorException e, boolean sent) {
        int errno = e.getErrorCode();
        String message = "cannot " + what + " " + describe(channel, fd) + ": " + operation + " failed: "
                + Errno.name(errno) + " (" + LibC.describe(errno) + ")"
                + (sent ? "; the datagram was sent, but the socket keeps the limited TTL for now" : "");
        return new SocketOptionException(message, operation, errno, sent, e);
    }

    /** {@code UDP socket 0.0.0.0:40000 (fd 12)}, from what is known. */
    private static String describe(DatagramChannel channel, int fd) {
        String local;
        try {
            SocketAddress address = channel.getLocalAddress();
            local = address instanceof InetSocketAddress a ? HostPort.format(a) : "(unbound)";
        } catch (IOException e) {
            local = "(closed)";
        }
        return "UDP socket " + local + (fd >= 0 ? " (fd " + fd + ")" : "");
    }
}
