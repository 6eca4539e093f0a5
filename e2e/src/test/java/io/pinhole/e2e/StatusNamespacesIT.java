package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two peers with the same device name (tun0) in two network namespaces share /run: each keeps
 * its own status file (named after its namespace), and `pinhole status` in each namespace shows
 * that namespace's tunnel, never the other's (issue 8, trap 4). Stopped, each file says so: the
 * clients run as nobody and cannot delete them (issue 9, item 5); the test removes them.
 */
@ExtendWith(LabExtension.class)
class StatusNamespacesIT {
    @Test
    void pinholeStatusInEachNamespaceShowsItsOwnTunnel(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        Lab.Proc server = pinhole.startServer();
        Lab.Proc a = pinhole.startClient(Peer.A, false);
        Lab.Proc b = pinhole.startClient(Peer.B, false);
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel", server, a, b);

        say("Both clients use the default status file; each namespace gets its own.");
        Path fileA = statusFileOf(lab, "a");
        Path fileB = statusFileOf(lab, "b");
        assertTrue(!fileA.equals(fileB), fileA + " = " + fileB);
        try {
            statusInEachNamespace(pinhole, lab, a, b, fileA, fileB);
        } finally {
            Files.deleteIfExists(fileA); // ours: the test removes what its clients could not
            Files.deleteIfExists(fileB);
        }
    }

    private static void statusInEachNamespace(Pinhole pinhole, Lab lab, Lab.Proc a, Lab.Proc b, Path fileA, Path fileB)
            throws Exception {
        assertTrue(Lab.await(Duration.ofSeconds(10), Duration.ofMillis(200),
            () -> written(fileA) && written(fileB)), "both status files written: " + fileA + ", " + fileB);

        for (Peer peer : Peer.values()) {
            Lab.Result r = lab.exec(peer.node, Duration.ofSeconds(20), pinhole.bin("pinhole"), "status", "--raw");
            say("pinhole status in " + peer.node + ": " + r.output().lines().filter(l -> l.startsWith("pid="))
                .findFirst().orElse(r.output()));
            assertEquals(0, r.exitCode(), r.toString());
            long pid = peer == Peer.A ? a.pid() : b.pid();
            assertTrue(r.output().contains("\ndevice=tun0\n") || r.output().startsWith("device=tun0\n"), r.output());
            assertTrue(r.output().contains("pid=" + pid + "\n"),
                peer.node + " sees its own pinhole: " + r.output());
        }
        lab.stop(a);
        lab.stop(b);
        say("Stopped: the clients run as nobody and cannot delete their files in root's /run/pinhole; each says stopped.");
        for (Peer peer : Peer.values()) {
            Path file = peer == Peer.A ? fileA : fileB;
            assertTrue(Files.readString(file).contains("\nstate=stopped\n"), file + ": " + Files.readString(file));
            Lab.Result r = lab.exec(peer.node, Duration.ofSeconds(20), pinhole.bin("pinhole"), "status");
            assertEquals(1, r.exitCode(), r.toString());
            assertTrue(r.output().contains("pinhole status: no pinhole is running on tun0: " + file + " says process "),
                r.toString());
        }
    }

    private static boolean written(Path file) {
        try {
            return Files.size(file) > 0; // created when pinhole up starts, written a moment later
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** The default status file `pinhole up` in {@code node} writes: named after that namespace's inode. */
    private static Path statusFileOf(Lab lab, String node) {
        Lab.Result r = lab.exec(node, Duration.ofSeconds(5), "readlink", "/proc/self/ns/net");
        assertTrue(r.ok(), r.toString());
        String inode = r.output().strip().replaceAll("\\D", "");
        return Path.of("/run/pinhole/tun0@net-" + inode + ".status");
    }
}
