package io.pinhole.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.config.ConsoleRun;
import io.pinhole.config.KeyFileException;
import io.pinhole.crypto.NoisePrivateKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ServerKeyStoreTest: without {@code --private-key} the server makes its key once in its state
 * directory (directory 0700, file 0600) and reads the same key back at every later start; a key
 * file there that others can read, or a state directory that cannot be made, is one line and
 * exit 1.
 */
class ServerKeyStoreTest {
    @TempDir
    Path tmp;

    @Test
    void theFirstStartMakesTheKeyAndEveryLaterStartReadsTheSameKeyBack() throws Exception {
        Path dir = tmp.resolve("var/lib/pinhole-rendezvous");

        ServerKeyStore.Loaded first = ServerKeyStore.loadOrCreate(dir, new SecureRandom());
        ServerKeyStore.Loaded again = ServerKeyStore.loadOrCreate(dir, new SecureRandom());

        assertTrue(first.created());
        assertFalse(again.created(), "read back, not made again");
        assertEquals(dir.resolve("server.key"), first.file());
        assertEquals(first.key().publicKey(), again.key().publicKey(), "the same key across restarts");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.file())));
        assertEquals(first.key().toBase64() + "\n", Files.readString(first.file()), "as pinhole genkey writes it");
        try (var listing = Files.list(dir)) {
            assertEquals(1, listing.count(), "no temporary file is left behind");
        }
    }

    @Test
    void twoStateDirectoriesHoldTwoKeys() throws Exception {
        NoisePrivateKey a = ServerKeyStore.loadOrCreate(tmp.resolve("a"), new SecureRandom()).key();
        NoisePrivateKey b = ServerKeyStore.loadOrCreate(tmp.resolve("b"), new SecureRandom()).key();
        assertNotEquals(a.publicKey(), b.publicKey());
    }

    @Test
    void anExistingDirectoryIsUsedAsItIs() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("state"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
        ServerKeyStore.loadOrCreate(dir, new SecureRandom());
        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(
                "server.key"))));
    }

    @Test
    void aKeyFileOthersCanReadIsRefusedWithTheFix() throws Exception {
        Path dir = tmp.resolve("state");
        Path file = ServerKeyStore.loadOrCreate(dir, new SecureRandom()).file();
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

        KeyFileException e = assertThrows(KeyFileException.class, () -> ServerKeyStore.loadOrCreate(dir,
                new SecureRandom()));
        assertEquals("private key file " + file + " is readable by group or others (mode 0644): chmod 600 " + file,
                e.getMessage());
    }

    @Test
    void aStateDirectoryThatCannotBeMadeIsOneLineAndExitOne() throws IOException {
        Path notADirectory = Files.writeString(tmp.resolve("plain-file"), "x");
        Path under = notADirectory.resolve("state");

        ConsoleRun r = ConsoleRun.of(() -> RendezvousMain.run(new String[] {"--listen", "127.0.0.1:0", "--state-dir",
            under.toString()}));

        assertEquals(1, r.code(), r.toString());
        assertEquals("", r.out());
        assertEquals("pinhole-rendezvous: cannot create the server key " + under.resolve("server.key") + ": Not a "
                + "directory (give --state-dir DIR, a directory this user may write, or --private-key FILE)\n",
                r.err().replace("\r", ""));
        ConsoleRun asFile = ConsoleRun.of(() -> RendezvousMain.run(new String[] {"--listen", "127.0.0.1:0",
            "--state-dir", notADirectory.toString()}));
        assertEquals(1, asFile.code(), asFile.toString());
        assertEquals("pinhole-rendezvous: cannot create the server key " + notADirectory.resolve("server.key") + ": "
                + notADirectory + " exists and is not a directory (give --state-dir DIR, a directory this user may "
                + "write, or --private-key FILE)\n", asFile.err().replace("\r", ""));
    }
}
