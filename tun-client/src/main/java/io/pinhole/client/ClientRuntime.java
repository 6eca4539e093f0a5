package io.pinhole.client;

import io.pinhole.client.tun.DatagramBatch;
import io.pinhole.client.tun.SocketOptionException;
import io.pinhole.client.tun.TunDevice;
import io.pinhole.client.tun.UdpBatchSocket;
import io.pinhole.client.tun.TunException;
import io.pinhole.config.LogNames;
import io.pinhole.peer.PeerMachine;
import io.pinhole.peer.PeerOutput;
import io.pinhole.peer.PeerStatus;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ClientRuntime: the thin edge that runs a {@link PeerMachine} against a real UDP socket and a
 * real TUN device.
 *
 * <p>Data-path stages and their threads:
 * <ol>
 *   <li>{@code pinhole-udp}: receive a datagram from the socket, hand it to the machine, which
 *       may write an IP packet to the TUN device or answer on the socket;
 *   <li>{@code pinhole-tun}: read an IP packet from the TUN device, hand it to the machine,
 *       which sends it to the peer (or holds it while no path works);
 *   <li>{@code pinhole-timer}: every 50 ms, run the machine's timers (registration, punching,
 *       keepalive, dead-peer detection).
 * </ol>
 * The three run in parallel; their calls into the machine are serialised by one lock (the
 * machine is not thread-safe). Sends go straight to the socket ({@link UdpSender}), writes
 * straight to the device. Every send, TTL-limited ones included, happens inside such a call, so
 * with the lock held; the socket is closed with the lock held too. A fourth thread,
 * {@code pinhole-status}, writes the {@link StatusFile} once a second when there is one: it
 * takes the machine's {@link PeerStatus} under the lock and writes the file outside it, in place
 * through a descriptor opened by the constructor (so before {@code pinhole up} drops its privileges).
 * The spare sockets of birthday punching are {@link SpareSockets}' (its own receive thread,
 * {@code pinhole-spare-udp}, calls into the machine under the same lock).
 *
 * <p>Lifecycle: {@link #start()} once, then {@link #stop()} (idempotent, from any thread: sends
 * LEAVE, closes the device, which removes it, and the socket, deletes the status file (or, running
 * unprivileged, leaves it saying {@code stopped}), and joins the threads); {@link #awaitStopped()} blocks until then. Thread-safety: {@code stop},
 * {@code failed} and {@code awaitStopped} may be called from any thread; {@code start} once.
 *
 * <p>Error contract: send and device-write failures are logged (rate-limited) and counted,
 * never thrown into the machine; a status file that cannot be written is logged once (and again
 * after it worked in between) and does not stop the tunnel; if the status file belongs to another
 * running pinhole (the same device name in another network namespace), it is left alone, with a
 * warning; an unexpected failure of a thread stops the runtime with a log line saying why.
 */
public final class ClientRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(LogNames.CLIENT);
    private static final long TICK_MILLIS = 50;
    private static final long STATUS_INTERVAL_MILLIS = 1_000;
    /** Datagrams or TUN packets handled per system call and per taking of the lock, at most. */
    static final int BATCH = 64;
    /**
     * Messages per receive call: each has a 64 KB buffer, which UDP GRO fills with up to 44 datagrams
     * of the peer's, so 16 of them (1 MB, resident once used) take as much as 64 do in one call.
     */
    static final int UDP_RECEIVE_BATCH = 16;
    private static final long PID = ProcessHandle.current().pid();
    private static final long NETNS = NetNamespace.current();

    private final PeerMachine machine;
    private final DatagramChannel udp;
    private final TunDevice tun;
    private final int mtu;
    private final LongSupplier clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final ScheduledExecutorService timer;
    private final Path statusFile;
    private final ScheduledExecutorService statusWriter;
    private final UdpSender sender;
    /** Batched system calls on the main socket's descriptor, or null when out of reach (one datagram per call then). */
    private final UdpBatchSocket batches;
    /** Datagrams the machine sent during the current locked call; sent at its end ({@link #locked}). Lock only. */
    private final DatagramBatch outgoing;
    /** Whether {@link #outgoing} joins datagrams into GSO messages; off once the kernel refused one. Lock only. */
    private boolean gso;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile boolean failed;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Thread udpThread;
    private Thread tunThread;
    private long writeErrors;
    /** Datagrams longer than a receive buffer (64 KB): cut off by the kernel, dropped. udp thread only. */
    private long truncated;
    private final SpareSockets spares;
    private final Predicate<InetSocketAddress> throughTunnel;
    /** Status thread only: another live pinhole's pid owning the file (0: none), whether we wrote it, whether it fails. */
    private long statusOwner;
    private StatusFile.Handle statusHandle;
    private StatusFile.Status lastStatus;
    private boolean statusWritten;
    private boolean statusFailing;

    /** The machine's output; called only with {@link #lock} held (see {@link UdpSender}). */
    private final PeerOutput output = new PeerOutput() {
        @Override
        public void send(InetSocketAddress to, ByteBuffer datagram) {
            if (outgoing == null || datagram.remaining() > outgoing.bufferSize()) {
                sender.send(to, datagram);
            } else if (!outgoing.queue(to, datagram, gso)) {
                flush();
                outgoing.queue(to, datagram, gso);
            }
        }

        /**
         * Sends with a limited TTL: set, send and restore happen under the machine lock, so no
         * other datagram can leave with that TTL. False, and nothing sent, when the TTL cannot be
         * limited (logged once at WARNING).
         */
        @Override
        public boolean sendWithTtl(InetSocketAddress to, ByteBuffer datagram, int ttl) {
            flush(); // what the machine sent before goes first, at full TTL
            return sender.sendWithTtl(to, datagram, ttl);
        }

        @Override
        public int openSpareSockets(int n) {
            return spares.open(n);
        }

        @Override
        public boolean sendFrom(int socket, InetSocketAddress to, ByteBuffer datagram, int ttl) {
            return socket == 0 ? PeerOutput.super.sendFrom(socket, to, datagram, ttl)
                    : spares.sendFrom(socket, to, datagram, ttl);
        }

        @Override
        public void closeSpareSockets(int keep) {
            spares.closeExcept(keep);
        }

        @Override
        public boolean throughTunnel(InetSocketAddress address) {
            return throughTunnel.test(address);
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
            try {
                tun.write(ipPacket);
            } catch (TunException e) {
                writeErrors++;
                if (!stopping.get()) {
                    LOG.warn("cannot write a packet to {}: {} ({} so far)", tun.name(), e.getMessage(), writeErrors);
                }
            }
        }
    };

    /**
     * @param machine the protocol machine, not yet started
     * @param udp a bound blocking UDP channel, owned from now on
     * @param tun an open, configured TUN device, owned from now on
     * @param mtu the device MTU (the largest IP packet read from it)
     * @param clock monotonic nanoseconds ({@code System::nanoTime} in production)
     * @param statusFile where to write the {@link StatusFile} once a second (its directory must
     *     exist), or null for none
     */
    public ClientRuntime(PeerMachine machine, DatagramChannel udp, TunDevice tun, int mtu, LongSupplier clock,
                         Path statusFile) {
        this(machine, udp, tun, mtu, clock, statusFile, address -> false, null);
    }

    /**
     * @param throughTunnel whether an address is inside our own tunnel ({@link TunnelRoutes}); called
     *     under the machine lock
     * @param underlay the device the UDP sockets are bound to (spare sockets are bound to it too), or
     *     null for none
     */
    public ClientRuntime(PeerMachine machine, DatagramChannel udp, TunDevice tun, int mtu, LongSupplier clock,
                         Path statusFile, Predicate<InetSocketAddress> throughTunnel, String underlay) {
        this.machine = machine;
        this.throughTunnel = throughTunnel;
        this.udp = udp;
        this.tun = tun;
        this.mtu = mtu;
        this.clock = clock;
        this.statusFile = statusFile;
        this.sender = new UdpSender(udp, clock);
        this.batches = borrow(udp);
        this.outgoing = batches == null ? null : new DatagramBatch(BATCH, DatagramBatch.MAX_DATAGRAM);
        this.gso = batches != null && batches.gsoSupported();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "pinhole-timer"));
        this.statusWriter = statusFile == null ? null
                : Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "pinhole-status"));
        this.statusHandle = statusFile == null ? null : openStatus(statusFile);
        this.spares = new SpareSockets(localAddress(udp), underlay,
                (socket, from, datagram) -> locked(() -> machine.onDatagram(clock.getAsLong(), socket, from, datagram,
                        output)),
                e -> fail("spare udp receive", e));
    }

    /** The main socket's local address, for the spare sockets (the wildcard if unknown). */
    private static java.net.InetAddress localAddress(DatagramChannel udp) {
        try {
            return ((InetSocketAddress) udp.getLocalAddress()).getAddress();
        } catch (IOException | RuntimeException e) {
            return null; // InetSocketAddress(null, 0): the wildcard
        }
    }

    /**
     * Batched calls on the main socket, or null (logged) when its descriptor is out of reach:
     * the datagram path then takes one system call per datagram, as the JDK's channel does.
     */
    private static UdpBatchSocket borrow(DatagramChannel udp) {
        UdpBatchSocket socket;
        try {
            socket = UdpBatchSocket.borrow(udp);
        } catch (SocketOptionException e) {
            LOG.info("udp: one datagram per system call ({})", e.getMessage());
            return null;
        }
        boolean gro = socket.enableGro();
        LOG.info("udp: up to {} datagrams per system call (recvmmsg, sendmmsg); UDP GSO {}, UDP GRO {}", BATCH,
                socket.gsoSupported() ? "on" : "not in this kernel", gro ? "on" : "not in this kernel");
        return socket;
    }

    /** Sends what the machine queued in {@link #outgoing}; called with the lock held. */
    private void flush() {
        if (outgoing == null || outgoing.count() == 0) {
            return;
        }
        try {
            int sent = batches.send(outgoing);
            if (sent < outgoing.count() && gso && batches.gsoRefused() > 0) {
                gso = false;
                LOG.warn("udp: the kernel refused a GSO send (datagrams joined into one); sending them one by one from "
                        + "now on");
            }
        } catch (SocketOptionException e) {
            if (!stopping.get()) {
                LOG.warn("udp send failed: {}", e.getMessage());
            }
        } finally {
            outgoing.clear();
        }
    }

    /** Registers with the server (or contacts the peer) and starts the threads. */
    public void start() {
        locked(() -> machine.start(clock.getAsLong(), output));
        udpThread = daemon(this::udpLoop, "pinhole-udp");
        tunThread = daemon(this::tunLoop, "pinhole-tun");
        udpThread.start();
        tunThread.start();
        timer.scheduleAtFixedRate(() -> {
            try {
                locked(() -> machine.onTick(clock.getAsLong(), output));
            } catch (RuntimeException e) {
                fail("timer", e);
            }
        }, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        if (statusWriter != null) {
            statusWriter.scheduleAtFixedRate(this::writeStatus, 0, STATUS_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Status thread: snapshot under the lock, write outside it; never throws (that would end the schedule). */
    private void writeStatus() {
        try {
            long owner = statusWritten ? 0 : otherStatusOwner();
            if (owner != statusOwner) {
                statusOwner = owner;
                if (owner != 0) {
                    LOG.warn("status file {} belongs to pinhole process {}, which is running (the same device name in "
                            + "another network namespace?): not touching it; give this one --status-file",
                            statusFile, owner);
                } else {
                    LOG.info("status file {} is free again: writing it", statusFile);
                }
            }
            if (owner != 0) {
                return;
            }
            if (statusHandle == null) {
                statusHandle = StatusFile.Handle.open(statusFile);
            }
            lastStatus = StatusFile.Status.of(tun.name(), PID, NETNS, System.currentTimeMillis(), snapshot());
            statusHandle.write(lastStatus);
            statusWritten = true;
            if (statusFailing) {
                statusFailing = false;
                LOG.info("status file {} written again", statusFile);
            }
        } catch (IOException | RuntimeException e) {
            if (!statusFailing) {
                statusFailing = true;
                LOG.warn("cannot write the status file {}: {} (pinhole status cannot see this tunnel until it works)",
                        statusFile, e.toString());
            }
        }
    }

    /** The pid of another live pinhole whose current status file is at our path, or 0. */
    private long otherStatusOwner() {
        try {
            StatusFile.Status existing = StatusFile.read(statusFile);
            if (existing.pid() != PID
                    && existing.staleReason(System.currentTimeMillis(), StatusFile::alive) == null) {
                return existing.pid();
            }
        } catch (IOException e) {
            // missing, unreadable or malformed: ours to write
        }
        return 0;
    }

    /**
     * Opens the status file now, while this process may still create it (before a privilege
     * drop); a failure is logged, and the status thread tries again.
     */
    private StatusFile.Handle openStatus(Path file) {
        try {
            return StatusFile.Handle.open(file);
        } catch (IOException e) {
            statusFailing = true;
            LOG.warn("cannot open the status file {}: {} (pinhole status cannot see this tunnel until it works)",
                    file, e.toString());
            return null;
        }
    }

    /**
     * Stops the status thread; deletes the status file if it is ours, or, when this process may
     * not (it runs unprivileged), leaves it saying the tunnel stopped.
     */
    private void removeStatus() {
        if (statusWriter == null) {
            return;
        }
        statusWriter.shutdown();
        try {
            if (!statusWriter.awaitTermination(2, TimeUnit.SECONDS)) {
                LOG.warn("the status thread did not stop within 2 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (statusHandle == null) {
            return;
        }
        try {
            if (StatusFile.read(statusFile).pid() == PID) {
                if (!statusHandle.remove(lastStatus, System.currentTimeMillis())) {
                    LOG.info("status file {} left saying stopped (running unprivileged, this process cannot remove it)",
                            statusFile);
                }
            } else {
                statusHandle.close();
            }
        } catch (IOException e) {
            // gone already, or not ours
            closeQuietly(statusHandle);
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException ignored) {
            // nothing more to do
        }
    }

    /** The machine's status, taken under the lock. */
    private PeerStatus snapshot() {
        lock.lock();
        try {
            return machine.status();
        } finally {
            lock.unlock();
        }
    }

    private void udpLoop() {
        if (batches != null) {
            batchedUdpLoop();
            return;
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(65_536);
        try {
            while (!stopping.get()) {
                buffer.clear();
                InetSocketAddress from = (InetSocketAddress) udp.receive(buffer);
                buffer.flip();
                locked(() -> machine.onDatagram(clock.getAsLong(), from, buffer, output));
            }
        } catch (ClosedChannelException e) {
            // stopping
        } catch (IOException | RuntimeException e) {
            fail("udp receive", e);
        }
    }

    /**
     * Receives up to {@value #BATCH} datagrams per system call and hands them to the machine under
     * one taking of the lock; a message that UDP GRO joined from several datagrams is handed over
     * datagram by datagram (each copied to the start of a buffer of its own, as the machine reads
     * from position 0).
     */
    private void batchedUdpLoop() {
        DatagramBatch in = new DatagramBatch(UDP_RECEIVE_BATCH, DatagramBatch.MAX_DATAGRAM);
        ByteBuffer segment = ByteBuffer.allocateDirect(DatagramBatch.MAX_DATAGRAM);
        Runnable deliver = () -> {
            long now = clock.getAsLong();
            for (int i = 0; i < in.count(); i++) {
                if (in.truncated(i)) {
                    truncated++;
                    continue;
                }
                InetSocketAddress from = in.address(i);
                int length = in.length(i);
                int size = in.segmentSize(i);
                ByteBuffer message = in.buffer(i);
                if (size == 0 || size >= length) {
                    message.limit(length);
                    machine.onDatagram(now, from, message, output);
                    continue;
                }
                for (int at = 0; at < length; at += size) {
                    segment.clear();
                    message.limit(Math.min(length, at + size)).position(at);
                    segment.put(message).flip();
                    machine.onDatagram(now, from, segment, output);
                }
            }
        };
        try {
            while (!stopping.get()) {
                int n = batches.receive(in, 500);
                if (n < 0) {
                    return; // closed: stopping
                }
                if (n > 0) {
                    locked(deliver);
                }
            }
        } catch (SocketOptionException | RuntimeException e) {
            fail("udp receive", e);
        }
    }

    /**
     * Reads an IP packet from the TUN device (waiting for it), then whatever more is queued there
     * now, up to {@value #BATCH}, and hands them to the machine under one taking of the lock.
     */
    private void tunLoop() {
        ByteBuffer[] packets = new ByteBuffer[BATCH];
        for (int i = 0; i < BATCH; i++) {
            packets[i] = ByteBuffer.allocateDirect(Math.max(mtu, 1500) + 64);
        }
        int[] count = {0};
        Runnable deliver = () -> {
            long now = clock.getAsLong();
            for (int i = 0; i < count[0]; i++) {
                machine.onTunPacket(now, packets[i], output);
            }
        };
        try {
            while (!stopping.get()) {
                packets[0].clear();
                int n = tun.read(packets[0], 500);
                if (n < 0) {
                    return; // closed
                }
                if (n == 0) {
                    continue;
                }
                packets[0].flip();
                count[0] = 1;
                while (count[0] < BATCH) {
                    ByteBuffer next = packets[count[0]].clear();
                    if (tun.readAvailable(next) <= 0) {
                        break;
                    }
                    next.flip();
                    count[0]++;
                }
                locked(deliver);
            }
        } catch (TunException | RuntimeException e) {
            fail("tun read", e);
        }
    }

    private void fail(String stage, Exception e) {
        if (!stopping.get()) {
            failed = true;
            LOG.error("{} failed, stopping: {}", stage, e.toString(), e);
            new Thread(this::stop, "pinhole-stop").start();
        }
    }

    /** Leaves, closes the device and the socket, and waits for the threads. Idempotent. */
    public void stop() {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        try {
            locked(() -> machine.leave(clock.getAsLong(), output));
        } catch (RuntimeException e) {
            LOG.warn("could not send LEAVE: {}", e.toString());
        }
        // shutdown, not shutdownNow: interrupting a tick inside a send would close the channel
        // from this thread while the tick still holds the lock (and may be restoring the TTL).
        timer.shutdown();
        spares.close();
        tun.close();
        if (batches != null) {
            batches.close(); // wakes the udp thread's poll; the channel is closed only once it left
            joinQuietly(udpThread);
        }
        locked(() -> {
            try {
                udp.close(); // under the lock: no send, TTL-limited or not, is in progress
            } catch (IOException e) {
                LOG.warn("closing the UDP socket: {}", e.toString());
            }
        });
        joinQuietly(udpThread);
        joinQuietly(tunThread);
        removeStatus();
        if (truncated > 0) { // the udp thread has been joined: its count is complete
            LOG.warn("dropped {} datagrams longer than {} bytes (cut off by the kernel)", truncated,
                    DatagramBatch.MAX_DATAGRAM);
        }
        LOG.info("stopped; {} removed", tun.name());
        stopped.countDown();
    }

    /** True when the runtime stopped because a thread failed, not because it was asked to. */
    public boolean failed() {
        return failed;
    }

    /** Blocks until {@link #stop()} has finished. */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /** Runs {@code action} with the machine's lock held, then sends what it queued. */
    private void locked(Runnable action) {
        lock.lock();
        try {
            action.run();
        } finally {
            try {
                flush();
            } finally {
                lock.unlock();
            }
        }
    }

    private static void joinQuietly(Thread thread) {
        if (thread == null || thread == Thread.currentThread()) {
            return;
        }
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
