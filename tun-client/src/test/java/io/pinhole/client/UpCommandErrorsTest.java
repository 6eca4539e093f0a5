package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePrivateKey;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * UpCommandErrorsTest: {@code pinhole up} refuses bad arguments before touching any device or
 * socket, with exit code 2 and one line that says what is wrong. (Errors that need root, such
 * as a taken device name or missing privileges, are checked in the lab: CliErrorsIT.)
 */
class UpCommandErrorsTest {
    @TempDir
    Path dir;

    private final String peer = NoisePrivateKey.generate(new SecureRandom()).publicKey().toString();

    private String keyFile() throws IOException {
        Path key = dir.resolve("peer.key");
        Files.writeString(key, NoisePrivateKey.generate(new SecureRandom()).toBase64() + "\n");
        return key.toString();
    }

    /** Runs {@code pinhole up ARGS}; returns the exit code and what it printed on stderr. */
    private Result up(String... args) {
        String[] full = new String[args.length + 1];
        full[0] = "up";
        System.arraycopy(args, 0, full, 1, args.length);
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = PinholeMain.run(full);
            return new Result(code, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    private record Result(int code, String err) {
    }

    private void assertRefused(Result r, String mustSay) {
        assertEquals(2, r.code(), "exit code 2 for bad arguments; stderr: " + r.err());
        assertTrue(r.err().contains(mustSay), "stderr says '" + mustSay + "': " + r.err());
        assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
    }

    @Test
    void aMissingKeyFileIsNamedWithHowToMakeOne() {
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", dir.resolve("nope.key").toString(),
                "--peer", peer, "--local", "10.10.0.1", "--remote", "10.10.0.2"), "does not exist (make one: pinhole genkey");
    }

    @Test
    void aMalformedKeyFileIsRefusedWithoutEchoingIt() throws IOException {
        Path bad = dir.resolve("bad.key");
        Files.writeString(bad, "c2VjcmV0LWJ1dC1zaG9ydA==\n");
        Result r = up("--rendezvous", "203.0.113.10:7777", "--private-key", bad.toString(), "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.2");
        assertRefused(r, "private key file " + bad);
        assertFalse(r.err().contains("c2VjcmV0"), "the key text is never printed");
    }

    @Test
    void aBadPeerKeyIsRefused() throws IOException {
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", keyFile(), "--peer", "not-a-key",
                "--local", "10.10.0.1", "--remote", "10.10.0.2"), "--peer:");
    }

    @Test
    void badTunnelAddressesAreRefused() throws IOException {
        String key = keyFile();
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", key, "--peer", peer,
                "--local", "10.10.0.300", "--remote", "10.10.0.2"), "--local '10.10.0.300' is not an IPv4 address");
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", key, "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.1"), "--local and --remote must differ");
    }

    @Test
    void badMtuPortAndEndpointsAreRefused() throws IOException {
        String key = keyFile();
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", key, "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.2", "--mtu", "100"), "--mtu 100 is out of range 576-9000");
        assertRefused(up("--rendezvous", "203.0.113.10:99999", "--private-key", key, "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.2"), "out of range");
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--peer-endpoint", "192.0.2.2:51820",
                "--private-key", key, "--peer", peer, "--local", "10.10.0.1", "--remote", "10.10.0.2"),
                "exclude each other");
    }

    @Test
    void ownKeyAsPeerIsRefused() throws Exception {
        String key = keyFile();
        String own = NoisePrivateKey.parse(Files.readString(Path.of(key))).publicKey().toString();
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", key, "--peer", own,
                "--local", "10.10.0.1", "--remote", "10.10.0.2"), "own public key");
    }

    @Test
    void anOpenerTtlOutside0To255OrNotANumberIsRefused() throws IOException {
        String key = keyFile();
        for (String bad : new String[] {"256", "-1"}) {
            assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", key, "--peer", peer,
                    "--local", "10.10.0.1", "--remote", "10.10.0.2", "--opener-ttl", bad),
                    "pinhole up: --opener-ttl " + bad + " is out of range 0-255 (0 turns openers off)");
        }
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", key, "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.2", "--opener-ttl", "two"),
                "pinhole up: Invalid value for option '--opener-ttl': 'two' is not an int (see pinhole up --help)");
    }

    @Test
    void relayAndOpenerFlagsNeedARendezvousServer() throws IOException {
        String key = keyFile();
        assertRefused(up("--peer-endpoint", "192.0.2.2:51820", "--private-key", key, "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.2", "--no-relay"), "--no-relay needs --rendezvous");
        assertRefused(up("--private-key", key, "--peer", peer, "--local", "10.10.0.1", "--remote", "10.10.0.2",
                "--opener-ttl", "3"), "--opener-ttl needs --rendezvous");
        assertRefused(up("--peer-endpoint", "192.0.2.2:51820", "--private-key", key, "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.2", "--no-birthday"), "--no-birthday needs --rendezvous");
    }

    @Test
    void aStatusFileInADirectoryThatDoesNotExistIsRefused() throws IOException {
        Path nowhere = dir.resolve("no-such-dir").resolve("tun0.status");
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", keyFile(), "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.2", "--status-file", nowhere.toString()),
                "--status-file " + nowhere + ": directory " + nowhere.getParent() + " does not exist");
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", keyFile(), "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.2", "--status-file", dir.toString()),
                "--status-file " + dir + " is a directory; give a file");
    }

    @Test
    void optionsPicocliCannotParseGetOneLineToo() throws IOException {
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", keyFile(), "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.2", "--mtu", "big"),
                "pinhole up: Invalid value for option '--mtu': 'big' is not an int (see pinhole up --help)");
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", keyFile(), "--peer", peer,
                "--local", "10.10.0.1", "--remote", "10.10.0.2", "--no-such-option"),
                "pinhole up: Unknown option: '--no-such-option' (see pinhole up --help)");
    }

    @Test
    void theOpenerTtlDefaultIsTheCoresAndHelpSaysSo() {
        UpCommand command = new UpCommand();
        new picocli.CommandLine(command).parseArgs("--private-key", "k", "--peer", "p", "--local", "10.10.0.1",
                "--remote", "10.10.0.2");
        assertEquals(io.pinhole.peer.Traversal.defaults().openerTtl(), command.openerTtl);
        assertFalse(command.noRelay);
        String help = new picocli.CommandLine(new UpCommand()).getUsageMessage().replaceAll("\\s+", " ");
        assertTrue(help.contains("0 turns openers off (default: " + io.pinhole.peer.Traversal.defaults().openerTtl()
                + ")"), help);
    }
}
