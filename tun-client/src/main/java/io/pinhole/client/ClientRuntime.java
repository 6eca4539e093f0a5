package io.pinhole.client;

import io.pinhole.client.tun.DatagramBatch;
import io.pinhole.client.tun.SocketOptionException;
import io.pinhole.client.tun.TunDevice;
import io.pinhole.client.tun.UdpBatchSocket;
import io.pinhole.client.tun.TunException;
import io.pinhole.config.LogNames;
import io.pinhole.crypto.ChaCha20Poly1305;
import io.pinhole.peer.PeerDataPath;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ClientRuntime: the thin edge that runs a {@link PeerMachine} against a real UDP socket and a
 * real TUN device.
 *
 * <p>Data-path stages and their threads (the fast path takes no lock; see {@link PeerDataPath}):
 * <ol>
 *   <li>{@code pinhole-tun}: read up to {@value #BATCH} IP packets from the TUN device (one
 *       waiting read, then whatever is queued, non-blocking); seal each with the partner's current
 *       keypair ({@link PeerDataPath#send}, in the thread's own buffer with its own cipher) into the
 *       thread's own outgoing batch, joined into GSO messages where the kernel has UDP GSO; send the
 *       batch with one {@code sendmmsg}. A packet the fast path declines (no direct path or keypair
 *       yet, a packet the machine refuses or stages) goes to the machine under the control lock.
 *   <li>{@code pinhole-udp}: receive up to {@value #BATCH} datagrams with one {@code recvmmsg}
 *       (a UDP GRO message is taken apart into its datagrams); open each transport message from the
 *       direct path ({@link PeerDataPath#receive}, own buffer and cipher) and write its IP packet to
 *       the TUN device; the declined ones (handshakes, server and punch messages, the relay, any
 *       other sender, anything that does not authenticate) go to the machine under the control lock,
 *       in one taking of it per batch.
 *   <li>{@code pinhole-timer}: every 50 ms, the machine's timers (registration, punching, keepalive,
 *       dead-peer detection, rekeying) under the control lock.
 * </ol>
 * The control lock serialises every call into the {@link PeerMachine} (which is not thread-safe):
 * the declined packets and datagrams, the timer, the status snapshot and the spare sockets'
 * receive thread ({@link SpareSockets}, {@code pinhole-spare-udp}). What the machine sends during
 * such a call is queued and sent with one {@code sendmmsg} at its end. TTL-limited sends (punch
 * openers) set the socket's TTL, send and restore it under a write lock that the tun thread's
 * sends take for reading, so no data datagram leaves with a lowered TTL; that lock is taken once
 * per batch, never per packet. A fourth thread,
 * {@code pinhole-status}, writes the {@link StatusFile} once a second when there is one: it
 * takes the machine's {@link PeerStatus} under the lock and writes the file outside it, in place
 * through a descriptor opened by the constructor (so before {@code pinhole up} drops its privileges).
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
    /** Records (each up to 64 KB) read from a TUN device with a virtio header per batch, at most. */
    static final int OFFLOAD_READS = 8;
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
    /** Whether outgoing batches join datagrams into GSO messages; off once the kernel refused one. */
    private volatile boolean gso;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private volatile boolean failed;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Thread udpThread;
    private Thread tunThread;
    private final AtomicLong writeErrors = new AtomicLong();
    /** Taken for reading by the tun thread's batch sends, for writing around a TTL-limited send. */
    private final ReentrantReadWriteLock ttlGate = new ReentrantReadWriteLock();
    private final PeerDataPath fast;
    /** The udp thread's coalescing writes to a TUN device with a virtio header (null without one). */
    private final TunCoalescing coalescing;
    /** The tun thread's segmenter (null without a virtio header); read at stop for its counts. */
    private volatile TunSegments tunSegments;
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
            ttlGate.writeLock().lock(); // no data datagram from the tun thread leaves meanwhile
            try {
                return sender.sendWithTtl(to, datagram, ttl);
            } finally {
                ttlGate.writeLock().unlock();
            }
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
            writeToTun(ipPacket);
        }
    };

    /** Writes an IP packet to the TUN device; a failure is logged and counted, never thrown (any thread). */
    private void writeToTun(ByteBuffer ipPacket) {
        try {
            tun.write(ipPacket);
        } catch (TunException e) {
            writeFailed(e);
        }
    }

    /** Counts and logs a failed TUN write (any thread). */
    private void writeFailed(TunException e) {
        long errors = writeErrors.incrementAndGet();
        if (!stopping.get()) {
            LOG.warn("cannot write a packet to {}: {} ({} so far)", tun.name(), e.getMessage(), errors);
        }
    }

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
        this.fast = machine.dataPath();
        this.coalescing = tun.vnetHeader() ? new TunCoalescing(mtu, new TunCoalescing.Writes() {
            @Override
            public void record(byte[] b, int off, int len) {
                try {
                    tun.writeRecord(b, off, len);
                } catch (TunException e) {
                    writeFailed(e);
                }
            }

            @Override
            public void packet(ByteBuffer packet) {
                writeToTun(packet);
            }
        }) : null;
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
            noteGsoRefusal(batches.send(outgoing), outgoing);
        } catch (SocketOptionException e) {
            if (!stopping.get()) {
                LOG.warn("udp send failed: {}", e.getMessage());
            }
        } finally {
            outgoing.clear();
        }
    }

    /** Stops joining datagrams once the kernel refused a GSO message of {@code batch} (logged once). */
    private void noteGsoRefusal(int sent, DatagramBatch batch) {
        if (sent < batch.count() && gso && batches.gsoRefused() > 0) {
            gso = false;
            LOG.warn("udp: the kernel refused a GSO send (datagrams joined into one); sending them one by one from "
                    + "now on");
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
     * Receives up to {@value #BATCH} datagrams per system call; opens the transport messages of the
     * direct path on this thread ({@link PeerDataPath#receive}) and hands the rest to the machine
     * under one taking of the lock. A message that UDP GRO joined from several datagrams is taken
     * datagram by datagram (each copied to the start of a buffer of its own, as the machine reads
     * from position 0).
     */
    private void batchedUdpLoop() {
        DatagramBatch in = new DatagramBatch(UDP_RECEIVE_BATCH, DatagramBatch.MAX_DATAGRAM);
        ByteBuffer segment = ByteBuffer.allocateDirect(DatagramBatch.MAX_DATAGRAM);
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        TunCoalescing toTun = tun.vnetHeader() ? coalescing : null;
        ByteBuffer plain = ByteBuffer.allocate(PeerDataPath.BUFFER_SIZE);
        long[] declined = new long[BATCH]; // per message: bit k = its datagram k is the machine's
        long[] when = {0};
        Runnable toMachine = () -> {
            for (int i = 0; i < in.count(); i++) {
                if (declined[i] != 0) {
                    eachDatagram(in, i, segment, declined[i], (from, datagram) ->
                            machine.onDatagram(when[0], from, datagram, output));
                }
            }
        };
        try {
            while (!stopping.get()) {
                int n = batches.receive(in, 500);
                if (n < 0) {
                    return; // closed: stopping
                }
                if (n == 0) {
                    continue;
                }
                long now = clock.getAsLong();
                when[0] = now;
                boolean anyDeclined = false;
                for (int i = 0; i < n; i++) {
                    declined[i] = in.truncated(i) ? 0 : openFast(now, in, i, plain, toTun, aead);
                    if (in.truncated(i)) {
                        truncated++;
                    }
                    anyDeclined |= declined[i] != 0;
                }
                if (toTun != null) {
                    toTun.flush(); // before the machine's deliveries: the order of the batch kept for the fast ones
                }
                if (anyDeclined) {
                    locked(toMachine);
                }
            }
        } catch (SocketOptionException | RuntimeException e) {
            fail("udp receive", e);
        }
    }

    /**
     * Opens the datagrams of received message {@code i} on the fast path and writes their IP
     * packets to the TUN device, or (with a virtio header) collects them in {@code toTun} for
     * coalesced writes (each datagram read in place: the fast path reads from the position);
     * returns which it declined (bit k: datagram k).
     */
    private long openFast(long now, DatagramBatch in, int i, ByteBuffer plain, TunCoalescing toTun,
                          ChaCha20Poly1305 aead) {
        InetSocketAddress from = in.address(i);
        int length = in.length(i);
        int size = in.segmentSize(i);
        if (size == 0 || size >= length) {
            size = length;
        }
        ByteBuffer message = in.buffer(i);
        long declined = 0;
        long bit = 1;
        for (int at = 0; at < length && bit != 0; at += size, bit <<= 1) {
            message.limit(Math.min(length, at + size)).position(at);
            ByteBuffer into = toTun == null ? plain : toTun.bufferFor(message.remaining());
            int opened = fast.receive(now, from, message, into, aead);
            if (opened == PeerDataPath.DECLINED) {
                declined |= bit;
            } else if (opened > 0) {
                if (toTun == null) {
                    writeToTun(plain);
                } else {
                    toTun.opened(into);
                }
            }
        }
        return declined;
    }

    /** A receiver of one datagram of a received message. */
    private interface DatagramSink {
        void accept(InetSocketAddress from, ByteBuffer datagram);
    }

    /**
     * Hands the datagrams of received message {@code i} whose bit is set in {@code which} (bit k:
     * datagram k; one datagram unless UDP GRO joined several) to {@code sink}, each from position 0
     * of a buffer of its own.
     */
    private static void eachDatagram(DatagramBatch in, int i, ByteBuffer segment, long which, DatagramSink sink) {
        InetSocketAddress from = in.address(i);
        int length = in.length(i);
        int size = in.segmentSize(i);
        ByteBuffer message = in.buffer(i);
        if (size == 0 || size >= length) {
            if ((which & 1) != 0) {
                message.limit(length).position(0);
                sink.accept(from, message);
            }
            return;
        }
        long bit = 1;
        for (int at = 0; at < length && bit != 0; at += size, bit <<= 1) {
            if ((which & bit) == 0) {
                continue;
            }
            segment.clear();
            message.limit(Math.min(length, at + size)).position(at);
            segment.put(message).flip();
            sink.accept(from, segment);
        }
    }

    /**
     * Reads an IP packet from the TUN device (waiting for it), then whatever more is queued there
     * now, up to {@value #BATCH} (with a virtio header: up to {@value #OFFLOAD_READS} records, each
     * split into IP packets by {@link TunSegments}); seals those the fast path takes into this
     * thread's batch and sends it with one system call, and hands the others to the machine under
     * the lock (one taking of it per read, or per record).
     */
    private void tunLoop() {
        boolean vnet = tun.vnetHeader();
        int reads = vnet ? OFFLOAD_READS : BATCH;
        ByteBuffer[] packets = new ByteBuffer[reads];
        for (int i = 0; i < reads; i++) {
            packets[i] = ByteBuffer.allocateDirect(vnet ? TunDevice.MAX_RECORD : Math.max(mtu, 1500) + 64);
        }
        TunSegments segments = vnet ? new TunSegments(mtu) : null;
        tunSegments = segments;
        DatagramBatch out = batches == null ? null : new DatagramBatch(BATCH, DatagramBatch.MAX_DATAGRAM);
        TunSealing sealing = new TunSealing(out);
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
                int count = 1;
                while (count < reads) {
                    ByteBuffer next = packets[count].clear();
                    if (tun.readAvailable(next) <= 0) {
                        break;
                    }
                    next.flip();
                    count++;
                }
                long now = clock.getAsLong();
                InetSocketAddress to = out == null ? null : fast.endpoint();
                if (segments == null) {
                    sealing.seal(now, to, packets, count);
                } else {
                    for (int r = 0; r < count; r++) {
                        int k = segments.split(packets[r]);
                        for (int s = 0; s < k; s++) {
                            sealing.one[s] = segments.segment(s);
                        }
                        sealing.seal(now, to, sealing.one, k);
                    }
                }
                if (out != null) {
                    sendFast(out);
                }
            }
        } catch (TunException | RuntimeException e) {
            fail("tun read", e);
        }
    }

    /** The tun thread's sealing: its buffer, cipher and batch; what the fast path declines goes to the machine. */
    private final class TunSealing {
        final ByteBuffer[] one = new ByteBuffer[Math.max(BATCH, TunSegments.MAX_SEGMENTS)];
        private final boolean[] declined = new boolean[one.length];
        private final DatagramBatch out;
        private final byte[] sealed = new byte[PeerDataPath.BUFFER_SIZE];
        private final ByteBuffer sealedView = ByteBuffer.wrap(sealed);
        private final ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        private ByteBuffer[] group;
        private int count;
        private long when;
        private final Runnable toMachine = () -> {
            for (int i = 0; i < count; i++) {
                if (declined[i]) {
                    machine.onTunPacket(when, group[i], output);
                }
            }
        };

        TunSealing(DatagramBatch out) {
            this.out = out;
        }

        /** Seals {@code packets[0 .. n)} into the batch for {@code to} (null: no fast path), the rest to the machine. */
        void seal(long now, InetSocketAddress to, ByteBuffer[] packets, int n) {
            int toMachineCount = 0;
            for (int i = 0; i < n; i++) {
                int length = to == null ? PeerDataPath.DECLINED : fast.send(now, packets[i], sealed, aead);
                declined[i] = length == PeerDataPath.DECLINED;
                if (declined[i]) {
                    toMachineCount++;
                } else if (!out.queue(to, sealedView.limit(length).position(0), gso)) {
                    sendFast(out);
                    out.queue(to, sealedView, gso);
                }
            }
            if (toMachineCount > 0) {
                group = packets;
                count = n;
                when = now;
                locked(toMachine);
            }
        }
    }

    /** The tun thread's send of its batch, outside the control lock (never during a TTL-limited send). */
    private void sendFast(DatagramBatch out) {
        if (out.count() == 0) {
            return;
        }
        ttlGate.readLock().lock();
        try {
            noteGsoRefusal(batches.send(out), out);
        } catch (SocketOptionException e) {
            if (!stopping.get()) {
                LOG.warn("udp send failed: {}", e.getMessage());
            }
        } finally {
            ttlGate.readLock().unlock();
            out.clear();
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
        TunSegments segments = tunSegments;
        if (segments != null && !segments.drops().isEmpty()) {
            LOG.warn("dropped records read from {} that could not be split into packets: {}", tun.name(),
                    segments.drops());
        }
        if (coalescing != null) {
            LOG.info("{}: {}{}", tun.name(), coalescing.summary(), coalescing.drops().isEmpty() ? ""
                    : "; batches written packet by packet: " + coalescing.drops());
        }
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
