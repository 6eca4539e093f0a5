package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.config.ConsoleRun;
import io.pinhole.peer.PathKind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * StatusCommandTest: {@code pinhole status} as a person meets it, through {@link PinholeMain}:
 * the two lines for a running tunnel, {@code --raw}, and one clear line with exit 1 when there
 * is no status file, a stale one, or something that is not a status file.
 */
class StatusCommandTest {
    @TempDir
    Path dir;

    private final long pid = ProcessHandle.current().pid();

    private static ConsoleRun status(String... args) {
        String[] full = new String[args.length + 1];
        full[0] = "status";
        System.arraycopy(args, 0, full, 1, args.length);
        return ConsoleRun.of(() -> PinholeMain.run(full));
    }

    private Path write(StatusFile.Status status) throws IOException {
        Path file = dir.resolve(status.device() + ".status");
        StatusFile.write(file, status);
        return file;
    }

    private StatusFile.Status running(PathKind path, String endpoint, long rttNanos, boolean up, long updatedMs) {
        return new StatusFile.Status("tun0", pid, 0, updatedMs, up ? "connected" : "punching", path, endpoint, rttNanos,
                up, "203.0.113.7:40001", 2, 120, 118);
    }

    private static void assertOneLineFailure(ConsoleRun r, String expected) {
        assertEquals(1, r.code(), r.toString());
        assertEquals("", r.out());
        assertEquals("pinhole status: " + expected + "\n", r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void aRunningDirectTunnelInTwoLines() throws IOException {
        Path file = write(running(PathKind.DIRECT, "198.51.100.2:40000", 1_230_000, true, System.currentTimeMillis()));
        ConsoleRun r = status("--status-file", file.toString());
        assertEquals(0, r.code(), r.toString());
        assertEquals("""
                tun0: tunnel up, path direct to 198.51.100.2:40000, rtt 1.23 ms
                  state connected, public endpoint 203.0.113.7:40001, direct attempts 2, packets sent 120, received 118
                """, r.out());
        assertEquals("", r.err());
    }

    @Test
    void relayedWithoutRtt_andNoPathAtAll() {
        assertEquals("tun0: tunnel up, path relayed via 203.0.113.10:7777, rtt not measured yet",
                StatusCommand.describe(running(PathKind.RELAYED, "203.0.113.10:7777", -1, true, 0)).lines()
                        .findFirst().orElseThrow());
        StatusFile.Status nothing = new StatusFile.Status("tun0", 1, 0, 0, "registering", PathKind.NONE, "", -1, false,
                "", 0, 0, 0);
        assertEquals("""
                tun0: tunnel down, no path
                  state registering, public endpoint unknown, direct attempts 0, packets sent 0, received 0
                """, StatusCommand.describe(nothing));
    }

    @Test
    void dropsAreAThirdLineOnlyWhenThereAreAny() {
        StatusFile.Status dropped = new StatusFile.Status("tun0", 1, 0, 0, "connected", PathKind.DIRECT,
                "198.51.100.2:40000", -1, true, "", 1, 5, 5, "wrong_source:20,ipv6_not_allowed:7");
        assertEquals("  dropped wrong source 20, ipv6 not allowed 7",
                StatusCommand.describe(dropped).lines().toList().get(2));
        assertEquals(2, StatusCommand.describe(running(PathKind.DIRECT, "198.51.100.2:40000", -1, true, 0)).lines()
                .count());
    }

    @Test
    void rawPrintsTheFileAsItIs() throws IOException {
        Path file = write(running(PathKind.DIRECT, "198.51.100.2:40000", 1_230_000, true, System.currentTimeMillis()));
        ConsoleRun r = status("--status-file", file.toString(), "--raw");
        assertEquals(0, r.code(), r.toString());
        assertEquals(Files.readString(file), r.out());
    }

    @Test
    void noStatusFileMeansNoPinholeIsRunningThere() {
        Path missing = dir.resolve("tun0.status");
        assertOneLineFailure(status("--status-file", missing.toString()),
                "no pinhole is running on tun0 (no " + missing + ")");
        byte[] r = new byte[4];
        new SecureRandom().nextBytes(r);
        String dev = "ph" + HexFormat.of().formatHex(r);
        assertOneLineFailure(status("--dev", dev, "--raw"),
                "no pinhole is running on " + dev + " (no /run/pinhole/" + dev + ".status)");
    }

    @Test
    void anEmptyFileIsAPinholeStillStarting() throws IOException {
        Path file = Files.createFile(dir.resolve("tun0.status"));
        assertOneLineFailure(status("--status-file", file.toString()), "no status in " + file
                + " yet: the pinhole writing it is starting (ask again in a second)");
    }

    @Test
    void aFileOfAProcessThatIsGoneIsStale() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        StatusFile.Status s = running(PathKind.DIRECT, "198.51.100.2:40000", -1, true, System.currentTimeMillis());
        Path file = write(new StatusFile.Status(s.device(), gone.pid(), s.netns(), s.updatedMs(), s.state(), s.path(),
                s.endpoint(), s.rttNanos(), s.tunnelUp(), s.publicEndpoint(), s.directAttempts(), s.packetsSent(),
                s.packetsReceived()));
        assertOneLineFailure(status("--status-file", file.toString()), "the status of tun0 in " + file
                + " is stale: process " + gone.pid() + " is not running (it ended without removing the file: killed?)");
    }

    @Test
    void aFileLeftSayingStoppedMeansNothingRuns_evenWhileItsPidIsAlive() throws IOException {
        long at = 1_718_000_009_000L;
        Path file = write(running(PathKind.DIRECT, "198.51.100.2:40000", 1_230_000, true, at - 1_000).stopped(at));
        assertOneLineFailure(status("--status-file", file.toString()), "no pinhole is running on tun0: " + file
                + " says process " + pid + " stopped at 2024-06-10T06:13:29Z (running unprivileged, it could not remove "
                + "the file)");
    }

    @Test
    void aFileNotRewrittenForMoreThanFiveSecondsIsStale_alsoRaw() throws IOException {
        Path file = write(running(PathKind.DIRECT, "198.51.100.2:40000", -1, true,
                System.currentTimeMillis() - 60_000));
        ConsoleRun r = status("--status-file", file.toString(), "--raw");
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().startsWith("pinhole status: the status of tun0 in " + file + " is stale: it was last "
                + "updated 60."), r.err());
        assertTrue(r.err().endsWith(" s ago, though process " + pid + " rewrites it every second (is it stuck?)\n"),
                r.err());
        assertEquals("", r.out());
    }

