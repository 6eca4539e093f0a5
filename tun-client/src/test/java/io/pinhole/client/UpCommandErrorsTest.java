package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.config.ConsoleRun;
import io.pinhole.crypto.NoisePrivateKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * UpCommandErrorsTest: {@code pinhole up} refuses bad arguments before touching any device or
 * socket, with exit code 2 and one line that says what is wrong: among them a {@code --dev} Linux
 * cannot name, a key file group or others can read or that cannot be read, and values given
 * without their option names. (Errors that need root, such
 * as a taken device name or missing privileges, are checked in the lab: CliErrorsIT.)
 */
class UpCommandErrorsTest {
    @TempDir
    Path dir;

    private final String peer = NoisePrivateKey.generate(new SecureRandom()).publicKey().toString();

    private String keyFile() throws IOException {
        return secret("peer.key", NoisePrivateKey.generate(new SecureRandom()).toBase64() + "\n").toString();
    }

    /** Runs {@code pinhole up ARGS}. */
    private static ConsoleRun up(String... args) {
        String[] full = new String[args.length + 1];
        full[0] = "up";
        System.arraycopy(args, 0, full, 1, args.length);
        return ConsoleRun.of(() -> PinholeMain.run(full));
    }

    /** A file holding {@code text}, readable by its owner only (as `umask 077` makes it). */
    private Path secret(String name, String text) throws IOException {
        Path file = Files.writeString(dir.resolve(name), text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private void assertRefused(ConsoleRun r, String mustSay) {
        assertEquals(2, r.code(), "exit code 2 for bad arguments; stderr: " + r.err());
        assertEquals("", r.out(), "nothing on stdout");
        assertTrue(r.err().contains(mustSay), "stderr says '" + mustSay + "': " + r.err());
        assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
    }

    @Test
    void aMissingKeyFileIsNamedWithHowToMakeOne() {
        assertRefused(up("--rendezvous", "203.0.113.10:7777", "--private-key", dir.resolve("nope.key").toString(),
                "--peer", peer, "--local", "10.10.0.1", "--remote", "10.10.0.2"),
                "does not exist (make one: umask 077; pinhole genkey > " + dir.resolve("nope.key") + ")");
    }

    @Test
    void aMalformedKeyFileIsRefusedWithoutEchoingIt() throws IOException {
        Path bad = secret("bad.key", "c2VjcmV0LWJ1dC1zaG9ydA==\n");
        ConsoleRun r = up("--rendezvous", "203.0.113.10:7777", "--private-key", bad.toString(), "--peer", peer,
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
                "pinhole up: unknown option '--no-such-option' (see pinhole up --help)");
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

    /** Exit 2, nothing on stdout, and exactly {@code line} on stderr. */
    private static void assertRefusedWith(ConsoleRun r, String line) {
        assertEquals(ConsoleRun.refused(line), r);
    }

    /** {@code pinhole up} with the rendezvous and tunnel options, the key file {@code key}, and {@code extra}. */
    private ConsoleRun upWith(Object key, String... extra) {
        List<String> args = new ArrayList<>(List.of("--rendezvous", "203.0.113.10:7777", "--private-key",
                key.toString(), "--peer", peer, "--local", "10.10.0.1", "--remote", "10.10.0.2"));
        args.addAll(List.of(extra));
        return up(args.toArray(String[]::new));
    }

    @ParameterizedTest
    @ValueSource(strings = {"abcdefghijklmnop", "a-twenty-char-name-x", "tun/0", "tun:0", "tun 0", "tun\t0"})
    void aDevLinuxCannotNameIsRefusedBeforeAnythingIsOpened(String name) {
        String shown = name.replace('\t', '?');
        assertRefusedWith(upWith(dir.resolve("not-even-looked-at.key"), "--dev", name),
                "pinhole up: --dev '" + shown + "' is not a valid interface name "
                        + "(at most 15 characters, no '/', ':' or whitespace)");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "10.0.0.0/33|'10.0.0.0/33' is not a network: the prefix length of an IPv4 network is 0-32",
        "192.168.77.1/24|'192.168.77.1/24' is not a network address: its host bits are set (192.168.77.0/24 is the network)",
        "192.168.77.0/24,lan|'lan' is not a network: give an IPv4 or IPv6 address with an optional prefix length, as 10.0.0.0/24 or fd00::/64",
        "fd77::/129|'fd77::/129' is not a network: the prefix length of an IPv6 network is 0-128",
    })
    void aBadAllowedIpsNetworkIsRefusedInOneLine(String list, String reason) throws IOException {
        assertRefusedWith(upWith(keyFile(), "--allowed-ips", list), "pinhole up: --allowed-ips " + reason);
    }

    @Test
    void anUnderlayThatIsNoDeviceHereOrIsTheTunnelItselfIsRefusedBeforeAnythingIsOpened() throws IOException {
        assertRefusedWith(upWith(keyFile(), "--underlay", "nosuchdev9"), "pinhole up: --underlay nosuchdev9: no such "
                + "network device here (give one that `ip link` lists, auto or none)");
        assertRefusedWith(upWith(keyFile(), "--underlay", "lo", "--dev", "lo"), "pinhole up: --underlay lo is the "
                + "tunnel device itself; give the device that reaches the server (or auto)");
    }

    @Test
    void aDevOfFifteenCharactersIsTaken() throws IOException {
        assertRefusedWith(upWith(keyFile(), "--dev", "abcdefghijklmno", "--mtu", "100"),
                "pinhole up: --mtu 100 is out of range 576-9000");
    }

    @ParameterizedTest
    @CsvSource({"rw-r--r--, 0644", "rw-r-----, 0640", "rw----r--, 0604", "r--r--r--, 0444"})
    void aPrivateKeyFileGroupOrOthersCanReadIsRefusedWithTheFix(String perms, String mode) throws IOException {
        Path key = Path.of(keyFile());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString(perms));
        assertRefusedWith(upWith(key), "pinhole up: private key file " + key + " is readable by group or others (mode "
                + mode + "): chmod 600 " + key);
    }

    @Test
    void aPresharedKeyFileOthersCanReadIsRefusedToo() throws IOException {
        Path psk = secret("tunnel.psk", io.pinhole.crypto.PresharedKey.generate(new SecureRandom()) + "\n");
        Files.setPosixFilePermissions(psk, PosixFilePermissions.fromString("rw-r--r--"));
        assertRefusedWith(upWith(keyFile(), "--preshared-key", psk.toString()),
                "pinhole up: pre-shared key file " + psk + " is readable by group or others (mode 0644): chmod 600 "
                        + psk);
    }

    @Test
    void aKeyFileThatIsADirectoryCannotBeRead() {
        assertRefusedWith(upWith(dir), "pinhole up: cannot read private key file " + dir + ": it is a directory");
    }

    @Test
    void aKeyFileThatCannotBeOpenedGivesTheSystemsReasonNotAClassName() throws IOException {
        Path socket = dir.resolve("peer.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            assertRefusedWith(upWith(socket),
                    "pinhole up: cannot read private key file " + socket + ": No such device or address");
        }
    }

    // A key file this user may not read ("permission denied") needs an ordinary user: root reads any
    // file. CliErrorsIT runs that case as user nobody in the lab.

    @Test
    void valuesWithoutTheirOptionNamesAreUnexpectedArguments() throws IOException {
        assertRefusedWith(up(keyFile(), peer), "pinhole up: unexpected argument '" + keyFile() + "' (options take "
                + "their names, e.g. --private-key FILE; see pinhole up --help)");
        assertRefusedWith(upWith(keyFile(), "tun0"), "pinhole up: unexpected argument 'tun0' (options take "
                + "their names, e.g. --private-key FILE; see pinhole up --help)");
    }

    @Test
    void anUnknownOptionIsNamedFirstEvenWithRequiredOptionsMissing() {
        assertRefusedWith(up("--bogus"), "pinhole up: unknown option '--bogus' (see pinhole up --help)");
    }
}
