package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.PresharedKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GenKeyWarningTest: {@code pinhole genkey > k} and {@code genpsk > k} warn on stderr, as
 * {@code wg genkey} does, when k is a regular file group or others can read (what a shell makes
 * under umask 022), and say nothing when it is the owner's only or stdout is a pipe. Each case
 * is a real {@code pinhole} JVM whose stdout is the file, since the check reads the mode of the
 * process's own stdout.
 */
class GenKeyWarningTest {
    private static final String WARNING = "warning: writing to world accessible file (group or others can read it; "
            + "chmod 600 it, or write it under umask 077)\n";

    @TempDir
    Path dir;

    private record Run(int code, String out, String err) {
    }

    /** Runs {@code pinhole COMMAND} in a new JVM with stdout to {@code stdout}, or to a pipe when null. */
    private static Run pinhole(String command, Path stdout) throws IOException, InterruptedException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", cp,
                PinholeMain.class.getName(), command));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (stdout != null) {
            pb.redirectOutput(stdout.toFile());
        }
        Process p = pb.start();
        String out = stdout == null ? new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8) : "";
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("pinhole " + command + " did not exit within 60 s");
        }
        return new Run(p.exitValue(), stdout == null ? out : Files.readString(stdout), err);
    }

    private Path fileWithMode(String perms) throws IOException {
        Path file = Files.createFile(dir.resolve("k-" + perms));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms));
        return file;
    }

    @Test
    void genkeyIntoAFileOthersCanReadWarnsAndStillWritesTheKey() throws Exception {
        Run r = pinhole("genkey", fileWithMode("rw-r--r--"));
        assertEquals(0, r.code(), r.toString());
        assertEquals("pinhole genkey: " + WARNING, r.err());
        NoisePrivateKey.parse(r.out());
    }

    @Test
    void genpskIntoAFileTheGroupCanReadWarns() throws Exception {
        Run r = pinhole("genpsk", fileWithMode("rw-r-----"));
        assertEquals(0, r.code(), r.toString());
        assertEquals("pinhole genpsk: " + WARNING, r.err());
        assertEquals(32, PresharedKey.parse(r.out()).length);
    }

    @Test
    void genkeyIntoAFileOnlyItsOwnerCanReadIsSilent() throws Exception {
        Run r = pinhole("genkey", fileWithMode("rw-------"));
        assertEquals(0, r.code(), r.toString());
        assertEquals("", r.err());
        NoisePrivateKey.parse(r.out());
    }

    @Test
    void genkeyIntoAPipeIsSilent() throws Exception {
        Run r = pinhole("genkey", null);
        assertEquals(0, r.code(), r.toString());
        assertEquals("", r.err());
        NoisePrivateKey.parse(r.out());
    }
}
