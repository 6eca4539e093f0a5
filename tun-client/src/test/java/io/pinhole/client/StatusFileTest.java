package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PathKind;
import io.pinhole.peer.PeerDrop;
import io.pinhole.peer.PeerState;
import io.pinhole.peer.PeerStatus;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** StatusFileTest: the status file's exact format, its parser's errors, atomic writes and staleness. */
class StatusFileTest {
    @TempDir
    Path dir;

    static final String TEXT = """
            device=tun0
            pid=4242
            netns=4026531840
            updated_ms=1718000000000
            state=connected
            path=direct
            endpoint=198.51.100.2:40000
            rtt_ms=1.23
            tunnel=up
            public=203.0.113.7:40001
            direct_attempts=1
            packets_sent=120
            packets_received=118
            drops=bad_mac:2,wrong_source:20,ipv6_not_allowed:7
            """;

    static final StatusFile.Status STATUS = new StatusFile.Status("tun0", 4242, 4_026_531_840L, 1_718_000_000_000L, "connected",
            PathKind.DIRECT, "198.51.100.2:40000", 1_230_000, true, "203.0.113.7:40001", 1, 120, 118,
            "bad_mac:2,wrong_source:20,ipv6_not_allowed:7");

    private static InetSocketAddress at(String ip, int port) throws IOException {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    @Test
    void theMachinesStatusIsWrittenAsExactlyTheDocumentedLines() throws IOException {
        PeerStatus machine = new PeerStatus(PeerState.CONNECTED, PathKind.DIRECT, at("198.51.100.2", 40000),
                1_234_567, true, at("203.0.113.7", 40001), 1, 120, 118, java.util.Map.of(PeerDrop.IPV6_NOT_ALLOWED, 7L,
                PeerDrop.WRONG_SOURCE, 20L, PeerDrop.BAD_MAC, 2L));
        StatusFile.Status status = StatusFile.Status.of("tun0", 4242, 4_026_531_840L, 1_718_000_000_000L, machine);
        assertEquals(STATUS, status, "rtt rounded to the file's 10 us");
        assertEquals(TEXT, StatusFile.format(status));
        assertEquals(StatusFile.KEYS, TEXT.lines().map(l -> l.substring(0, l.indexOf('='))).toList());
    }

    @Test
    void roundTrip() throws IOException {
        assertEquals(STATUS, StatusFile.parse(StatusFile.format(STATUS)));
        StatusFile.Status relayed = new StatusFile.Status("wg-home", 7, 0, 0, "punching", PathKind.RELAYED,
                "[2001:db8::10]:7777", -1, false, "", 12, 0, 0);
        assertEquals(relayed, StatusFile.parse(StatusFile.format(relayed)));
        StatusFile.Status none = new StatusFile.Status("tun0", 1, -1L, 5, "registering", PathKind.NONE, "", -1, false,
                "", 0, 0, 0);
        assertEquals(none, StatusFile.parse(StatusFile.format(none)));
    }

    @Test
    void unknownValuesAreEmpty_ipv6IsBracketed_andRttRoundsHalfUp() throws IOException {
        PeerStatus punching = new PeerStatus(PeerState.WAITING_FOR_PEER, PathKind.NONE, null, -1, false,
                at("2001:db8::7", 40001), 0, 0, 0);
        String text = StatusFile.format(StatusFile.Status.of("tun0", 1, 0, 2, punching));
        assertTrue(text.contains("\nstate=waiting_for_peer\npath=none\nendpoint=\nrtt_ms=\ntunnel=down\n"
                + "public=[2001:db8::7]:40001\n"), text);
        assertEquals("1.24", rtt(1_235_000));
        assertEquals("0.00", rtt(4_999));
        assertEquals("0.01", rtt(5_000));
        assertEquals("1500.00", rtt(1_500_000_000L));
    }

    private static String rtt(long nanos) {
        return StatusFile.Status.of("tun0", 1, 0, 2, new PeerStatus(PeerState.CONNECTED, PathKind.DIRECT, null, nanos,
                true, null, 0, 0, 0)).rttMillis();
    }

    @Test
    void writeRewritesTheFileInPlace_readableByAll_noTailOfALongerTextLeft() throws IOException {
        Path file = dir.resolve("tun0.status");
        StatusFile.Status longer = new StatusFile.Status("tun0", 4242, 4_026_531_840L, 1_718_000_001_000L, "connected",
                PathKind.DIRECT, "198.51.100.2:40000", 990_000, true, "203.0.113.7:40001", 1, 130, 128,
                "wrong_source:3,ipv6_not_allowed:5");
        try (StatusFile.Handle handle = StatusFile.Handle.open(file)) {
            handle.write(longer);
            Object inode = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
            handle.write(STATUS);
            assertEquals(STATUS, StatusFile.read(file));
            assertEquals(StatusFile.format(STATUS), Files.readString(file), "no tail of the longer text left");
            assertEquals(inode, Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey(),
                    "the same file, rewritten in place (an unprivileged writer could not replace it)");
        }
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(file), files.toList());
        }
    }

    @Test
    void openLeavesAnExistingFileAsItIsUntilTheFirstWrite() throws IOException {
        Path file = dir.resolve("tun0.status");
        StatusFile.write(file, STATUS);
        try (StatusFile.Handle handle = StatusFile.Handle.open(file)) {
            assertEquals(STATUS, StatusFile.read(file), "another live pinhole's file is not cut by opening it");
        }
    }

    @Test
    void openRefusesASymbolicLink_soAPlantedLinkCannotRedirectRootsWrites() throws IOException {
        Path target = dir.resolve("passwd-like");
        Files.writeString(target, "precious\n");
        Path link = Files.createSymbolicLink(dir.resolve("tun0.status"), target);

        assertThrows(IOException.class, () -> StatusFile.Handle.open(link));
        assertEquals("precious\n", Files.readString(target));
    }

    @Test
    void removeDeletesTheFileWhenAllowed() throws IOException {
        Path file = dir.resolve("tun0.status");
        StatusFile.Handle handle = StatusFile.Handle.open(file);
        handle.write(STATUS);

        assertTrue(handle.remove(STATUS, STATUS.updatedMs() + 5_000));
        assertFalse(Files.exists(file));
    }

    @Test
    void aStoppedStatusHasNoTunnelNoPath_keepsItsCounters_andIsStaleWhateverThePid() throws IOException {
        StatusFile.Status stopped = STATUS.stopped(1_718_000_009_000L);
        assertEquals(StatusFile.STOPPED, stopped.state());
        assertEquals(PathKind.NONE, stopped.path());
        assertEquals("", stopped.endpoint());
        assertEquals(-1, stopped.rttNanos());
        assertFalse(stopped.tunnelUp());
        assertEquals(STATUS.packetsSent(), stopped.packetsSent());
        assertEquals(STATUS.drops(), stopped.drops());
        assertEquals(stopped, StatusFile.parse(StatusFile.format(stopped)), "a stopped status is a status file");
        assertEquals("process 4242 stopped at 2024-06-10T06:13:29Z (running unprivileged, it could not remove the file)",
                stopped.staleReason(stopped.updatedMs() + 1, pid -> true));
    }

    @Test
    void readReadsAgainWhileAWriteIsCaughtHalfDone() throws Exception {
        Path file = dir.resolve("tun0.status");
        String whole = StatusFile.format(STATUS);
        Files.writeString(file, whole.substring(0, whole.length() / 2)); // a reader between write and truncate
        Thread writer = new Thread(() -> {
            try {
                Thread.sleep(30);
                StatusFile.write(file, STATUS);
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        writer.start();
        try {
            assertEquals(STATUS, StatusFile.read(file));
        } finally {
            writer.join();
        }
    }

    @Test
    void aTextThatNeverParsesIsMalformedAfterTheRetries() throws IOException {
        Path file = dir.resolve("tun0.status");
        Files.writeString(file, "device=tun0\n");
        StatusFile.MalformedException e = assertThrows(StatusFile.MalformedException.class, () -> StatusFile.read(file));
        assertTrue(e.getMessage().startsWith(file + " is not a pinhole status file: line 2"), e.getMessage());
    }

    @Test
    void aMissingFileIsNoSuchFile() {
        assertThrows(NoSuchFileException.class, () -> StatusFile.read(dir.resolve("tun9.status")));
    }

    @Test
    void staleWhenTheProcessIsGoneOrTheFileIsOld() {
        long written = STATUS.updatedMs();
        assertNull(STATUS.staleReason(written + 4_000, pid -> true));
        assertEquals("process 4242 is not running (it ended without removing the file: killed?)",
                STATUS.staleReason(written + 1_000, pid -> false));
        assertEquals("it was last updated 12.5 s ago, though process 4242 rewrites it every second (is it stuck?)",
                STATUS.staleReason(written + 12_500, pid -> true));
    }

    @Test
    void theCurrentProcessIsAlive_aFinishedOneIsNot() throws Exception {
        assertTrue(StatusFile.alive(ProcessHandle.current().pid()));
        Process done = new ProcessBuilder("true").start();
        done.waitFor();
        assertEquals(false, StatusFile.alive(done.pid()));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "empty file                 ||line 1: expected 'device=...', but the file ends there",
        "a key missing              |device=tun0\\npid=1\\nnetns=0\\nstate=x|line 4: expected 'updated_ms=...', found 'state=x'",
        "keys out of order          |pid=1\\ndevice=tun0|line 1: expected 'device=...', found 'pid=1'",
        "no = sign                  |device tun0|line 1: expected 'device=...', found 'device tun0'",
    })
    void malformedStructureSaysWhichLine(String name, String text, String message) {
        assertEquals(message, malformed(text == null ? "" : text.replace("\\n", "\n")));
    }

    /** The message parsing {@code text} fails with. */
    private static String malformed(String text) {
        return assertThrows(StatusFile.MalformedException.class, () -> StatusFile.parse(text)).getMessage();
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "device|a/b|line 1: device 'a/b' is not a device name",
        "pid|0|line 2: pid '0' is not a process id",
        "pid|-5|line 2: pid '-5' is not a whole number",
        "netns|net:[4]|line 3: netns 'net:[4]' is not a namespace inode number",
        "netns|99999999999999999999|line 3: netns '99999999999999999999' is not a namespace inode number",
        "updated_ms|soon|line 4: updated_ms 'soon' is not a whole number",
        "state|Connected!|line 5: state 'Connected!' is not a state name",
        "path|sideways|line 6: path 'sideways' is not direct, relayed or none",
        "endpoint|198.51.100.2|line 7: endpoint '198.51.100.2' is not HOST:PORT or nothing",
        "rtt_ms|1.2|line 8: rtt_ms '1.2' is not milliseconds with two decimals, or nothing",
        "tunnel|yes|line 9: tunnel 'yes' is not up or down",
        "public|h:99999|line 10: public 'h:99999' is not HOST:PORT or nothing",
        "packets_received|1e3|line 13: packets_received '1e3' is not a whole number",
        "drops|wrong_source=3|line 14: drops 'wrong_source=3' is not REASON:COUNT,... or nothing",
        "drops|wrong_source:3,|line 14: drops 'wrong_source:3,' is not REASON:COUNT,... or nothing",
    })
    void malformedValuesSayWhichLineAndWhatIsExpected(String key, String value, String message) {
        assertEquals(message, malformed(TEXT.replaceFirst("(?m)^" + key + "=.*$", key + "=" + value)));
    }

    @Test
    void extraLinesControlCharactersAndHugeFilesAreRefusedReadably() throws IOException {
        assertEquals("line 15: unexpected 'more=1' after the last key", malformed(TEXT + "more=1\n"));
        assertEquals("line 1: device '?[31mred' is not a device name",
                malformed(TEXT.replace("device=tun0", "device=\u001b[31mred")));
        Path huge = dir.resolve("huge.status");
        Files.writeString(huge, "x".repeat(10_000));
        assertEquals(huge + " is not a pinhole status file: larger than 4096 bytes",
                assertThrows(StatusFile.MalformedException.class, () -> StatusFile.read(huge)).getMessage());
        Path bad = dir.resolve("bad.status");
        Files.writeString(bad, "hello\n");
        assertEquals(bad + " is not a pinhole status file: line 1: expected 'device=...', found 'hello'",
                assertThrows(StatusFile.MalformedException.class, () -> StatusFile.read(bad)).getMessage());
    }
}
