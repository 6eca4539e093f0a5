package io.pinhole.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.config.ConsoleRun;
import io.pinhole.crypto.NoisePrivateKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * RendezvousMainTest: {@code pinhole-rendezvous} reads byte counts with K and M suffixes, and
 * refuses bad relay options before binding anything, with exit code 2 and one line naming the
 * option; answers {@code -h}/{@code --help} with its usage on stdout; says one line for an option
 * it does not know or a value without its option name; and refuses a {@code --private-key} file
 * that group or others can read, or that cannot be read.
 */
class RendezvousMainTest {
    @TempDir
    Path dir;

    private static ConsoleRun run(String... args) {
        return ConsoleRun.of(() -> RendezvousMain.run(args));
    }

    /** Exit 2, nothing on stdout, and exactly {@code line} on stderr. */
    private static void assertRefusedWith(ConsoleRun r, String line) {
        assertEquals(ConsoleRun.refused(line), r);
    }

    @Test
    void byteCountsArePlainOrKibiOrMebi() {
        assertEquals(0, RendezvousMain.byteCount("--relay-rate", "0", 0));
        assertEquals(1500, RendezvousMain.byteCount("--relay-rate", "1500", 0));
        assertEquals(64 * 1024, RendezvousMain.byteCount("--relay-rate", "64K", 0));
        assertEquals(64 * 1024, RendezvousMain.byteCount("--relay-rate", "64k", 0));
        assertEquals(2 * 1024 * 1024, RendezvousMain.byteCount("--relay-rate", "2M", 0));
        assertEquals(4096L << 20, RendezvousMain.byteCount("--relay-rate", "4096M", 0), "the largest");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "1.5M", "2G", "2 M", "M", "K2", "4097M", "99999999999999999999", "0x10"})
    void anythingElseIsNotAByteCount(String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RendezvousMain.byteCount("--relay-rate", value, 0));
        assertTrue(e.getMessage().startsWith("--relay-rate: '" + value + "' is not a byte count"), e.getMessage());
    }

    @Test
    void aBadRelayRateExitsTwoWithOneLine() {
        ConsoleRun r = run("--listen", "127.0.0.1:0", "--relay-rate", "fast");
        assertEquals(2, r.code(), r.err());
        assertEquals("pinhole-rendezvous: --relay-rate: 'fast' is not a byte count from 0 to 4294967296 "
                + "(a whole number, or with K = 1024 or M = 1048576, e.g. 2M)\n", r.err().replace("\r", ""));
    }

    @Test
    void aBurstTooSmallForOneFullSizeFrameExitsTwo() {
        ConsoleRun r = run("--listen", "127.0.0.1:0", "--relay-burst", "8K");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().startsWith("pinhole-rendezvous: --relay-burst: '8K' is not a byte count from 9216 "),
                r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
    }

    @Test
    void badQuotasAndBudgetsExitTwoWithOneLineNamingTheOption() {
        assertRefusedWith(run("--listen", "127.0.0.1:0", "--max-per-source", "0"),
                "pinhole-rendezvous: --max-per-source must be at least 1, not 0");
        assertRefusedWith(run("--listen", "127.0.0.1:0", "--dh-rate", "0"),
                "pinhole-rendezvous: --dh-rate must be 1 to 1000000 a second, not 0");
        assertRefusedWith(run("--listen", "127.0.0.1:0", "--relay-total-rate", "0"),
                "pinhole-rendezvous: --relay-total-rate: '0' is not a byte count from 1 to 4294967296 "
                        + "(a whole number, or with K = 1024 or M = 1048576, e.g. 2M)");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-h", "--help"})
    void helpIsTheUsageOnStdoutWithEveryDefault(String flag) {
        ConsoleRun r = run(flag);
        assertEquals(0, r.code(), r.toString());
        assertEquals("", r.err());
        assertTrue(r.out().startsWith("Usage: pinhole-rendezvous "), r.out());
        CommandSpec spec = new CommandLine(new RendezvousMain()).getCommandSpec();
        for (OptionSpec option : spec.options()) {
            if (!option.usageHelp() && !option.versionHelp()) {
                assertTrue(String.join(" ", option.description()).contains("(default: "), option.longestName());
            }
        }
        String help = r.out().replaceAll("\\s+", " ");
        for (String shown : new String[] {"(default: 0.0.0.0:7777)", "(default: 65536)", "(default: 2M)",
            "(default: 256K)", "(default: the key in the state directory, made at the first start)",
            "(default: /var/lib/pinhole-rendezvous)", "(default: off)", "(default: 256)",
            "(default: 1000)", "(default: 32M)"}) {
            assertTrue(help.contains(shown), shown + " in: " + help);
        }
    }

    @Test
    void versionStillWorks() {
        assertEquals(new ConsoleRun(0, "pinhole-rendezvous 0.1.0" + System.lineSeparator(), ""), run("--version"));
    }

    @Test
    void anUnknownOptionIsOneLine() {
        assertRefusedWith(run("--bogus"), "pinhole-rendezvous: unknown option '--bogus' (see pinhole-rendezvous --help)");
    }

    @Test
    void aValueWithoutItsOptionNameIsOneLine() {
        assertRefusedWith(run("0.0.0.0:7777"), "pinhole-rendezvous: unexpected argument '0.0.0.0:7777' (options take "
                + "their names, e.g. --listen HOST:PORT; see pinhole-rendezvous --help)");
    }

    @Test
    void aBadNumberIsOneLine() {
        assertRefusedWith(run("--registration-ttl", "soon"), "pinhole-rendezvous: Invalid value for option "
                + "'--registration-ttl': 'soon' is not an int (see pinhole-rendezvous --help)");
    }

    @Test
    void aPrivateKeyFileOthersCanReadIsRefusedWithTheFix() throws IOException {
        Path key = Files.writeString(dir.resolve("server.key"), NoisePrivateKey.generate(new SecureRandom()).toBase64());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        assertRefusedWith(run("--listen", "127.0.0.1:0", "--private-key", key.toString()), "pinhole-rendezvous: "
                + "private key file " + key + " is readable by group or others (mode 0644): chmod 600 " + key);
    }

    @Test
    void aPrivateKeyFileThatCannotBeReadIsOneLineWithoutAClassName() {
        assertRefusedWith(run("--listen", "127.0.0.1:0", "--private-key", dir.toString()),
                "pinhole-rendezvous: cannot read private key file " + dir + ": it is a directory");
        Path missing = dir.resolve("server.key");
        assertRefusedWith(run("--listen", "127.0.0.1:0", "--private-key", missing.toString()),
                "pinhole-rendezvous: private key file " + missing + " does not exist (make one: umask 077; "
                        + "pinhole genkey > " + missing + ")");
    }
}
