package io.pinhole.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.PresharedKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * KeyFilesTest: a key file only its owner can read is read; one that group or others can read
 * is refused with its mode and the chmod that fixes it; missing, directory and malformed files
 * get one line each; and {@link KeyFiles#readableByOthers} (genkey's warning) is true only for a
 * regular file that group or others can read.
 */
class KeyFilesTest {
    @TempDir
    Path dir;

    private final SecureRandom random = new SecureRandom();

    /** A file holding {@code text} with mode {@code perms} (as {@code ls -l} writes it). */
    private Path file(String name, String text, String perms) throws IOException {
        Path file = Files.writeString(dir.resolve(name), text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(perms));
        return file;
    }

    private String refusal(Path file) {
        return assertThrows(KeyFileException.class, () -> KeyFiles.privateKey(file)).getMessage();
    }

    @ParameterizedTest
    @ValueSource(strings = {"rw-------", "r--------"})
    void aKeyOnlyItsOwnerCanReadIsRead(String perms) throws Exception {
        NoisePrivateKey key = NoisePrivateKey.generate(random);
        Path file = file("peer.key", key.toBase64() + "\n", perms);
        assertEquals(key.publicKey(), KeyFiles.privateKey(file).publicKey());
        assertFalse(KeyFiles.readableByOthers(file));
    }

    @ParameterizedTest
    @CsvSource({"rw-r-----, 0640", "rw----r--, 0604", "rw-r--r--, 0644", "r--r--r--, 0444"})
    void aKeyTheGroupOrOthersCanReadIsRefusedWithTheFix(String perms, String mode) throws IOException {
        Path file = file("peer.key", NoisePrivateKey.generate(random).toBase64() + "\n", perms);
        assertEquals("private key file " + file + " is readable by group or others (mode " + mode + "): chmod 600 "
                + file, refusal(file));
        assertTrue(KeyFiles.readableByOthers(file));
    }

    @Test
    void aPresharedKeyIsCheckedTheSameWay() throws Exception {
        String psk = PresharedKey.generate(random);
        Path ok = file("ok.psk", psk + "\n", "rw-------");
        assertArrayEquals(Base64.getDecoder().decode(psk), KeyFiles.presharedKey(ok));
        Path open = file("open.psk", psk + "\n", "rw-r--r--");
        assertEquals("pre-shared key file " + open + " is readable by group or others (mode 0644): chmod 600 " + open,
                assertThrows(KeyFileException.class, () -> KeyFiles.presharedKey(open)).getMessage());
    }

    @Test
    void aMissingFileSaysHowToMakeOne() {
        Path missing = dir.resolve("nope.key");
        assertEquals("private key file " + missing + " does not exist (make one: umask 077; pinhole genkey > "
                + missing + ")", refusal(missing));
        assertEquals("pre-shared key file " + missing + " does not exist (make one: umask 077; pinhole genpsk > "
                + missing + ")", assertThrows(KeyFileException.class, () -> KeyFiles.presharedKey(missing)).getMessage());
        assertFalse(KeyFiles.readableByOthers(missing));
    }

    @Test
    void aDirectoryCannotBeRead() {
        assertEquals("cannot read private key file " + dir + ": it is a directory", refusal(dir));
        assertFalse(KeyFiles.readableByOthers(dir), "a directory is no file a key is written to");
    }

    @Test
    void aMalformedKeyIsNamedButNeverQuoted() throws IOException {
        Path file = file("bad.key", "c2VjcmV0LWJ1dC1zaG9ydA==\n", "rw-------");
        String message = refusal(file);
        assertTrue(message.startsWith("private key file " + file + ": "), message);
        assertFalse(message.contains("c2VjcmV0"), message);
    }

    @Test
    void aCharacterDeviceIsNeverReadableByOthersInThisSense() {
        assertFalse(KeyFiles.readableByOthers(Path.of("/dev/null")), "/dev/null is 0666 but not a regular file");
    }

    @Test
    void modesAreWrittenInOctalAsLsDoes() {
        assertEquals("0644", KeyFiles.mode(PosixFilePermissions.fromString("rw-r--r--")));
        assertEquals("0750", KeyFiles.mode(PosixFilePermissions.fromString("rwxr-x---")));
        assertEquals("0000", KeyFiles.mode(PosixFilePermissions.fromString("---------")));
    }
}
