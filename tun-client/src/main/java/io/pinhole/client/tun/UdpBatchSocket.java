package io.pinhole.client.tun;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import io.pinhole.config.HostPort;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * UdpBatchSocket: a UDP socket of pinhole's own (not the JDK's), for the packet path: many
 * datagrams per system call ({@code recvmmsg}, {@code sendmmsg}), large ones cut and joined by
 * the kernel (UDP GSO with {@code UDP_SEGMENT}, UDP GRO with {@code UDP_GRO}), buffers forced past
 * the system's limits when allowed ({@code SO_RCVBUFFORCE}), and no exception or allocation on
 * the steady path.
 *
 * <p>The descriptor is non-blocking. {@link #receive} first asks for what is queued
 * ({@code recvmmsg} with {@code MSG_DONTWAIT}: one system call per batch while datagrams keep
 * coming) and waits in {@code poll} only when nothing is, together with an eventfd that
 * {@link #close} signals, so a blocked receiver returns at once. {@link #send} waits in
 * {@code poll} for room when the send buffer is full, so nothing is dropped for lack of it.
 *
 * <p>Every feature is detected, never assumed: {@link #enableGro()} says whether the kernel took
 * {@code UDP_GRO}; {@link #gsoSupported()} whether {@code UDP_SEGMENT} exists here (both Linux
 * 5.0 and later; without them, each message is one datagram).
 *
 * <p>Thread-safety: one thread may {@link #receive} while others {@link #send} (each with its own
 * {@link DatagramBatch}; sends take turns on a lock of their own, once per batch); {@link #close} may be called from any thread, once or more. The
 * descriptors are closed only when no call uses them ({@link CloseGate}).
 *
 * <p>Error contract: {@link #open} throws {@link SocketOptionException} naming the call, the
 * address and the errno (e.g. {@code EADDRINUSE}); {@link #receive} and {@link #send} throw it
 * only for a failure of the socket itself ({@code EBADF}, {@code EFAULT}, ...). A datagram the
 * kernel refuses to send ({@code ECONNREFUSED} from an earlier ICMP error, {@code ENETUNREACH},
 * {@code EMSGSIZE}, {@code EPERM} from a firewall) is skipped and counted by errno
 * ({@link #sendFailures(int)}); the rest of the batch still goes.
 */
public final class UdpBatchSocket implements AutoCloseable {
    private static final int POLL_SLICE_MILLIS = 500;
    private static final NativeLong TWO_FDS = new NativeLong(2);
    private static final NativeLong ONE_FD = new NativeLong(1);
    private static final int ERRNO_SLOTS = 134;

    private final int fd;
    private final boolean ownsFd;
    private final int wakeFd;
    private final InetSocketAddress local;
    private final int receiveBuffer;
    private final int sendBuffer;
    private final boolean gso;
    private final CloseGate gate;
    private final Memory receivePoll = new Memory(2L * Poll.POLLFD_SIZE);
    private final Memory sendPoll = new Memory(2L * Poll.POLLFD_SIZE);
    private final java.util.concurrent.locks.ReentrantLock sendLock = new java.util.concurrent.locks.ReentrantLock();
    private final AtomicLongArray sendFailures = new AtomicLongArray(ERRNO_SLOTS);
    private final java.util.concurrent.atomic.AtomicLong gsoRefused = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean gro;

    private UdpBatchSocket(int fd, boolean ownsFd, int wakeFd, InetSocketAddress local, int receiveBuffer,
                           int sendBuffer, boolean gso) {
        this.fd = fd;
        this.ownsFd = ownsFd;
        this.wakeFd = wakeFd;
        this.local = local;
        this.receiveBuffer = receiveBuffer;
        this.sendBuffer = sendBuffer;
        this.gso = gso;
        this.gate = new CloseGate(this::closeDescriptors);
        for (Memory fds : new Memory[] {receivePoll, sendPoll}) {
            fds.setInt(Poll.FD_OFFSET, fd);
            fds.setInt(Poll.POLLFD_SIZE + Poll.FD_OFFSET, wakeFd);
            fds.setShort(Poll.POLLFD_SIZE + Poll.EVENTS_OFFSET, Poll.POLLIN);
        }
        receivePoll.setShort(Poll.EVENTS_OFFSET, Poll.POLLIN);
        sendPoll.setShort(Poll.EVENTS_OFFSET, Poll.POLLOUT);
    }

    /**
     * Opens a UDP socket bound to {@code bind} (port 0: any free one; the wildcard for any
     * address), with receive and send buffers of {@code bufferBytes} each: forced past
     * {@code net.core.rmem_max} when the process may (CAP_NET_ADMIN), else as large as the system
     * allows ({@link #receiveBufferBytes()} says what the kernel gave).
     */
    public static UdpBatchSocket open(InetSocketAddress bind, int bufferBytes) throws SocketOptionException {
        InetAddress address = bind.getAddress();
        boolean v4 = address instanceof Inet4Address;
        int fd;
        try {
            fd = LibC.socket(v4 ? SysSocket.AF_INET : SysSocket.AF_INET6,
                    SysSocket.SOCK_DGRAM | SysSocket.SOCK_NONBLOCK | SysSocket.SOCK_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw failure("socket(" + (v4 ? "AF_INET" : "AF_INET6") + ", SOCK_DGRAM)", bind, e.getErrorCode(), e);
        }
        int wake = -1;
        try {
            setBuffer(fd, SysSocket.SO_RCVBUFFORCE, SysSocket.SO_RCVBUF, bufferBytes);
            setBuffer(fd, SysSocket.SO_SNDBUFFORCE, SysSocket.SO_SNDBUF, bufferBytes);
            Memory name = new Memory(DatagramBatch.NAME_SLOT);
            name.clear();
            int length = DatagramBatch.encode(name, 0, bind);
            try {
                LibC.bind(fd, name, length);
            } catch (LastErrorException e) {
                throw failure("bind", bind, e.getErrorCode(), e);
            }
            int[] nameLength = {DatagramBatch.NAME_SLOT};
            try {
                LibC.getsockname(fd, name, nameLength);
            } catch (LastErrorException e) {
                throw failure("getsockname", bind, e.getErrorCode(), e);
            }
            InetSocketAddress local = new InetSocketAddress(address,
                    Short.toUnsignedInt(Short.reverseBytes(name.getShort(2))));
            wake = wakeDescriptor(local);
            return of(fd, true, wake, local);
        } catch (SocketOptionException | RuntimeException e) {
            closeQuietly(fd);
            if (wake >= 0) {
                closeQuietly(wake);
            }
            throw e;
        }
    }

    /**
     * Batched calls on the descriptor of the JDK's {@code channel} (bound, blocking), which stays
     * the channel's: {@link #close} then closes only this object's eventfd, and the caller must
     * close the channel only after {@link #close} returned (a thread waiting in {@link #receive}
     * has left it then). Receives use {@code MSG_DONTWAIT}, so the channel's blocking mode does
     * not matter to them; a send waits while the send buffer is full, as the channel's would.
     *
     * @throws SocketOptionException when the descriptor is out of reach ({@value SocketTtl#ADD_OPENS}
     *     missing) or no eventfd can be made
     */
    public static UdpBatchSocket borrow(java.nio.channels.DatagramChannel channel) throws SocketOptionException {
        int fd = SocketTtl.descriptor(channel);
        InetSocketAddress local;
        try {
            local = (InetSocketAddress) channel.getLocalAddress();
        } catch (java.io.IOException e) {
            throw new SocketOptionException("UDP socket (fd " + fd + "): " + e.getMessage(), "getsockname", 0, false, e);
        }
        return of(fd, false, wakeDescriptor(local), local);
    }

    /** The eventfd that {@link #close} signals. */
    private static int wakeDescriptor(InetSocketAddress local) throws SocketOptionException {
        try {
            return LibC.eventfd(0, Eventfd.EFD_CLOEXEC | Eventfd.EFD_NONBLOCK);
        } catch (LastErrorException e) {
            throw failure("eventfd", local, e.getErrorCode(), e);
        }
    }

    /** The socket on {@code fd}, with the buffer sizes and GSO support the kernel reports for it. */
    private static UdpBatchSocket of(int fd, boolean owned, int wake, InetSocketAddress local) {
        return new UdpBatchSocket(fd, owned, wake, local, getInt(fd, SysSocket.SOL_SOCKET, SysSocket.SO_RCVBUF),
                getInt(fd, SysSocket.SOL_SOCKET, SysSocket.SO_SNDBUF), hasOption(fd, Udp.SOL_UDP, Udp.UDP_SEGMENT));
    }

    /** The local address and port the socket is bound to. */
    public InetSocketAddress localAddress() {
        return local;
    }

    /** The socket's descriptor, for options set by others ({@link SocketDevice}); valid until {@link #close}. */
    public int descriptor() {
        return fd;
    }

    /** The receive buffer the kernel gave (it doubles what it is asked for, for its bookkeeping). */
    public int receiveBufferBytes() {
        return receiveBuffer;
    }

    /** The send buffer the kernel gave. */
    public int sendBufferBytes() {
        return sendBuffer;
    }

    /** True when the kernel cuts a message into datagrams ({@code UDP_SEGMENT}, UDP GSO). */
    public boolean gsoSupported() {
        return gso;
    }

    /** True after {@link #enableGro()} succeeded. */
    public boolean groEnabled() {
        return gro;
    }

    /**
     * Asks the kernel to join consecutive datagrams of a flow into one received message
     * ({@code UDP_GRO}); false, and nothing changed, where it cannot. Messages then need buffers
     * of up to 64 KB and carry their {@link DatagramBatch#segmentSize}.
     */
    public boolean enableGro() {
        if (!gate.enter()) {
            return false;
        }
        try {
            LibC.setsockopt(fd, Udp.SOL_UDP, Udp.UDP_GRO, new int[] {1}, 4);
            gro = true;
        } catch (LastErrorException e) {
            gro = false;
        } finally {
            gate.exit();
        }
        return gro;
    }

    /**
     * Receives up to {@code batch.capacity()} messages, waiting up to {@code timeoutMillis} (0:
     * not at all; negative: until one comes or the socket is closed) for the first.
     *
     * @return how many messages {@code batch} now holds (its {@link DatagramBatch#count()}), 0 when
     *     none came in time, -1 when the socket is closed
     */
    public int receive(DatagramBatch batch, int timeoutMillis) throws SocketOptionException {
        if (!gate.enter()) {
            return -1;
        }
        try {
            long deadline = timeoutMillis > 0 ? System.nanoTime() + timeoutMillis * 1_000_000L : 0;
            for (;;) {
                batch.prepareReceive(gro);
                int n = LibC.recvmmsg(fd, batch.header(0), batch.capacity(), SysSocket.MSG_DONTWAIT, null);
                if (n >= 0) {
                    batch.received(n);
                    return n;
                }
                int errno = Native.getLastError();
                if (errno != Errno.EAGAIN && errno != Errno.EINTR) {
                    if (errno == Errno.ECONNREFUSED) {
                        continue; // an ICMP error for an earlier send, reported here: not this socket's failure
                    }
                    throw failure("recvmmsg", local, errno, null);
                }
                int wait = timeoutMillis < 0 ? POLL_SLICE_MILLIS : timeoutMillis == 0 ? 0
                        : (int) Math.min(POLL_SLICE_MILLIS, Math.max(0, (deadline - System.nanoTime() + 999_999) / 1_000_000));
                if (timeoutMillis >= 0 && wait == 0) {
                    batch.received(0);
                    return 0;
                }
                if (!await(receivePoll, wait)) {
                    batch.received(0);
                    return -1; // woken by close
                }
            }
        } finally {
            gate.exit();
        }
    }

    /**
     * Sends the batch's messages, in order, waiting for room in the send buffer when it is full.
     * A message the kernel refuses is skipped and counted ({@link #sendFailures(int)}).
     *
     * @return how many messages were sent; fewer than {@code batch.count()} only for refused ones
     *     or when the socket was closed meanwhile
     */
    public int send(DatagramBatch batch) throws SocketOptionException {
        if (!gate.enter()) {
            return 0;
        }
        sendLock.lock(); // one sender at a time: the poll descriptors for a full send buffer are shared
        try {
            int sent = 0;
            int next = 0;
            int total = batch.count();
            while (next < total) {
                int n = LibC.sendmmsg(fd, batch.header(next), total - next, 0);
                if (n > 0) {
                    sent += n;
                    next += n;
                    continue;
                }
                int errno = Native.getLastError();
                if (errno == Errno.EAGAIN || errno == Errno.ENOBUFS) {
                    if (!await(sendPoll, POLL_SLICE_MILLIS)) {
                        return sent; // closed
                    }
                } else if (errno == Errno.EINTR) {
                    continue;
                } else if (errno == Errno.EBADF || errno == Errno.EFAULT || errno == Errno.ENOTSOCK) {
                    throw failure("sendmmsg", local, errno, null);
                } else if ((errno == Errno.EIO || errno == Errno.EINVAL) && batch.segmented(next)) {
                    gsoRefused.incrementAndGet(); // the device or path cannot take this GSO message
                    next++;
                } else {
                    sendFailures.incrementAndGet(Math.min(errno, ERRNO_SLOTS - 1));
                    next++; // this one cannot go; the others may
                }
            }
            return sent;
        } finally {
            sendLock.unlock();
            gate.exit();
        }
    }

    /**
     * How many GSO messages (several datagrams each) the kernel refused with {@code EIO} or
     * {@code EINVAL}: the path cannot segment; the caller should stop joining datagrams.
     */
    public long gsoRefused() {
        return gsoRefused.get();
    }

    /** How many messages the kernel refused with {@code errno} so far (e.g. {@code ECONNREFUSED} = 111). */
    public long sendFailures(int errno) {
        return errno > 0 && errno < ERRNO_SLOTS ? sendFailures.get(errno) : 0;
    }

    /** Waits in poll for {@code fds}' socket event or the wake-up; false when woken by close. */
    private boolean await(Memory fds, int millis) throws SocketOptionException {
        if (gate.isCloseRequested()) {
            return false;
        }
        fds.setShort(Poll.REVENTS_OFFSET, (short) 0);
        fds.setShort(Poll.POLLFD_SIZE + Poll.REVENTS_OFFSET, (short) 0);
        try {
            LibC.poll(fds, TWO_FDS, millis);
        } catch (LastErrorException e) {
            if (e.getErrorCode() != Errno.EINTR) {
                throw failure("poll", local, e.getErrorCode(), e);
            }
        }
        return fds.getShort(Poll.POLLFD_SIZE + Poll.REVENTS_OFFSET) == 0 && !gate.isCloseRequested();
    }

    /** Closes the socket; a thread blocked in {@link #receive} or {@link #send} returns at once. Idempotent. */
    @Override
    public void close() {
        if (gate.beginClose()) {
            try {
                Memory one = new Memory(8);
                one.setLong(0, 1L);
                try {
                    LibC.write(wakeFd, one, new NativeLong(8));
                } catch (LastErrorException e) {
                    // the waiter notices the close within POLL_SLICE_MILLIS
                }
            } finally {
                gate.exit();
            }
        }
        gate.awaitClosed();
    }

    private void closeDescriptors() {
        if (ownsFd) {
            closeQuietly(fd);
        }
        closeQuietly(wakeFd);
    }

    @Override
    public String toString() {
        return "UdpBatchSocket[fd " + fd + ", " + HostPort.format(local) + (gate.isCloseRequested() ? ", closed]" : "]");
    }

    private static void setBuffer(int fd, int force, int plain, int bytes) {
        try {
            LibC.setsockopt(fd, SysSocket.SOL_SOCKET, force, new int[] {bytes}, 4);
        } catch (LastErrorException e) {
            try {
                LibC.setsockopt(fd, SysSocket.SOL_SOCKET, plain, new int[] {bytes}, 4); // capped at the sysctl maximum
            } catch (LastErrorException ignored) {
                // the default stays; receiveBufferBytes() tells
            }
        }
    }

    private static int getInt(int fd, int level, int option) {
        int[] value = {0};
        try {
            LibC.getsockopt(fd, level, option, value, new int[] {4});
            return value[0];
        } catch (LastErrorException e) {
            return -1;
        }
    }

    private static boolean hasOption(int fd, int level, int option) {
        int[] value = {0};
        try {
            LibC.getsockopt(fd, level, option, value, new int[] {4});
            return true;
        } catch (LastErrorException e) {
            return false; // ENOPROTOOPT: this kernel has no such option
        }
    }

    private static SocketOptionException failure(String call, InetSocketAddress address, int errno, Throwable cause) {
        return new SocketOptionException("UDP socket " + HostPort.format(address) + ": " + call + " failed: "
                + Errno.name(errno) + " (" + LibC.describe(errno) + ")", call, errno, false, cause);
    }

    private static void closeQuietly(int descriptor) {
        try {
            LibC.close(descriptor);
        } catch (LastErrorException ignored) {
            // nothing more to do
        }
    }
}
