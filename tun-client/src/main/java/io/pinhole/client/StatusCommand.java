package io.pinhole.client;

import io.pinhole.config.FileErrors;
import io.pinhole.peer.PathKind;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * StatusCommand: {@code pinhole status}: reads the {@link StatusFile} of a running
 * {@code pinhole up} and prints what the tunnel is doing, e.g.
 * <pre>
 * tun0: tunnel up, path direct to 198.51.100.2:40000, rtt 1.23 ms
 *   state connected, public endpoint 203.0.113.7:40000, direct attempts 1, packets sent 120, received 118
 *   dropped wrong source 3, ipv6 not allowed 5
 * </pre>
 * (the third line only when something was dropped), or, with {@code --raw}, the file itself. Exit 0 when the file is there, well-formed and
 * current; 1, with one line on stderr saying why, when there is none, it is stale (its process
 * is gone, or it was not rewritten for 5 s) or it is not a status file. Single-threaded; not
 * meant to be shared.
 */
@Command(name = "status", description = "Show the state of a running `pinhole up`: path, round trip, counters.")
final class StatusCommand implements Callable<Integer> {
    @Option(names = "--dev", defaultValue = "tun0", paramLabel = "NAME",
            description = "The TUN device of the `pinhole up` to ask about (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--status-file", paramLabel = "PATH",
            description = "The status file to read: the one given to `pinhole up --status-file`, if any "
                    + "(default: /run/pinhole/<dev>.status).")
    Path statusFile;

    @Option(names = "--raw",
            description = "Print the status file as it is, key=value lines (default: off: two lines for people).")
    boolean raw;

    /** The time and process checks; replaced in tests. */
    LongSupplier wallMillis = System::currentTimeMillis;
    LongPredicate pidAlive = StatusFile::alive;
    LongSupplier netns = NetNamespace::current;
    Path defaultDir = StatusFile.DEFAULT_DIR;
    PrintStream out = System.out;
    PrintStream err = System.err;

    @Override
    public Integer call() {
        long ours = netns.getAsLong();
        Path file = statusFile;
        if (file == null) { // ours if this namespace has one of its own (not the host's), else the host's
            Path namespaced = StatusFile.namespacedPath(defaultDir, device, ours);
            file = ours != 0 && Files.exists(namespaced) ? namespaced
                    : defaultDir.resolve(StatusFile.defaultPath(device).getFileName());
        }
        String text;
        StatusFile.Status status;
        try {
            text = StatusFile.readStable(file);
            status = StatusFile.parse(file, text);
        } catch (NoSuchFileException e) {
            return fail("no pinhole is running on " + device + " (no " + file + ")");
        } catch (StatusFile.MalformedException e) {
            if (isEmpty(file)) { // opened by a starting pinhole up, not written yet
                return fail("no status in " + file + " yet: the pinhole writing it is starting (ask again in a second)");
            }
            return fail(e.getMessage());
        } catch (IOException e) {
            return fail("cannot read " + file + ": " + FileErrors.reason(e));
        }
        if (statusFile == null && status.netns() != 0 && ours != 0 && status.netns() != ours) {
            return fail("no pinhole is running on " + device + " in this network namespace: " + file + " is process "
                    + status.pid() + "'s, in network namespace net:[" + Long.toUnsignedString(status.netns())
                    + "] (run pinhole status there, e.g. with ip netns exec)");
        }
        String stale = status.staleReason(wallMillis.getAsLong(), pidAlive);
        if (status.state().equals(StatusFile.STOPPED)) {
            return fail("no pinhole is running on " + status.device() + ": " + file + " says " + stale);
        }
        if (stale != null) {
            return fail("the status of " + status.device() + " in " + file + " is stale: " + stale);
        }
        out.print(raw ? text : describe(status));
        out.flush();
        return 0;
    }

    /** The two lines (three when something was dropped) shown without {@code --raw}. */
    static String describe(StatusFile.Status s) {
        StringBuilder text = new StringBuilder(200).append(s.device()).append(": tunnel ")
                .append(s.tunnelUp() ? "up" : "down");
        if (s.path() == PathKind.NONE) {
            text.append(", no path");
        } else {
            text.append(", path ").append(s.path() == PathKind.DIRECT ? "direct to " : "relayed via ")
                    .append(s.endpoint());
            text.append(s.rttNanos() < 0 ? ", rtt not measured yet" : ", rtt " + s.rttMillis() + " ms");
        }
        text.append("\n  state ").append(s.state())
                .append(", public endpoint ").append(s.publicEndpoint().isEmpty() ? "unknown" : s.publicEndpoint())
                .append(", direct attempts ").append(s.directAttempts())
                .append(", packets sent ").append(s.packetsSent())
                .append(", received ").append(s.packetsReceived()).append('\n');
        if (!s.drops().isEmpty()) {
            text.append("  dropped ").append(s.drops().replace(':', ' ').replace('_', ' ').replace(",", ", "))
                    .append('\n');
        }
        return text.toString();
    }

    private static boolean isEmpty(Path file) {
        try {
            return Files.size(file) == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private int fail(String message) {
        err.println("pinhole status: " + message);
        return 1;
    }
}
