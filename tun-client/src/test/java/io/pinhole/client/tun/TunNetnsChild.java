package io.pinhole.client.tun;

import io.pinhole.client.ClientRuntime;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.peer.PeerConfig;
import io.pinhole.peer.PeerMachine;
import io.pinhole.peer.PeerTimers;
import io.pinhole.peer.Traversal;
import io.pinhole.wireguard.SessionTimers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Child-JVM side of the real-device tests. Started by {@link ChildJvm} through
 * {@code ip netns exec <test namespace>}; refuses to run in the parent's or PID 1's network namespace, so it can
 * never create a device or send a packet in the namespace the tests were started in (the
 * machine's root namespace). Reports results as
 * {@code @@ event<TAB>key=value} lines on stdout; {@code @@ pause} waits for a line on stdin.
 * Exit status 0 means the scenario ran to the end (the parent test judges the reported values).
 */
public final class TunNetnsChild {
    static final String PREFIX = "@@ ";
    static final Inet4Address LOCAL = Ipv4Packets.addr(new byte[] {(byte) 198, 51, 100, 1});
    static final Inet4Address PEER = Ipv4Packets.addr(new byte[] {(byte) 198, 51, 100, 2});
    /** Buffers are used from this offset, to check that position/arrayOffset are honoured. */
    static final int OFFSET = 5;
    /** The parent's {@code /proc/self/ns/net} link target, e.g. {@code net:[4026531840]}. */
    static final String PARENT_NETNS_PROPERTY = "pinhole.test.parentNetns";

    private static final BufferedReader STDIN =
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

    private TunNetnsChild() {
    }

    public static void main(String[] args) {
        try {
            refuseRootNamespace();
            switch (args[0]) {
                case "configure" -> configure(args[1]);
                case "traffic" -> traffic(args[1], args[2], args[3]);
                case "name-taken" -> nameTaken(args[1]);
                case "bad-mtu" -> badMtu(args[1]);
                case "routes" -> routes();
                case "close-while-reading" -> closeWhileReading(args[1]);
                case "deleted-while-open" -> deletedWhileOpen(args[1]);
                case "udp-receive" -> udpReceive(Integer.parseInt(args[1]), Integer.parseInt(args[2]));
                case "ttl-send" -> ttlSend(Arrays.copyOfRange(args, 1, args.length));
                case "runtime-status" -> runtimeStatus(args[1], Path.of(args[2]));
                default -> throw new IllegalArgumentException("unknown scenario " + args[0]);
            }
            emit("done");
            System.out.flush();
            System.exit(0);
        } catch (Throwable t) {
            emit("error", "type", t.getClass().getName(), "message", String.valueOf(t.getMessage()));
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }
    }

    /** Device in a fresh namespace: address/peer/MTU/UP as the parent sees it, then close removes it. */
    private static void configure(String name) throws Exception {
        TunDevice dev = TunDevice.open(name);
        try {
            emit("opened", "name", dev.name());
            ByteBuffer buf = ByteBuffer.allocateDirect(2048);
            emit("read-timeout", "result", dev.read(buf, 100)); // device is down: nothing to read
            dev.configure(LOCAL, PEER, 1400);
            emit("configured");
            pause("inspect");
        } finally {
            dev.close();
        }
        dev.close(); // idempotent
        emit("closed", "isOpen", dev.isOpen());
        pause("after-close");
    }

    /**
     * A reader thread reads packets while this thread writes: an injected UDP datagram must
     * arrive at a local socket, and a ping to the peer must produce an echo request on the
     * device; a writer thread answers it so that ping succeeds.
     */
    private static void traffic(String name, String mode, String pingPath) throws Exception {
        boolean direct = mode.equals("direct");
        TunDevice dev = TunDevice.open(name);
        try {
            dev.configure(LOCAL, PEER, 1400);
            emit("configured", "name", dev.name());

            AtomicReference<Ipv4Packets.Summary> request = new AtomicReference<>();
            AtomicReference<Throwable> readerFailure = new AtomicReference<>();
            AtomicReference<Throwable> writerFailure = new AtomicReference<>();
            AtomicInteger repliesWritten = new AtomicInteger();
            BlockingQueue<byte[]> replies = new LinkedBlockingQueue<>();
            CountDownLatch stop = new CountDownLatch(1);

            Thread reader = new Thread(() -> {
                ByteBuffer buf = direct ? ByteBuffer.allocateDirect(OFFSET + 2048)
                        : ByteBuffer.allocate(OFFSET + 2048 + 11).position(11).slice(); // arrayOffset 11
                try {
                    for (;;) {
                        buf.clear().position(OFFSET);
                        int n = dev.read(buf, 500);
                        if (n < 0) {
                            return;
                        }
                        if (n == 0) {
                            continue;
                        }
                        if (buf.position() != OFFSET + n) {
                            throw new AssertionError("position " + buf.position() + " after reading " + n);
                        }
                        byte[] pkt = new byte[n];
                        buf.duplicate().position(OFFSET).get(pkt);
                        Ipv4Packets.Summary s = Ipv4Packets.parse(pkt);
                        System.out.println("# read " + n + " bytes: " + s);
                        if (s.isEchoRequestTo(PEER)) {
                            request.compareAndSet(null, s);
                            replies.add(Ipv4Packets.echoReplyFor(pkt));
                        }
                    }
                } catch (Throwable t) {
                    readerFailure.set(t);
                    t.printStackTrace(System.out);
                }
            }, "tun-reader");
            Thread writer = new Thread(() -> {
                try {
                    while (stop.getCount() > 0) {
                        byte[] reply = replies.poll(100, TimeUnit.MILLISECONDS);
                        if (reply != null) {
                            dev.write(wrap(reply, direct, false));
                            repliesWritten.incrementAndGet();
                        }
                    }
                } catch (Throwable t) {
                    writerFailure.set(t);
                    t.printStackTrace(System.out);
                }
            }, "tun-writer");
            reader.setDaemon(true);
            writer.setDaemon(true);
            reader.start();
            writer.start();

            // Written from this thread while the reader thread sits in read().
            try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(LOCAL, 0))) {
                socket.setSoTimeout(20_000);
                String payload = "pinhole-udp-" + Long.toHexString(System.nanoTime());
                byte[] datagram = Ipv4Packets.udp(PEER, 40000, LOCAL, socket.getLocalPort(),
                        payload.getBytes(StandardCharsets.US_ASCII));
                ByteBuffer src = wrap(datagram, direct, true);
                dev.write(src);
                emit("udp-written", "payload", payload, "srcRemaining", src.remaining());
                DatagramPacket got = new DatagramPacket(new byte[2048], 2048);
                socket.receive(got);
                emit("udp-received",
                        "payload", new String(got.getData(), 0, got.getLength(), StandardCharsets.US_ASCII),
                        "from", got.getAddress().getHostAddress() + ":" + got.getPort());
            }

            Process ping = new ProcessBuilder(pingPath, "-n", "-c", "1", "-W", "10", PEER.getHostAddress())
                    .redirectErrorStream(true).start();
            ping.getOutputStream().close();
            String pingOutput = new String(ping.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!ping.waitFor(60, TimeUnit.SECONDS)) {
                ping.destroyForcibly();
            }
            emit("ping", "exit", ping.isAlive() ? "timeout" : ping.exitValue(), "output", pingOutput);

            Ipv4Packets.Summary s = request.get();
            emit("icmp-request", "seen", s != null,
                    "version", s == null ? "" : s.version(),
                    "protocol", s == null ? "" : s.protocol(),
                    "src", s == null ? "" : s.src().getHostAddress(),
                    "dst", s == null ? "" : s.dst().getHostAddress(),
                    "type", s == null ? "" : s.icmpType());

            stop.countDown();
            writer.join(30_000);
            dev.close(); // while the reader thread is still reading
            reader.join(30_000);
            emit("threads", "readerAlive", reader.isAlive(), "writerAlive", writer.isAlive(),
                    "readerFailure", String.valueOf(readerFailure.get()),
                    "writerFailure", String.valueOf(writerFailure.get()),
                    "repliesWritten", repliesWritten.get());
        } finally {
            dev.close();
        }
    }

    /** Second open of a busy name, and open of an existing non-TUN interface ("lo"). */
    private static void nameTaken(String name) throws Exception {
        String actual;
        try (TunDevice first = TunDevice.open(name)) {
            actual = first.name();
            emit("opened", "name", actual);
            expectNameTaken("busy", actual);
            expectNameTaken("not-tun", "lo");
        }
        try (TunDevice again = TunDevice.open(actual)) {
            emit("reopened", "name", again.name());
        }
    }

    private static void expectNameTaken(String label, String name) {
        try (TunDevice unexpected = TunDevice.open(name)) {
            emit("taken", "case", label, "result", "opened " + unexpected.name());
        } catch (TunException e) {
            emit("taken", "case", label, "result", e.getClass().getSimpleName(), "errno", e.errnoName(),
                    "operation", e.operation(), "device", e.deviceName(), "message", e.getMessage());
        }
    }

    /**
     * tun0 with IPv6 off, an IPv4 network and host route through it, the same route again (refused);
     * tun1 with IPv6 on and an IPv6 route through it. Both stay until the parent has looked.
     */
    private static void routes() throws Exception {
        try (TunDevice v4 = TunDevice.open("tun0"); TunDevice v6 = TunDevice.open("tun1")) {
            emit("ipv6-off", "written", v4.ipv6(false));
            v4.configure(LOCAL, PEER, 1400);
            v4.addRoute(java.net.InetAddress.getByName("192.168.77.0"), 24);
            v4.addRoute(java.net.InetAddress.getByName("10.20.0.1"), 32);
            try {
                v4.addRoute(java.net.InetAddress.getByName("192.168.77.0"), 24);
                emit("again", "result", "added");
            } catch (TunException e) {
                emit("again", "result", e.getClass().getSimpleName(), "errno", e.errnoName(), "operation",
                        e.operation(), "message", e.getMessage());
            }
            emit("ipv6-on", "written", v6.ipv6(true));
            v6.configure((java.net.Inet4Address) java.net.InetAddress.getByName("10.30.0.1"),
                    (java.net.Inet4Address) java.net.InetAddress.getByName("10.30.0.2"), 1400);
            v6.addRoute(java.net.InetAddress.getByName("fd77::"), 64);
            emit("routed");
            pause("inspect");
        }
    }

    /** MTUs the kernel refuses, then a valid one; the name is a kernel-numbered pattern. */
    private static void badMtu(String name) throws Exception {
        try (TunDevice dev = TunDevice.open(name)) {
            emit("opened", "name", dev.name());
            for (int mtu : new int[] {70000, 20}) {
                try {
                    dev.configure(LOCAL, PEER, mtu);
                    emit("bad-mtu", "mtu", mtu, "result", "configured");
                } catch (TunException e) {
                    emit("bad-mtu", "mtu", mtu, "result", e.getClass().getSimpleName(), "errno", e.errnoName(),
                            "operation", e.operation(), "message", e.getMessage());
                }
            }
            dev.configure(LOCAL, PEER, 1280);
            emit("configured", "mtu", 1280);
            pause("inspect");
        }
    }

    /** close() while another thread is blocked in an unbounded read; then the closed-state contract. */
    private static void closeWhileReading(String name) throws Exception {
        TunDevice dev = TunDevice.open(name);
        dev.configure(LOCAL, PEER, 1400);
        emit("opened", "name", dev.name());
        AtomicInteger result = new AtomicInteger(Integer.MIN_VALUE);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(2048);
            started.countDown();
            try {
                int n;
                do { // the kernel may send IPv6 packets (MLD, router solicitation): skip them
                    buf.clear();
                    n = dev.read(buf, -1);
                } while (n > 0);
                result.set(n);
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "blocked-reader");
        reader.setDaemon(true);
        reader.start();
        started.await();
        // Give the reader time to get into poll(2). Not needed for correctness: a reader that
        // enters read() after close() returns -1 as well.
        Thread.sleep(300);
        dev.close();
        reader.join(30_000);
        emit("reader", "alive", reader.isAlive(), "result", result.get(), "failure", String.valueOf(failure.get()));

        dev.close(); // idempotent
        int readAfterClose = dev.read(ByteBuffer.allocate(64), 1000);
        String write;
        try {
            dev.write(ByteBuffer.wrap(Ipv4Packets.udp(PEER, 1, LOCAL, 2, new byte[1])));
            write = "written";
        } catch (TunException e) {
            write = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        String configure;
        try {
            dev.configure(LOCAL, PEER, 1400);
            configure = "configured";
        } catch (TunException e) {
            configure = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        emit("after-close", "read", readAfterClose, "write", write, "configure", configure, "isOpen", dev.isOpen());
        pause("after-close");
    }

    /** The parent deletes the interface ({@code ip link del}) while it is open: read and write report it. */
    private static void deletedWhileOpen(String name) throws Exception {
        try (TunDevice dev = TunDevice.open(name)) {
            dev.configure(LOCAL, PEER, 1400);
            emit("opened", "name", dev.name());
            pause("delete-it");
            String read;
            try {
                read = "returned " + dev.read(ByteBuffer.allocateDirect(2048), 10_000);
            } catch (TunException e) {
                read = e.getClass().getSimpleName() + "|" + e.errnoName() + "|" + e.getMessage();
            }
            String write;
            try {
                dev.write(ByteBuffer.wrap(Ipv4Packets.udp(PEER, 1, LOCAL, 2, new byte[1])));
                write = "written";
            } catch (TunException e) {
                write = e.getClass().getSimpleName() + "|" + e.errnoName() + "|" + e.getMessage();
            }
            emit("deleted", "read", read, "write", write);
        }
    }

    /** The packet in a buffer of the requested kind, starting at a non-zero position. */
    /** Receives {@code count} datagrams on UDP {@code port} and reports each one's payload. */
    private static void udpReceive(int port, int count) throws IOException {
        try (DatagramChannel udp = DatagramChannel.open(StandardProtocolFamily.INET)) {
            udp.bind(new InetSocketAddress(port));
            emit("listening", "port", port);
            ByteBuffer buf = ByteBuffer.allocate(2048);
            for (int i = 0; i < count; i++) {
                buf.clear();
                InetSocketAddress from = (InetSocketAddress) udp.receive(buf);
                buf.flip();
                emit("received", "payload", StandardCharsets.UTF_8.decode(buf),
                        "from", from.getAddress().getHostAddress());
            }
        }
    }

    /** Sends each {@code ADDR:PORT:TTL:PAYLOAD} with {@link SocketTtl}, in order, from one socket. */
    private static void ttlSend(String[] specs) throws IOException {
        try (DatagramChannel udp = DatagramChannel.open(StandardProtocolFamily.INET)) {
            udp.bind(new InetSocketAddress(0));
            SocketTtl ttl = SocketTtl.of(udp);
            for (String spec : specs) {
                String[] p = spec.split(":", 4);
                InetSocketAddress to = new InetSocketAddress(InetAddress.getByName(p[0]), Integer.parseInt(p[1]));
                boolean sent = ttl.send(to, StandardCharsets.UTF_8.encode(p[3]), Integer.parseInt(p[2]));
                emit("sent", "payload", p[3], "ttl", p[2], "result", sent);
            }
        }
    }

    /**
     * A {@link ClientRuntime} on a real device, listening only (no rendezvous, no peer endpoint,
     * so it sends nothing), writing its status to {@code statusFile}; stopped after the parent
     * has looked.
     */
    private static void runtimeStatus(String name, Path statusFile) throws Exception {
        SecureRandom random = new SecureRandom();
        NoisePrivateKey key = NoisePrivateKey.generate(random);
        NoisePublicKey peer = NoisePrivateKey.generate(random).publicKey();
        PeerConfig config = new PeerConfig(key, peer, null, null, null, null, List.of(), PeerTimers.defaults(),
                SessionTimers.defaults(), Traversal.defaults());
        PeerMachine machine = new PeerMachine(config, 1, random, Clock.systemUTC());
        TunDevice dev = TunDevice.open(name);
        dev.configure(LOCAL, PEER, 1400);
        DatagramChannel udp = DatagramChannel.open(StandardProtocolFamily.INET);
        udp.bind(new InetSocketAddress(0));
        ClientRuntime runtime = new ClientRuntime(machine, udp, dev, 1400, System::nanoTime, statusFile);
        runtime.start();
        emit("started", "pid", ProcessHandle.current().pid());
        pause("running");
        runtime.stop();
        emit("stopped", "statusFileExists", Files.exists(statusFile), "udpOpen", udp.isOpen());
    }

    private static ByteBuffer wrap(byte[] packet, boolean direct, boolean readOnly) {
        ByteBuffer b;
        if (direct) {
            b = ByteBuffer.allocateDirect(OFFSET + packet.length + 7);
            b.position(OFFSET);
            b.put(packet);
            b.flip().position(OFFSET);
        } else {
            byte[] backing = new byte[OFFSET + packet.length + 7];
            System.arraycopy(packet, 0, backing, OFFSET, packet.length);
            b = ByteBuffer.wrap(backing, OFFSET, packet.length);
        }
        return readOnly ? b.asReadOnlyBuffer() : b;
    }

    /**
     * Exits unless this process is in a network namespace different from the parent test JVM's
     * (system property {@value #PARENT_NETNS_PROPERTY}, required) and from PID 1's (when readable).
     */
    private static void refuseRootNamespace() throws IOException {
        String self = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        String parent = System.getProperty(PARENT_NETNS_PROPERTY);
        if (parent == null || parent.isBlank()) {
            refuse("the parent's network namespace was not passed in -D" + PARENT_NETNS_PROPERTY);
        }
        if (self.equals(parent)) {
            refuse("running in the parent test JVM's network namespace " + self);
        }
        String init;
        try {
            init = Files.readSymbolicLink(Path.of("/proc/1/ns/net")).toString();
        } catch (IOException | SecurityException e) {
            init = "unreadable (" + e.getClass().getSimpleName() + ")";
        }
        if (self.equals(init)) {
            refuse("running in PID 1's network namespace " + self);
        }
        System.out.println("# network namespace " + self + " (parent: " + parent + ", PID 1: " + init + ")");
    }

    private static void refuse(String reason) {
        emit("refused", "reason", reason);
        System.out.flush();
        System.exit(3);
    }

    private static void pause(String tag) throws IOException {
        emit("pause", "tag", tag);
        if (STDIN.readLine() == null) {
            throw new IOException("parent closed stdin during pause '" + tag + "'");
        }
    }

    static void emit(String event, Object... kv) {
        StringBuilder sb = new StringBuilder(PREFIX).append(event);
        for (int i = 0; i + 1 < kv.length; i += 2) {
            sb.append('\t').append(kv[i]).append('=').append(clean(String.valueOf(kv[i + 1])));
        }
        synchronized (System.out) {
            System.out.println(sb);
            System.out.flush();
        }
    }

    private static String clean(String v) {
        return v.replace('\t', ' ').replace('\r', ' ').replace('\n', ' ').strip();
    }
}
