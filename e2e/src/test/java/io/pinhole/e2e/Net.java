package io.pinhole.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.pinhole.e2e.tools.TcpSink;
import io.pinhole.e2e.tools.TcpSource;

/**
 * Observations across a tunnel between any two nodes of a {@link Lab} (pinhole or WireGuard on
 * either end): pings, TCP file transfers, UDP counters and process memory.
 */
final class Net {
    private static final Pattern PING_SUMMARY = Pattern.compile("(\\d+) packets transmitted, (\\d+) received");

    private Net() {}

    /** One ping (1 s deadline) from {@code node} to {@code address}. */
    static boolean pingOnce(Lab lab, String node, String address) {
        return lab.exec(node, Duration.ofSeconds(5), "ping", "-n", "-c", "1", "-W", "1", address).ok();
    }

    /** {@code count} pings 200 ms apart, with more ping options (e.g. {@code -p PATTERN -s SIZE}). */
    static Lab.Result ping(Lab lab, String node, String address, int count, String... options) {
        String[] cmd = new String[9 + options.length];
        String[] base = {"ping", "-n", "-c", String.valueOf(count), "-i", "0.2", "-W", "2", address};
        System.arraycopy(base, 0, cmd, 0, 8);
        System.arraycopy(options, 0, cmd, 8, options.length);
        cmd[cmd.length - 1] = address;
        return lab.exec(node, Duration.ofSeconds(count / 5 + 15L), cmd);
    }

    /** {transmitted, received} from ping's summary line; fails the test if there is none. */
    static int[] pingCounts(Lab.Result r) {
        Matcher m = PING_SUMMARY.matcher(r.output());
        if (!m.find()) {
            fail("no ping summary in: " + r);
        }
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    static String pingSummary(Lab.Result r) {
        return r.output().lines().filter(l -> l.contains("packets transmitted")).findFirst().orElse(r.output().strip());
    }

    /** Asserts that all of {@code count} pings from {@code node} to {@code address} come back. */
    static void assertPings(Lab lab, String node, String address, int count, String... options) {
        Lab.Result r = ping(lab, node, address, count, options);
        Narrator.say("ping " + node + "->" + address + ": " + pingSummary(r));
        assertEquals(0, r.exitCode(), "ping " + node + " -> " + address + " failed: " + r);
        int[] c = pingCounts(r);
        assertEquals(c[0], c[1], "ping " + node + " -> " + address + " lost packets: " + r);
    }

    /** Waits until a ping from {@code node} to {@code address} comes back; fails the test otherwise or when {@code mustRun} exits. */
    static Duration awaitPing(Lab lab, String node, String address, Duration timeout, Lab.Proc... mustRun) {
        long t0 = System.nanoTime();
        boolean ok = Lab.await(timeout, Duration.ofMillis(250), () -> {
            for (Lab.Proc p : mustRun) {
                if (!p.isAlive()) {
                    return true;
                }
            }
            return pingOnce(lab, node, address);
        });
        for (Lab.Proc p : mustRun) {
            assertTrue(p.isAlive(), p + " exited (" + p.exitCode().orElse(null) + ") while " + node + " pinged " + address);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertTrue(ok, "no ping from " + node + " to " + address + " within " + timeout.toSeconds() + " s");
        Narrator.say(node + " reaches " + address + " after " + took.toMillis() + " ms");
        return took;
    }

    /**
     * Sends {@code sent} over TCP from {@code fromNode} to {@code toAddress:port}, where a sink in
     * {@code toNode} writes it to {@code received}; asserts same size and SHA-256.
     */
    static void transfer(Lab lab, String fromNode, String toNode, String toAddress, int port, Path sent, Path received)
            throws Exception {
        Lab.Proc sink = lab.start(toNode, "tcp-sink-" + port, Pinhole.javaTool(TcpSink.class, toAddress, String.valueOf(port),
            received.toString()));
        assertTrue(sink.awaitLog("listening", Duration.ofSeconds(30)), "the sink did not start listening: " + sink.logText());
        Lab.Result send = lab.exec(fromNode, Duration.ofSeconds(180),
            Pinhole.javaTool(TcpSource.class, toAddress, String.valueOf(port), sent.toString()));
        Narrator.say(fromNode + ": " + send.output().strip());
        assertTrue(send.ok(), "sending " + sent.getFileName() + " from " + fromNode + " failed: " + send);
        assertTrue(Lab.await(Duration.ofSeconds(30), Duration.ofMillis(100), () -> !sink.isAlive()), "the sink never finished");
        assertEquals(Optional.of(0), sink.exitCode(), "the sink failed: " + sink.logText());
        Narrator.say(toNode + ": " + sink.logText().strip().replace('\n', ' '));
        assertEquals(Files.size(sent), Files.size(received), "received size");
        String want = sha256(sent);
        String got = sha256(received);
        Narrator.say(fromNode + " -> " + toNode + ": sent SHA-256 " + want + ", received SHA-256 " + got);
        assertEquals(want, got, "SHA-256 of the received file");
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** VmRSS of a process in kB, from /proc/PID/status. */
    static long rssKb(Lab.Proc proc) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + proc.pid() + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (Exception e) {
            fail("cannot read the RSS of " + proc + ": " + e);
        }
        fail("no VmRSS for " + proc);
        return -1;
    }

    /** RX (index 0) and TX (index 1) packet counters of {@code dev} in {@code node} (what {@code ip -s link} shows). */
    static long[] linkPackets(Lab lab, String node, String dev) {
        Lab.Result r = lab.exec(node, Duration.ofSeconds(10), "cat", "/sys/class/net/" + dev + "/statistics/rx_packets",
            "/sys/class/net/" + dev + "/statistics/tx_packets");
        assertTrue(r.ok(), "cannot read the counters of " + dev + " in " + node + ": " + r);
        String[] f = r.output().strip().split("\\s+");
        return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
    }

    /** Named counters (e.g. UdpRcvbufErrors) of {@code nstat -az} in {@code node}; absolute values, history untouched. */
    static long nstat(Lab lab, String node, String counter) {
        Lab.Result r = lab.exec(node, Duration.ofSeconds(10), "nstat", "-azs", counter);
        assertTrue(r.ok(), "nstat in " + node + " failed: " + r);
        for (String line : r.output().lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals(counter)) {
                return Long.parseLong(f[1]);
            }
        }
        fail("no " + counter + " in nstat output of " + node + ": " + r);
        return -1;
    }
}
