package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.client.tun.SocketTtl;
import io.pinhole.client.tun.TtlReceiver;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * UdpSenderTest: the client's output for TTL-limited openers on loopback. A datagram sent with
 * TTL 1 arrives (loopback) with TTL 1, and plain sends keep the socket's TTL; when the TTL cannot
 * be limited, sendWithTtl says false, sends nothing at all, and warns once with the reason.
 */
class UdpSenderTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static ByteBuffer text(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Runs {@code action}, returning what it logged on stderr (slf4j-simple writes there). */
    private static <T> T capturingStderr(StringBuilder log, Supplier<T> action) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return action.get();
        } finally {
            System.setErr(saved);
            log.append(err.toString(StandardCharsets.UTF_8));
        }
    }

    private static long count(String text, String needle) {
        return text.lines().filter(l -> l.contains(needle)).count();
    }

    @Test
    void sendWithTtlOneArrivesWithTtlOne_andPlainSendsKeepTheSocketTtl() throws IOException {
        try (TtlReceiver receiver = TtlReceiver.open(LOOPBACK);
             DatagramChannel udp = TtlReceiver.bound(LOOPBACK)) {
            int socketTtl = TtlReceiver.currentTtl(udp, false);
            UdpSender sender = new UdpSender(udp, System::nanoTime);

            assertTrue(sender.sendWithTtl(receiver.address(), text("opener"), 1));
            sender.send(receiver.address(), text("keepalive"));

            assertEquals(new TtlReceiver.Datagram("opener", 1), receiver.receive(2000));
            assertEquals(new TtlReceiver.Datagram("keepalive", socketTtl), receiver.receive(2000));
            assertEquals(socketTtl, TtlReceiver.currentTtl(udp, false));
            assertEquals(0, sender.sendErrors());
        }
    }

    @Test
    void whenSetsockoptFails_sendWithTtlReturnsFalse_sendsNothing_andWarnsOnceWithErrno() throws IOException {
        int devNull = TtlReceiver.openNonSocket();
        try (TtlReceiver receiver = TtlReceiver.open(LOOPBACK);
             DatagramChannel udp = TtlReceiver.bound(LOOPBACK)) {
            UdpSender sender = new UdpSender(udp, System::nanoTime,
                    channel -> TtlReceiver.socketTtlOnDescriptor(channel, devNull));
            InetSocketAddress to = receiver.address();
            StringBuilder log = new StringBuilder();

            List<Boolean> results = capturingStderr(log, () -> {
                List<Boolean> r = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    r.add(sender.sendWithTtl(to, text("opener " + i), 2));
                }
                return r;
            });

            assertEquals(List.of(false, false, false), results);
            assertNull(receiver.receive(300), "nothing was sent, not even at full TTL");
            assertEquals(1, count(log.toString(), "WARN"), "one warning for three failures:\n" + log);
            assertTrue(log.toString().contains("TTL-limited openers are not sent: cannot read the TTL of UDP socket")
                    && log.toString().contains("ENOTSOCK (Socket operation on non-socket)"), log.toString());
            sender.send(to, text("plain"));
            assertEquals("plain", receiver.receive(2000).payload(), "plain sends are unaffected");
        } finally {
            TtlReceiver.closeDescriptor(devNull);
        }
    }

    @Test
    void inAJvmWithoutAddOpens_theWarningSaysWhichOptionIsMissing_andNothingIsSent() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process p = new ProcessBuilder(java.toString(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m",
                "-cp", cp, NoOpensProbe.class.getName()).start();
        p.getOutputStream().close();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the probe JVM did not finish in 60 s");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out + err);
        assertEquals(List.of("result=false", "result=false", "received=nothing", "ok"), out.lines().toList(), err);
        assertEquals(1, count(err, "WARN"), err);
        assertTrue(err.contains("TTL-limited openers are not sent") && err.contains(SocketTtl.ADD_OPENS)
                && err.contains("java.base does not open sun.nio.ch"), err);
    }

    @Test
    void sendersOfOneGroupShareOneLog_oneTtlWarningAndOneErrorCountForAll() throws IOException {
        int devNull = TtlReceiver.openNonSocket();
        try (DatagramChannel first = TtlReceiver.bound(LOOPBACK); DatagramChannel second = TtlReceiver.bound(LOOPBACK)) {
            UdpSender.SendLog group = new UdpSender.SendLog(" on spare sockets", "TTL-limited probes are not sent",
                    System::nanoTime);
            UdpSender.TtlAccess failing = channel -> TtlReceiver.socketTtlOnDescriptor(channel, devNull);
            UdpSender a = new UdpSender(first, "spare socket 1", " from spare socket 1", group, failing);
            UdpSender b = new UdpSender(second, "spare socket 2", " from spare socket 2", group, failing);
            InetSocketAddress to = new InetSocketAddress(LOOPBACK, 9);
            StringBuilder log = new StringBuilder();

            List<Boolean> results = capturingStderr(log, () -> List.of(a.sendWithTtl(to, text("1"), 2),
                    b.sendWithTtl(to, text("2"), 2), a.sendWithTtl(to, text("3"), 2)));
            assertEquals(List.of(false, false, false), results);
            assertEquals(1, count(log.toString(), "WARN"), "one warning for the group:\n" + log);
            assertTrue(log.toString().contains("TTL-limited probes are not sent: "), log.toString());

            InetSocketAddress nowhere = InetSocketAddress.createUnresolved("nowhere.invalid", 9);
            StringBuilder errors = new StringBuilder();
            List<Boolean> sent = capturingStderr(errors, () -> List.of(a.send(nowhere, text("x")),
                    b.send(nowhere, text("y"))));
            assertEquals(List.of(false, false), sent);
            assertEquals(2, a.sendErrors(), "one count for the group");
            assertEquals(2, b.sendErrors());
            assertEquals(1, count(errors.toString(), "WARN"), "one line per 10 s for the group:\n" + errors);
            assertTrue(errors.toString().contains("cannot send to nowhere.invalid")
                    && errors.toString().contains("from spare socket 1")
                    && errors.toString().contains("(1 send errors on spare sockets so far)"), errors.toString());
        } finally {
            TtlReceiver.closeDescriptor(devNull);
        }
    }

    @Test
    void aSpareSocketsSenderSendsAndLimitsItsTtlLikeTheMainOne() throws IOException {
        try (TtlReceiver receiver = TtlReceiver.open(LOOPBACK);
             DatagramChannel spare = DatagramChannel.open()) {
            spare.bind(new InetSocketAddress(LOOPBACK, 0));
            spare.configureBlocking(false); // as the spare sockets are
            UdpSender.SendLog group = new UdpSender.SendLog(" on spare sockets", "TTL-limited probes are not sent",
                    System::nanoTime);
            UdpSender sender = new UdpSender(spare, "spare socket 1", " from spare socket 1", group, SocketTtl::of);
            int socketTtl = TtlReceiver.currentTtl(spare, false);

            assertTrue(sender.sendWithTtl(receiver.address(), text("probe"), 2));
            assertTrue(sender.send(receiver.address(), text("path")));
            assertEquals(new TtlReceiver.Datagram("probe", 2), receiver.receive(2000));
            assertEquals(new TtlReceiver.Datagram("path", socketTtl), receiver.receive(2000));
            assertEquals(0, sender.sendErrors());
        }
    }
}
