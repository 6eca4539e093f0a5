package io.pinhole.client.tun;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import io.pinhole.config.LogNames;
import java.lang.ref.Reference;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TunDevice is a Linux TUN (layer 3, IP packets without the packet-information header) network
 * device, opened from {@code /dev/net/tun} and configured entirely through system calls (JNA
 * direct mapping; no external commands).
 *
 * <p>Lifecycle: {@link #open(String)} creates the device (or attaches to an existing, unused,
 * persistent TUN device of that name), {@link #configure} assigns a point-to-point IPv4 address,
 * MTU and brings it up, {@link #read} and {@link #write} move one IP packet per call, and
 * {@link #close()} releases it. A non-persistent device disappears from the system when it is
 * closed. The device lives in the network namespace of the thread that called {@code open}.
 *
 * <p>Thread-safety: all methods are thread-safe. The intended use is one reader thread and one
 * writer thread working at the same time; concurrent {@code read} calls are serialized with each
 * other, as are concurrent {@code write} calls and {@code configure} calls. {@link #close()} may
 * be called from any thread at any time: a reader blocked in {@code read} is woken (through an
 * eventfd) and returns -1, and the file descriptors are closed exactly once, by whichever thread
 * leaves the device last, so a descriptor number is never used after it has been closed.
 *
 * <p>Error contract: failures are reported as {@link TunException} or one of its subclasses
 * ({@link TunPermissionException}, {@link TunUnavailableException}, {@link TunNameTakenException},
 * {@link TunConfigException}, {@link TunClosedException}); each message names the device, the
 * failed operation, the errno symbol and the {@code strerror} text. Invalid arguments (bad name,
 * null, empty or read-only buffers) throw {@link IllegalArgumentException},
 * {@link NullPointerException} or {@link ReadOnlyBufferException}. After {@code close()},
 * {@code read} returns -1 and {@code write}/{@code configure} throw {@link TunClosedException}.
 */
public final class TunDevice implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LogNames.TUN);

    /** Largest packet handled by the heap-buffer copy path (a TUN MTU is at most 65535). */
    static final int MAX_PACKET = 65536;
    /** Length of the {@code struct virtio_net_hdr} before each packet of a device with offloads. */
    public static final int VNET_HEADER = 10;
    /** The longest read or write of a device with a virtio header: the header and a 64 KB packet. */
    public static final int MAX_RECORD = MAX_PACKET + VNET_HEADER;
    /** The offload sets tried in turn, the best first: checksum and TSO with USO, without, checksum alone. */
    private static final int[] OFFLOAD_SETS = {
        IfTun.TUN_F_CSUM | IfTun.TUN_F_TSO4 | IfTun.TUN_F_TSO6 | IfTun.TUN_F_USO4 | IfTun.TUN_F_USO6,
        IfTun.TUN_F_CSUM | IfTun.TUN_F_TSO4 | IfTun.TUN_F_TSO6,
        IfTun.TUN_F_CSUM,
    };
    /**
     * The transmit queue {@link #configure(Inet4Address, Inet4Address, int)} gives the device, in
     * packets (the kernel's default for TUN is 500). TUN drops only when this queue is full, so
     * under a bulk TCP transfer it stays full, and every packet, a ping too, waits behind it:
     * 500 full-size packets are 7 ms at 800 Mb/s, 128 are 1.8 ms (issue 10's RTT under load;
     * 64 cost throughput in bench/compare.sh, 128 did not).
     */
    public static final int DEFAULT_TX_QUEUE_LENGTH = 128;

    /** Upper bound of one poll(2) wait, so an unbounded read re-checks the closed flag regularly. */
    private static final int POLL_SLICE_MILLIS = 1000;
    private static final NativeLong TWO_FDS = new NativeLong(2);
    private static final Inet4Address HOST_NETMASK = inet4(new byte[] {-1, -1, -1, -1});
    /** The kernel's IPv6 settings; missing when it has no IPv6. */
    private static final String IPV6_SYSCTL = "/proc/sys/net/ipv6";

    private final String name;
    private final byte[] nameBytes;
    private final int fd;
    private final int wakeFd;
    private final CloseGate gate;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Object configureLock = new Object();
    /** Two struct pollfd: [0] the TUN fd, [1] the wake-up eventfd. Guarded by readLock. */
    private final Memory pollFds;
    /** Copy buffer for heap-buffer reads, allocated on first use. Guarded by readLock. */
    private Memory readScratch;
    /** Copy buffer for heap-buffer writes, allocated on first use. Guarded by writeLock. */
    private Memory writeScratch;
    /** The TUN_F_* offloads the kernel accepted, or -1 for a device without the virtio header. */
    private final int offloads;

    private TunDevice(String name, int fd, int wakeFd, int offloads) {
        this.name = name;
        this.offloads = offloads;
        this.nameBytes = name.getBytes(StandardCharsets.UTF_8);
        this.fd = fd;
        this.wakeFd = wakeFd;
        this.gate = new CloseGate(this::closeDescriptors);
        this.pollFds = new Memory(2L * Poll.POLLFD_SIZE);
        pollFds.clear();
        pollFds.setInt(Poll.FD_OFFSET, fd);
        pollFds.setShort(Poll.EVENTS_OFFSET, Poll.POLLIN);
        pollFds.setInt(Poll.POLLFD_SIZE + Poll.FD_OFFSET, wakeFd);
        pollFds.setShort(Poll.POLLFD_SIZE + Poll.EVENTS_OFFSET, Poll.POLLIN);
    }

    /**
     * Opens {@code /dev/net/tun} and creates (or attaches to) the TUN device {@code name} with
     * {@code IFF_TUN | IFF_NO_PI}. The name may contain one {@code %d}, e.g. {@code "tun%d"}; the
     * kernel then picks a free number, and {@link #name()} returns the result.
     *
     * <p>An existing persistent TUN device of that name that no process is using is attached to,
     * not replaced (that is how a pre-created device, e.g. from {@code ip tuntap add}, is used).
     *
     * @param name interface name: 1 to 15 bytes (UTF-8), no '/', ':', whitespace or control characters
     * @return the open device; the caller must {@link #close()} it
     * @throws IllegalArgumentException if {@code name} is not a valid interface name
     * @throws TunPermissionException   EPERM/EACCES: not root and no CAP_NET_ADMIN
     * @throws TunUnavailableException  ENOENT/ENODEV/ENXIO: no {@code /dev/net/tun} or no tun driver
     * @throws TunNameTakenException    EBUSY: the device is in use by another process; or the name
     *                                  belongs to an interface that is not a TUN device
     * @throws TunException             any other failure of open, TUNSETIFF or eventfd
     */
    public static TunDevice open(String name) throws TunException {
        return open(name, false);
    }

    /**
     * As {@link #open(String)}; with {@code offloads}, also asks for the kernel's offloads: the
     * device is created with {@code IFF_VNET_HDR} and {@code TUNSETOFFLOAD} is tried with checksum,
     * TSO4/TSO6 and USO4/USO6, then without USO, then checksum alone ({@link #offloads()} says
     * which the kernel took). Every read then starts with a {@value #VNET_HEADER}-byte virtio
     * header and may be a super-packet of up to 64 KB (see {@code io.pinhole.offload.Segmenter});
     * {@link #write} puts a header saying "plain packet" before what it writes, and
     * {@link #writeRecord} writes a record that has its own. If the kernel refuses the virtio
     * header (an existing persistent device made without it, say), the device is opened without
     * it, as by {@link #open(String)}.
     */
    public static TunDevice open(String name, boolean offloads) throws TunException {
        if (offloads) {
            try {
                return open(name, IfTun.IFF_VNET_HDR);
            } catch (TunException e) {
                if (e.errno() != Errno.EINVAL || e instanceof TunNameTakenException) {
                    throw e;
                }
                log.info("TUN device {}: the kernel refused a virtio header ({}); no offloads", name, e.getMessage());
            }
        }
        return open(name, (short) 0);
    }

    private static TunDevice open(String name, short extraFlags) throws TunException {
        byte[] requested = InterfaceName.encode(name);
        int fd = -1;
        int wakeFd = -1;
        boolean ok = false;
        try {
            try {
                fd = LibC.open(IfTun.CLONE_DEVICE, Fcntl.O_RDWR | Fcntl.O_CLOEXEC | Fcntl.O_NONBLOCK); // poll waits
            } catch (LastErrorException e) {
                throw error(TunErrors.Phase.CREATE, name, "open", IfTun.CLONE_DEVICE, e);
            }
            Ifreq req = Ifreq.withName(requested).flags(IfTun.IFF_TUN | IfTun.IFF_NO_PI | extraFlags);
            try {
                ioctl(fd, IfTun.TUNSETIFF, req);
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno == Errno.EINVAL && interfaceExists(requested)) {
                    throw TunErrors.nameTakenByOtherInterface(name, "TUNSETIFF", errno, LibC.describe(errno), e);
                }
                throw error(TunErrors.Phase.CREATE, name, "TUNSETIFF", null, e);
            }
            String actual = req.name();
            try {
                wakeFd = LibC.eventfd(0, Eventfd.EFD_CLOEXEC);
            } catch (LastErrorException e) {
                throw error(TunErrors.Phase.CREATE, actual, "eventfd", null, e);
            }
            int accepted = extraFlags == 0 ? -1 : enableOffloads(fd, actual);
            TunDevice device = new TunDevice(actual, fd, wakeFd, accepted);
            ok = true;
            log.debug("opened TUN device {} (requested {}, fd {})", actual, name, fd);
            return device;
        } finally {
            if (!ok) {
                closeQuietly(wakeFd, name, "eventfd");
                closeQuietly(fd, name, IfTun.CLONE_DEVICE);
            }
        }
    }

    /**
     * Sets the virtio header length and the best offload set the kernel takes; returns the
     * TUN_F_* bits accepted (0: none, the header stays and says "plain packet" both ways).
     */
    private static int enableOffloads(int fd, String name) throws TunException {
        Memory size = new Memory(4);
        size.setInt(0, VNET_HEADER);
        try {
            LibC.ioctl(fd, new NativeLong(Integer.toUnsignedLong(IfTun.TUNSETVNETHDRSZ)), size);
        } catch (LastErrorException e) {
            throw error(TunErrors.Phase.CREATE, name, "TUNSETVNETHDRSZ", VNET_HEADER + " bytes", e);
        }
        for (int set : OFFLOAD_SETS) {
            try {
                LibC.ioctl(fd, new NativeLong(Integer.toUnsignedLong(IfTun.TUNSETOFFLOAD)), Pointer.createConstant(set));
                return set;
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINVAL) {
                    throw error(TunErrors.Phase.CREATE, name, "TUNSETOFFLOAD", describeOffloads(set), e);
                }
            }
        }
        return 0;
    }

    /** The TUN_F_* bits {@code set} in words, e.g. {@code "checksum, TSO4, TSO6"}. */
    public static String describeOffloads(int set) {
        if (set <= 0) {
            return "none";
        }
        StringBuilder b = new StringBuilder();
        String[] names = {"checksum", "TSO4", "TSO6", "", "", "USO4", "USO6"};
        for (int bit = 0; bit < names.length; bit++) {
            if ((set & (1 << bit)) != 0 && !names[bit].isEmpty()) {
                b.append(b.length() == 0 ? "" : ", ").append(names[bit]);
            }
        }
        return b.toString();
    }

    /** True when every read and write carries a {@value #VNET_HEADER}-byte virtio header ({@link #open(String, boolean)}). */
    public boolean vnetHeader() {
        return offloads >= 0;
    }

    /** The TUN_F_* offloads the kernel accepted; -1 without a virtio header, 0 for none. */
    public int offloads() {
        return offloads;
    }

    /** True when reads may be TCP super-packets (TSO4 or TSO6 accepted). */
    public boolean segmentationOffload() {
        return offloads > 0 && (offloads & (IfTun.TUN_F_TSO4 | IfTun.TUN_F_TSO6)) != 0;
    }

    /** The interface name the kernel assigned (e.g. {@code tun0} for a request of {@code tun%d}). */
    public String name() {
        return name;
    }

    /** True until {@link #close()} has been called. */
    public boolean isOpen() {
        return !gate.isCloseRequested();
    }

    /**
     * Configures the device as the local end of an IPv4 point-to-point link and brings it up:
     * SIOCSIFADDR {@code local}, SIOCSIFDSTADDR {@code peer}, SIOCSIFNETMASK 255.255.255.255,
     * SIOCSIFMTU {@code mtu}, SIOCSIFTXQLEN {@value #DEFAULT_TX_QUEUE_LENGTH}, then sets IFF_UP|IFF_RUNNING. Afterwards {@code ip addr} shows
     * {@code inet LOCAL peer PEER/32} and the kernel routes PEER through this device. The calls go
     * through a temporary AF_INET datagram socket that is closed before returning, also on failure.
     * Not atomic: if a step fails, the earlier steps stay in effect.
     *
     * @throws TunConfigException     an ioctl failed, e.g. EINVAL for an MTU outside the device's range
     * @throws TunPermissionException EPERM/EACCES
     * @throws TunClosedException     the device has been closed
     */
    public void configure(Inet4Address local, Inet4Address peer, int mtu) throws TunException {
        configure(local, peer, mtu, DEFAULT_TX_QUEUE_LENGTH);
    }

    /**
     * As {@link #configure(Inet4Address, Inet4Address, int)}, with a transmit queue of
     * {@code txQueueLength} packets (SIOCSIFTXQLEN, after the MTU).
     */
    public void configure(Inet4Address local, Inet4Address peer, int mtu, int txQueueLength) throws TunException {
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(peer, "peer");
        synchronized (configureLock) {
            if (!gate.enter()) {
                throw TunErrors.closed(name, "configure");
            }
            try {
                int sock;
                try {
                    sock = LibC.socket(SysSocket.AF_INET, SysSocket.SOCK_DGRAM | SysSocket.SOCK_CLOEXEC, 0);
                } catch (LastErrorException e) {
                    throw error(TunErrors.Phase.CONFIGURE, name, "socket", "AF_INET, SOCK_DGRAM", e);
                }
                try {
                    interfaceIoctl(sock, Sockios.SIOCSIFADDR, "SIOCSIFADDR", local.getHostAddress(),
                            Ifreq.withName(nameBytes).address(local));
                    interfaceIoctl(sock, Sockios.SIOCSIFDSTADDR, "SIOCSIFDSTADDR", peer.getHostAddress(),
                            Ifreq.withName(nameBytes).address(peer));
                    interfaceIoctl(sock, Sockios.SIOCSIFNETMASK, "SIOCSIFNETMASK", "255.255.255.255",
                            Ifreq.withName(nameBytes).address(HOST_NETMASK));
                    interfaceIoctl(sock, Sockios.SIOCSIFMTU, "SIOCSIFMTU", "mtu " + mtu,
                            Ifreq.withName(nameBytes).intValue(mtu));
                    interfaceIoctl(sock, Sockios.SIOCSIFTXQLEN, "SIOCSIFTXQLEN", "txqueuelen " + txQueueLength,
                            Ifreq.withName(nameBytes).intValue(txQueueLength));
                    Ifreq flags = Ifreq.withName(nameBytes);
                    interfaceIoctl(sock, Sockios.SIOCGIFFLAGS, "SIOCGIFFLAGS", null, flags);
                    int up = flags.flags() | If.IFF_UP | If.IFF_RUNNING;
                    interfaceIoctl(sock, Sockios.SIOCSIFFLAGS, "SIOCSIFFLAGS", "IFF_UP|IFF_RUNNING",
                            flags.flags(up));
                } finally {
                    closeQuietly(sock, name, "control socket");
                }
                log.debug("configured TUN device {}: {} peer {}/32 mtu {} up", name,
                        local.getHostAddress(), peer.getHostAddress(), mtu);
            } finally {
                gate.exit();
            }
        }
    }

    /**
     * Routes the network {@code network}/{@code prefix} through this device, as
     * {@code ip route add NETWORK/PREFIX dev NAME} does: {@code SIOCADDRT} on a temporary AF_INET
     * socket with a {@code struct rtentry} ({@link Route}) for IPv4, on an AF_INET6 socket with a
     * {@code struct in6_rtmsg} ({@link Ipv6Route}, metric 1024) for IPv6. The device must be up
     * ({@link #configure}); an IPv6 route needs IPv6 on the device ({@link #ipv6}).
     *
     * @param network the network address, host bits zero
     * @param prefix 0-32 for IPv4, 0-128 for IPv6
     * @throws IllegalArgumentException for a prefix out of range
     * @throws TunConfigException     the ioctl failed: EEXIST (the route exists), EINVAL (host bits
     *                                set), ENETDOWN (the device is down), EACCES/ENETUNREACH...
     * @throws TunPermissionException EPERM/EACCES
     * @throws TunClosedException     the device has been closed
     */
    public void addRoute(InetAddress network, int prefix) throws TunException {
        Objects.requireNonNull(network, "network");
        byte[] address = network.getAddress();
        boolean v6 = address.length == 16;
        if (prefix < 0 || prefix > address.length * 8) {
            throw new IllegalArgumentException("prefix length " + prefix + " is out of range 0-" + address.length * 8);
        }
        String route = network.getHostAddress() + "/" + prefix;
        synchronized (configureLock) {
            if (!gate.enter()) {
                throw TunErrors.closed(name, "add a route");
            }
            try {
                int family = v6 ? SysSocket.AF_INET6 : SysSocket.AF_INET;
                int sock;
                try {
                    sock = LibC.socket(family, SysSocket.SOCK_DGRAM | SysSocket.SOCK_CLOEXEC, 0);
                } catch (LastErrorException e) {
                    throw error(TunErrors.Phase.CONFIGURE, name, "socket", (v6 ? "AF_INET6" : "AF_INET")
                            + ", SOCK_DGRAM", e);
                }
                try {
                    if (v6) {
                        Ifreq index = Ifreq.withName(nameBytes);
                        interfaceIoctl(sock, Sockios.SIOCGIFINDEX, "SIOCGIFINDEX", null, index);
                        Memory msg = new Memory(Ipv6Route.IN6_RTMSG_SIZE);
                        msg.clear();
                        msg.write(Ipv6Route.RTMSG_DST_OFFSET, address, 0, 16);
                        msg.setInt(Ipv6Route.RTMSG_TYPE_OFFSET, Ipv6Route.RTN_UNICAST);
                        msg.setShort(Ipv6Route.RTMSG_DST_LEN_OFFSET, (short) prefix);
                        msg.setInt(Ipv6Route.RTMSG_METRIC_OFFSET, Ipv6Route.IP6_RT_PRIO_USER);
                        msg.setInt(Ipv6Route.RTMSG_FLAGS_OFFSET, Ipv6Route.RTF_UP);
                        msg.setInt(Ipv6Route.RTMSG_IFINDEX_OFFSET, index.intValue());
                        routeIoctl(sock, route, msg);
                    } else {
                        Memory entry = new Memory(Route.RTENTRY_SIZE);
                        entry.clear();
                        sockaddrIn(entry, Route.RT_DST_OFFSET, address);
                        int mask = prefix == 0 ? 0 : -1 << (32 - prefix);
                        sockaddrIn(entry, Route.RT_GENMASK_OFFSET, new byte[] {(byte) (mask >>> 24),
                            (byte) (mask >>> 16), (byte) (mask >>> 8), (byte) mask});
                        entry.setShort(Route.RT_FLAGS_OFFSET, (short) (Route.RTF_UP | (prefix == 32 ? Route.RTF_HOST : 0)));
                        Memory dev = new Memory(If.IFNAMSIZ); // the kernel copies IFNAMSIZ - 1 bytes, whatever the name's length
                        dev.clear();
                        dev.write(0, nameBytes, 0, nameBytes.length);
                        entry.setPointer(Route.RT_DEV_OFFSET, dev);
                        try {
                            routeIoctl(sock, route, entry);
                        } finally {
                            Reference.reachabilityFence(dev);
                        }
                    }
                } finally {
                    closeQuietly(sock, name, "control socket");
                }
                log.debug("TUN device {}: route {} added", name, route);
            } finally {
                gate.exit();
            }
        }
    }

    /**
     * Turns IPv6 on or off on this device ({@code /proc/sys/net/ipv6/conf/NAME/disable_ipv6} = 0
     * or 1). Off, the device gets no IPv6 address and the kernel sends no router solicitations
     * from it: call it before {@link #configure} brings the device up. Does nothing, silently,
     * when the kernel has no IPv6 at all ({@code /proc/sys/net/ipv6} is missing).
     *
     * @return true if the setting was written, false if the kernel has no IPv6
     * @throws TunConfigException     opening or writing the file failed (errno in the message)
     * @throws TunPermissionException EPERM/EACCES
     * @throws TunClosedException     the device has been closed
     */
    public boolean ipv6(boolean enabled) throws TunException {
        if (!java.nio.file.Files.isDirectory(java.nio.file.Path.of(IPV6_SYSCTL))) {
            return false;
        }
        String file = IPV6_SYSCTL + "/conf/" + name + "/disable_ipv6";
        synchronized (configureLock) {
            if (!gate.enter()) {
                throw TunErrors.closed(name, enabled ? "enable IPv6" : "disable IPv6");
            }
            try {
                int sysctl;
                try {
                    sysctl = LibC.open(file, Fcntl.O_WRONLY | Fcntl.O_CLOEXEC);
                } catch (LastErrorException e) {
                    throw error(TunErrors.Phase.CONFIGURE, name, "open", file, e);
                }
                try {
                    Memory value = new Memory(1);
                    value.setByte(0, (byte) (enabled ? '0' : '1'));
                    LibC.write(sysctl, value, new NativeLong(1));
                } catch (LastErrorException e) {
                    throw error(TunErrors.Phase.CONFIGURE, name, "write", (enabled ? "0" : "1") + " to " + file, e);
                } finally {
                    closeQuietly(sysctl, name, file);
                }
                log.debug("TUN device {}: IPv6 {}", name, enabled ? "on" : "off");
                return true;
            } finally {
                gate.exit();
            }
        }
    }

    private void routeIoctl(int sock, String route, Pointer request) throws TunException {
        try {
            LibC.ioctl(sock, new NativeLong(Integer.toUnsignedLong(Sockios.SIOCADDRT)), request);
        } catch (LastErrorException e) {
            throw error(TunErrors.Phase.CONFIGURE, name, "SIOCADDRT", route + " dev " + name, e);
        }
    }

    /** A {@code struct sockaddr_in} (AF_INET, port 0, {@code address}) at {@code offset}. */
    private static void sockaddrIn(Memory m, int offset, byte[] address) {
        m.setShort(offset, (short) SysSocket.AF_INET);
        m.write(offset + 4, address, 0, 4);
    }

    /**
     * Reads one IP packet into {@code dst} (from its position up to its limit) and advances the
     * position by the packet length. Waits with poll(2) for at most {@code timeoutMillis}
     * milliseconds (0: do not wait; negative: wait until a packet arrives or the device is closed).
     * Direct buffers are read into without copying; heap buffers go through a copy. A packet
     * longer than {@code dst.remaining()} is truncated by the kernel (the rest is lost); use a
     * buffer of at least the MTU. The wait does not react to {@link Thread#interrupt()}; bound it
     * with {@code timeoutMillis} or end it with {@link #close()}.
     *
     * @return the packet length; 0 if no packet arrived within the timeout; -1 if the device is
     *         closed, including when {@link #close()} is called while this call waits
     * @throws ReadOnlyBufferException  if {@code dst} is read-only
     * @throws IllegalArgumentException if {@code dst} has no space remaining
     * @throws TunException             if poll or read fails (e.g. EBADFD: the device was deleted)
     */
    public int read(ByteBuffer dst, int timeoutMillis) throws TunException {
        Objects.requireNonNull(dst, "dst");
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        if (!dst.hasRemaining()) {
            throw new IllegalArgumentException("dst has no space remaining (position == limit)");
        }
        return guardedRead(() -> pollAndRead(dst, timeoutMillis));
    }

    /** A read under the read lock and the close gate. */
    private interface ReadCall {
        int run() throws TunException;
    }

    /** Runs {@code call} holding the read lock and a gate slot; -1 when the device is closed. */
    private int guardedRead(ReadCall call) throws TunException {
        readLock.lock();
        try {
            if (!gate.enter()) {
                return -1;
            }
            try {
                return call.run();
            } finally {
                gate.exit();
            }
        } finally {
            readLock.unlock();
        }
    }

    /**
     * Reads one IP packet if one is queued now, without waiting (no {@code poll}: one system
     * call), for draining a burst after {@link #read} returned one.
     *
     * @return the packet's length, 0 when none is queued, -1 when the device is closed
     */
    public int readAvailable(ByteBuffer dst) throws TunException {
        Objects.requireNonNull(dst, "dst");
        if (!dst.hasRemaining()) {
            throw new IllegalArgumentException("dst has no space remaining (position == limit)");
        }
        return guardedRead(() -> Math.max(0, readOnce(dst)));
    }

    private int pollAndRead(ByteBuffer dst, int timeoutMillis) throws TunException {
        int queued = readOnce(dst); // under load a packet is already there: one system call, no poll
        if (queued >= 0) {
            return queued;
        }
        long deadline = timeoutMillis > 0 ? System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) : 0L;
        for (;;) {
            if (gate.isCloseRequested()) {
                return -1;
            }
            int wait;
            if (timeoutMillis < 0) {
                wait = POLL_SLICE_MILLIS;
            } else if (timeoutMillis == 0) {
                wait = 0;
            } else {
                long remainingNanos = deadline - System.nanoTime();
                if (remainingNanos <= 0) {
                    return 0;
                }
                long remainingMillis = (remainingNanos + 999_999L) / 1_000_000L;
                wait = (int) Math.min(remainingMillis, POLL_SLICE_MILLIS);
            }
            pollFds.setShort(Poll.REVENTS_OFFSET, (short) 0);
            pollFds.setShort(Poll.POLLFD_SIZE + Poll.REVENTS_OFFSET, (short) 0);
            int ready;
            try {
                ready = LibC.poll(pollFds, TWO_FDS, wait);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Errno.EINTR) {
                    continue;
                }
                throw error(TunErrors.Phase.READ, name, "poll", null, e);
            }
            if (ready == 0) {
                if (timeoutMillis == 0) {
                    return 0;
                }
                continue;
            }
            if (pollFds.getShort(Poll.POLLFD_SIZE + Poll.REVENTS_OFFSET) != 0) {
                return -1; // woken by close()
            }
            short revents = pollFds.getShort(Poll.REVENTS_OFFSET);
            if ((revents & Poll.POLLNVAL) != 0) {
                throw TunErrors.forErrno(TunErrors.Phase.READ, name, "poll", "POLLNVAL", Errno.EBADF,
                        LibC.describe(Errno.EBADF), null);
            }
            if ((revents & (Poll.POLLIN | Poll.POLLERR | Poll.POLLHUP)) == 0) {
                continue;
            }
            int n = readOnce(dst);
            if (n >= 0) {
                return n;
            }
            // EINTR or EAGAIN: poll again
        }
    }

    /** One read(2) into dst; returns the byte count, or -1 for EINTR/EAGAIN. */
    private int readOnce(ByteBuffer dst) throws TunException {
        int pos = dst.position();
        int len = dst.remaining();
        int n;
        try {
            if (dst.isDirect()) {
                try {
                    Pointer p = Native.getDirectBufferPointer(dst).share(pos);
                    n = (int) LibC.read(fd, p, new NativeLong(len)).longValue();
                } finally {
                    Reference.reachabilityFence(dst);
                }
            } else {
                if (readScratch == null) {
                    readScratch = new Memory(MAX_PACKET);
                }
                int chunk = Math.min(len, MAX_PACKET);
                n = (int) LibC.read(fd, readScratch, new NativeLong(chunk)).longValue();
                readScratch.read(0, dst.array(), dst.arrayOffset() + pos, n);
            }
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            if (errno == Errno.EINTR || errno == Errno.EAGAIN) {
                return -1;
            }
            throw error(TunErrors.Phase.READ, name, "read", null, e);
        }
        dst.position(pos + n);
        return n;
    }

    /**
     * Writes one IP packet: the bytes of {@code src} from its position to its limit. On success
     * the position is advanced to the limit. Direct buffers are passed to write(2) without
     * copying; heap (including read-only) buffers are copied first. May run concurrently with
     * {@link #read}; concurrent writes are serialized.
     *
     * @throws IllegalArgumentException if {@code src} is empty
     * @throws TunClosedException       if the device has been closed
     * @throws TunException             if write(2) fails (e.g. EINVAL for a packet that is not IPv4/IPv6)
     */
    public void write(ByteBuffer src) throws TunException {
        Objects.requireNonNull(src, "src");
        int len = src.remaining();
        if (len == 0) {
            throw new IllegalArgumentException("src is empty (position == limit): nothing to write");
        }
        writeLock.lock();
        try {
            if (!gate.enter()) {
                throw TunErrors.closed(name, "write");
            }
            try {
                int pos = src.position();
                int header = offloads >= 0 ? VNET_HEADER : 0; // all zero: a plain packet, checksums complete
                Pointer p;
                if (src.isDirect() && header == 0) {
                    p = Native.getDirectBufferPointer(src).share(pos);
                } else {
                    Memory m;
                    if (header + len <= MAX_RECORD) {
                        m = writeScratch();
                    } else {
                        m = new Memory(header + len);
                    }
                    if (header > 0) {
                        m.setMemory(0, header, (byte) 0);
                    }
                    if (src.hasArray()) {
                        m.write(header, src.array(), src.arrayOffset() + pos, len);
                    } else {
                        byte[] copy = new byte[len];
                        src.duplicate().get(copy);
                        m.write(header, copy, 0, len);
                    }
                    p = m;
                }
                long n;
                try {
                    n = writeFully(p, header + len) - header;
                } finally {
                    Reference.reachabilityFence(src);
                }
                if (n != len) {
                    throw new TunException("cannot write to TUN device " + name + ": write (" + len
                            + " bytes) wrote only " + n + " bytes", name, "write", 0, null);
                }
                src.position(pos + len);
            } finally {
                gate.exit();
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** The write copy buffer (room for a virtio header and the largest packet); writeLock held. */
    private Memory writeScratch() {
        if (writeScratch == null) {
            writeScratch = new Memory(MAX_RECORD);
        }
        return writeScratch;
    }

    /**
     * Writes one record of a device with a virtio header: {@code b[off .. off+len)} is the header
     * and the packet after it (a super-packet that {@code io.pinhole.offload.Coalescer} made, for
     * one), as one write(2). Concurrent writes are serialised.
     *
     * @throws IllegalStateException if the device has no virtio header
     * @throws IllegalArgumentException if the record is shorter than the header or longer than 64 KB past it
     * @throws TunClosedException if the device has been closed
     * @throws TunException if write(2) fails
     */
    public void writeRecord(byte[] b, int off, int len) throws TunException {
        if (offloads < 0) {
            throw new IllegalStateException("TUN device " + name + " has no virtio header");
        }
        if (len <= VNET_HEADER || len > MAX_RECORD) {
            throw new IllegalArgumentException("a record of " + len + " bytes (a virtio header and up to "
                    + MAX_PACKET + " bytes of packet)");
        }
        writeLock.lock();
        try {
            if (!gate.enter()) {
                throw TunErrors.closed(name, "write");
            }
            try {
                Memory m = writeScratch();
                m.write(0, b, off, len);
                long n = writeFully(m, len);
                if (n != len) {
                    throw new TunException("cannot write to TUN device " + name + ": write (" + len
                            + " bytes) wrote only " + n + " bytes", name, "write", 0, null);
                }
            } finally {
                gate.exit();
            }
        } finally {
            writeLock.unlock();
        }
    }

    private long writeFully(Pointer p, int len) throws TunException {
        for (;;) {
            try {
                return LibC.write(fd, p, new NativeLong(len)).longValue();
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    throw error(TunErrors.Phase.WRITE, name, "write", len + " bytes", e);
                }
            }
        }
    }

    /**
     * Closes the device. Idempotent; safe to call from any thread, including while another thread
     * is blocked in {@link #read}: that reader is woken and returns -1. Returns once the file
     * descriptor has been closed (by this thread, or by the last thread still inside a call),
     * at which point a non-persistent device has been removed from the system. Errors from
     * close(2) are logged, not thrown.
     */
    @Override
    public void close() {
        if (gate.beginClose()) {
            try {
                wake();
            } finally {
                gate.exit();
            }
        }
        gate.awaitClosed();
    }

    @Override
    public String toString() {
        return "TunDevice[" + name + (gate.isCloseRequested() ? ", closed]" : "]");
    }

    /** Makes the wake-up eventfd readable; only called while holding a gate slot. */
    private void wake() {
        Memory one = new Memory(8);
        one.setLong(0, 1L);
        try {
            LibC.write(wakeFd, one, new NativeLong(8));
        } catch (LastErrorException e) {
            // The reader still notices the closed flag within POLL_SLICE_MILLIS.
            log.warn("TUN device {}: waking the reader failed: {} ({})", name,
                    Errno.name(e.getErrorCode()), LibC.describe(e.getErrorCode()));
        }
    }

    /** The CloseGate's close action: runs exactly once, when no thread is using the descriptors. */
    private void closeDescriptors() {
        closeQuietly(fd, name, IfTun.CLONE_DEVICE);
        closeQuietly(wakeFd, name, "eventfd");
        log.debug("closed TUN device {}", name);
    }

    /** ioctl with a struct ifreq, copied to native memory and back. */
    private static void ioctl(int fd, int request, Ifreq req) throws LastErrorException {
        Memory m = new Memory(Ifreq.SIZE);
        m.write(0, req.array(), 0, Ifreq.SIZE);
        LibC.ioctl(fd, new NativeLong(Integer.toUnsignedLong(request)), m);
        m.read(0, req.array(), 0, Ifreq.SIZE);
    }

    private void interfaceIoctl(int sock, int request, String op, String detail, Ifreq req) throws TunException {
        try {
            ioctl(sock, request, req);
        } catch (LastErrorException e) {
            throw error(TunErrors.Phase.CONFIGURE, name, op, detail, e);
        }
    }

    /** Whether an interface of that name exists in this network namespace (SIOCGIFINDEX succeeds). */
    private static boolean interfaceExists(byte[] nameBytes) {
        int sock = -1;
        try {
            sock = LibC.socket(SysSocket.AF_INET, SysSocket.SOCK_DGRAM | SysSocket.SOCK_CLOEXEC, 0);
            ioctl(sock, Sockios.SIOCGIFINDEX, Ifreq.withName(nameBytes));
            return true;
        } catch (LastErrorException e) {
            return false; // ENODEV: no such interface; anything else: cannot tell
        } finally {
            closeQuietly(sock, new String(nameBytes, StandardCharsets.UTF_8), "control socket");
        }
    }

    private static TunException error(TunErrors.Phase phase, String device, String op, String detail,
                                      LastErrorException e) {
        int errno = e.getErrorCode();
        return TunErrors.forErrno(phase, device, op, detail, errno, LibC.describe(errno), e);
    }

    private static void closeQuietly(int fd, String device, String what) {
        if (fd < 0) {
            return;
        }
        try {
            LibC.close(fd);
        } catch (LastErrorException e) {
            // Linux releases the descriptor even when close(2) reports an error: never retry.
            log.warn("TUN device {}: closing {} (fd {}) reported {} ({})", device, what, fd,
                    Errno.name(e.getErrorCode()), LibC.describe(e.getErrorCode()));
        }
    }

    private static Inet4Address inet4(byte[] addr) {
        try {
            return (Inet4Address) InetAddress.getByAddress(addr);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
