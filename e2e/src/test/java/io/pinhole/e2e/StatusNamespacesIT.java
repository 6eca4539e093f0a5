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
 * that namespace's tunnel, never the other's (issue 8, trap 4).
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
        assertTrue(Lab.await(Duration.ofSeconds(10), Duration.ofMillis(200),
            () -> Files.exists(fileA) && Files.exists(fileB)), "both status files written: " + fileA + ", " + fileB);

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
        assertTrue(!Files.exists(fileA) && !Files.exists(fileB), "the status files are removed on stop");
    }

    /** The default status file `pinhole up` in {@code node} writes: named after that namespace's inode. */
    private static Path statusFileOf(Lab lab, String node) {
        Lab.Result r = lab.exec(node, Duration.ofSeconds(5), "readlink", "/proc/self/ns/net");
        assertTrue(r.ok(), r.toString());
        String inode = r.output().strip().replaceAll("\\D", "");
        return Path.of("/run/pinhole/tun0@net-" + inode + ".status");
    }
}
