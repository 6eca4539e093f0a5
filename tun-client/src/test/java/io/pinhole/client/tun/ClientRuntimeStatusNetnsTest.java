package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ClientRuntimeStatusNetnsTest: a real {@link io.pinhole.client.ClientRuntime} (real TUN device,
 * in a fresh {@code phtun-*} namespace, listening only, so it sends nothing) writes its status
 * file at once and then every second, in the documented format, readable by everyone, and
 * deletes it when stopped. Needs root and /dev/net/tun (fails when CI=true, aborted otherwise).
 */
@Timeout(300)
class ClientRuntimeStatusNetnsTest {
    private static String ip;

    @TempDir
    Path dir;

    @BeforeAll
    static void requireRealDevices() {
        ip = RealTunEnvironment.requireRootTunAndIp();
    }

    @Test
    void theStatusFileIsWrittenEverySecondAndRemovedOnStop() throws Exception {
        Path file = dir.resolve("tun0.status");
        try (Netns ns = Netns.create(ip); ChildJvm child = ChildJvm.start(ns, "runtime-status", "tun0",
                file.toString())) {
            String pid = child.await("started").get("pid");
            Map<String, String> first = awaitStatus(file, child);
            assertEquals(List.of("device", "pid", "netns", "updated_ms", "state", "path", "endpoint", "rtt_ms",
                    "tunnel", "public", "direct_attempts", "packets_sent", "packets_received", "drops"),
                    List.copyOf(first.keySet()));
            assertEquals("tun0", first.get("device"));
            assertEquals(pid, first.get("pid"));
            String ours = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString().replaceAll("\\D", "");
            assertTrue(first.get("netns").matches("[1-9]\\d*") && !first.get("netns").equals(ours),
                    "the child's own network namespace, not ours (" + ours + "): " + first.get("netns"));
            assertEquals("waiting_for_peer", first.get("state"), "listen-only: waiting for the peer");
            assertEquals("none", first.get("path"));
            assertEquals("", first.get("endpoint"));
            assertEquals("", first.get("rtt_ms"));
            assertEquals("down", first.get("tunnel"));
            assertEquals("0", first.get("packets_received"));
            long age = System.currentTimeMillis() - Long.parseLong(first.get("updated_ms"));
            assertTrue(age >= 0 && age < 5_000, "written just now, not " + age + " ms ago");
            assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

            Thread.sleep(2_200);
            long later = Long.parseLong(read(file).get("updated_ms"));
            assertTrue(later - Long.parseLong(first.get("updated_ms")) >= 1_000, "rewritten a second or more later");

            child.awaitPause("running");
            child.resume();
            Map<String, String> stopped = child.await("stopped");
            assertEquals("false", stopped.get("statusFileExists"), child.details());
            assertEquals("false", stopped.get("udpOpen"));
            child.awaitSuccess();
            try (var files = Files.list(dir)) {
                assertEquals(List.of(), files.toList(), "the status file is gone, and no temporary file is left");
            }
        }
    }

    /** Waits up to 10 s for the file to appear, then reads it. */
    private static Map<String, String> awaitStatus(Path file, ChildJvm child) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!Files.exists(file) || Files.size(file) == 0) { // opened at construction, written at start
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no status file " + file + " after 10 s\n" + child.details());
            }
            Thread.sleep(50);
        }
        return read(file);
    }

    private static Map<String, String> read(Path file) {
        try {
            Map<String, String> kv = new LinkedHashMap<>();
            for (String line : Files.readAllLines(file)) {
                int eq = line.indexOf('=');
                kv.put(line.substring(0, eq), line.substring(eq + 1));
            }
            return kv;
        } catch (NoSuchFileException e) {
            throw new AssertionError("the status file vanished: " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
