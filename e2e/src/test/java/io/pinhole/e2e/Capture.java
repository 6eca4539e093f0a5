package io.pinhole.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code tcpdump -w} in one node of a {@link Lab}, started and stopped by PID through the lab
 * (so it never outlives the test). The file lands in the lab's log directory.
 */
final class Capture {
    private static final Pattern DROPPED = Pattern.compile("(\\d+) packets? dropped by kernel");
    private static final Pattern CAPTURED = Pattern.compile("(\\d+) packets? captured");

    private final Lab lab;
    private final Lab.Proc proc;
    private final Path file;
    private final String where;
    private boolean stopped;

    private Capture(Lab lab, Lab.Proc proc, Path file, String where) {
        this.lab = lab;
        this.proc = proc;
        this.file = file;
        this.where = where;
    }

    /**
     * Starts {@code tcpdump -i IFACE -w NAME.pcap FILTER...} in {@code node} and waits until it
     * listens. {@code --immediate-mode} and {@code -U} write each packet as it comes (without
     * them, the packets still in the kernel ring when tcpdump is stopped are lost, and not counted
     * as dropped); {@code -Z root} keeps the file writable wherever the log directory is;
     * {@code -B} gives the kernel buffer room for bursts.
     */
    static Capture start(Lab lab, String node, String iface, String name, String... filter) {
        Prerequisites.requireTools("tcpdump", "tcpdump");
        Path file = lab.logDir().resolve(name + ".pcap");
        List<String> cmd = new ArrayList<>(List.of("tcpdump", "-i", iface, "-n", "--immediate-mode", "-U", "-Z", "root",
            "-B", "8192", "-w", file.toString()));
        cmd.addAll(List.of(filter));
        Lab.Proc p = lab.start(node, "tcpdump-" + name, cmd.toArray(String[]::new));
        assertTrue(p.awaitLog("listening on", Duration.ofSeconds(20)),
            "tcpdump on " + node + ":" + iface + " did not start: " + p.logText());
        return new Capture(lab, p, file, node + ":" + iface);
    }

    /** Stops tcpdump (SIGTERM: it flushes the file) and returns the packets it wrote. */
    List<Pcap.Packet> stop() {
        if (!stopped) {
            stopped = true;
            lab.stop(proc);
        }
        List<Pcap.Packet> packets = Pcap.read(file);
        Narrator.say("capture on " + where + ": " + packets.size() + " IPv4 packets, " + size() + " bytes in "
            + lab.root().relativize(file) + summary());
        return packets;
    }

    Path file() {
        return file;
    }

    long size() {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Packets the kernel dropped before tcpdump read them, as tcpdump reported at exit (-1 if it did not say). */
    long droppedByKernel() {
        Matcher m = DROPPED.matcher(proc.logText());
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    /** Packets tcpdump captured, of any protocol the filter let through, as it reported at exit; after {@link #stop}. */
    long captured() {
        if (!stopped) {
            throw new IllegalStateException("tcpdump on " + where + " is still running");
        }
        Matcher m = CAPTURED.matcher(proc.logText());
        if (!m.find()) {
            throw new AssertionError("tcpdump on " + where + " did not say how many packets it captured: " + proc.logText());
        }
        return Long.parseLong(m.group(1));
    }

    private String summary() {
        Matcher c = CAPTURED.matcher(proc.logText());
        return c.find() ? " (tcpdump: " + c.group(1) + " captured, " + droppedByKernel() + " dropped by kernel)" : "";
    }

    /** Removes the file (after a passing test: big captures are kept only when something failed). */
    void delete() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