    @Test
    void somethingElseIsNotAStatusFile() throws IOException {
        Path file = dir.resolve("tun0.status");
        Files.writeString(file, "<html>\n");
        assertOneLineFailure(status("--status-file", file.toString()), file
                + " is not a pinhole status file: line 1: expected 'device=...', found '<html>'");
        assertOneLineFailure(status("--status-file", dir.toString()), "cannot read " + dir
                + ": Is a directory");
    }

    /** {@code pinhole status} with its default path in {@link #dir}, as a process in network namespace {@code netns}. */
    private static ConsoleRun statusIn(Path dir, long netns) {
        return ConsoleRun.of(() -> {
            StatusCommand command = new StatusCommand(); // inside: it takes System.out and System.err when made
            command.defaultDir = dir;
            command.netns = () -> netns;
            return new picocli.CommandLine(command).execute();
        });
    }

    private StatusFile.Status inNamespace(long netns, String endpoint) {
        return new StatusFile.Status("tun0", pid, netns, System.currentTimeMillis(), "connected", PathKind.DIRECT,
                endpoint, 1_000_000, true, "203.0.113.7:40001", 1, 1, 1);
    }

    @Test
    void eachNetworkNamespaceReadsItsOwnStatusAndNeverAnothers() throws IOException {
        StatusFile.write(dir.resolve("tun0.status"), inNamespace(111, "198.51.100.2:40000")); // the host's on tun0
        StatusFile.write(StatusFile.namespacedPath(dir, "tun0", 222), inNamespace(222, "192.0.2.2:40000"));

        ConsoleRun host = statusIn(dir, 111);
        assertEquals(0, host.code(), host.toString());
        assertTrue(host.out().contains("direct to 198.51.100.2:40000"), host.out());

        ConsoleRun other = statusIn(dir, 222);
        assertEquals(0, other.code(), other.toString());
        assertTrue(other.out().contains("direct to 192.0.2.2:40000"), "its own file: " + other.out());

        ConsoleRun none = statusIn(dir, 333);
        assertOneLineFailure(none, "no pinhole is running on tun0 in this network namespace: " + dir.resolve("tun0.status")
                + " is process " + pid + "'s, in network namespace net:[111] (run pinhole status there, e.g. with "
                + "ip netns exec)");
    }

    @Test
    void aStatusFileOfUnknownNamespaceIsRead() throws IOException {
        StatusFile.write(dir.resolve("tun0.status"), inNamespace(0, "198.51.100.2:40000"));
        ConsoleRun r = statusIn(dir, 333);
        assertEquals(0, r.code(), r.toString());
    }
}
