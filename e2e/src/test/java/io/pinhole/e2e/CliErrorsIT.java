package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The errors of `pinhole up` that need a real machine, as a person meets them: each exits 1
 * with one line naming the device, what failed and what to do, and leaves no device behind.
 */
@ExtendWith(LabExtension.class)
class CliErrorsIT {
    private static final Duration LIMIT = Duration.ofSeconds(30);

    private String[] up(Pinhole pinhole, String dev, String... prefix) {
        List<String> cmd = new ArrayList<>(List.of(prefix));
        cmd.addAll(List.of(pinhole.bin("pinhole"), "up", "--rendezvous", "203.0.113.10:7777",
            "--private-key", pinhole.privateKeyFile(Peer.A).toString(), "--peer", pinhole.publicKey(Peer.B),
            "--dev", dev, "--local", "10.10.0.1", "--remote", "10.10.0.2"));
        return cmd.toArray(String[]::new);
    }

    private static void assertClearFailure(Lab.Result r, String... mustSay) {
        assertEquals(1, r.exitCode(), "exit code 1: " + r);
        for (String s : mustSay) {
            assertTrue(r.output().contains(s), "the message says '" + s + "': " + r);
        }
        assertFalse(r.output().contains("\tat "), "no stack trace: " + r);
    }

    @Test
    void aDeviceNameTakenByAnotherInterfaceIsRefused(Pinhole pinhole) {
        say("Ask for a TUN device called 'lo': the name belongs to the loopback interface.");
        Lab.Result r = pinhole.lab().exec(Peer.A.node, LIMIT, up(pinhole, "lo"));
        assertClearFailure(r, "lo");
        assertTrue(r.output().contains("pinhole up:"), "one line from pinhole up: " + r);
    }

    @Test
    void noDevNetTunIsExplained(Pinhole pinhole) {
        say("In a private mount namespace, hide /dev/net/tun under an empty tmpfs and start the client.");
        String[] inner = up(pinhole, "tun0");
        String script = "mount -t tmpfs tmpfs /dev/net && exec \"$@\"";
        List<String> cmd = new ArrayList<>(List.of("unshare", "--mount", "sh", "-c", script, "sh"));
        cmd.addAll(List.of(inner));
        Lab.Result r = pinhole.lab().exec(Peer.A.node, LIMIT, cmd.toArray(String[]::new));
        assertClearFailure(r, "/dev/net/tun");
    }

    @Test
    void withoutRootOrCapNetAdminTheClientSaysSo(Pinhole pinhole) throws IOException {
        say("Run the client as user nobody with no capabilities (from a copy of the jar in a world-readable");
        say("temporary directory, wherever this checkout lives, and a copy of a test key that nobody owns, mode 0600).");
        Path root = Path.of(pinhole.bin("pinhole")).getParent().getParent();
        Path dir = Files.createTempDirectory("pinhole-cli-");
        try {
            Path jar = Files.copy(root.resolve("tun-client/target/pinhole.jar"),
                dir.resolve("pinhole.jar"));
            Path key = Files.copy(pinhole.privateKeyFile(Peer.A), dir.resolve("a.key"));
            for (Path f : new Path[] {dir, jar}) {
                f.toFile().setReadable(true, false);
                f.toFile().setExecutable(f == dir, false);
            }
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            Files.setAttribute(key, "unix:uid", 65534); // `pinhole up` refuses a key file others can read
            String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Lab.Result r = pinhole.lab().exec(Peer.A.node, LIMIT, "setpriv", "--reuid=65534", "--regid=65534",
                "--clear-groups", "--inh-caps=-all", "env", "HOME=" + dir, javaBin, "-jar", jar.toString(), "up",
                "--rendezvous", "203.0.113.10:7777", "--private-key", key.toString(),
                "--peer", pinhole.publicKey(Peer.B), "--dev", "tun0", "--local", "10.10.0.1", "--remote", "10.10.0.2");
            assertClearFailure(r, "root", "CAP_NET_ADMIN");

            say("The same user with a key file it may not read (root's, mode 0600): one line, exit 2.");
            Files.setAttribute(key, "unix:uid", 0);
            Lab.Result denied = pinhole.lab().exec(Peer.A.node, LIMIT, "setpriv", "--reuid=65534", "--regid=65534",
                "--clear-groups", "--inh-caps=-all", "env", "HOME=" + dir, javaBin, "-jar", jar.toString(), "up",
                "--rendezvous", "203.0.113.10:7777", "--private-key", key.toString(),
                "--peer", pinhole.publicKey(Peer.B), "--dev", "tun0", "--local", "10.10.0.1", "--remote", "10.10.0.2");
            assertEquals(2, denied.exitCode(), "exit 2: " + denied);
            assertEquals("pinhole up: cannot read private key file " + key + ": permission denied",
                denied.output().strip(), "one line, no exception name");
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        say("And no device was left behind.");
        assertFalse(pinhole.deviceExists(Peer.A), "tun0 exists after the refused start");
    }
}
