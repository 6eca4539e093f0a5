package io.pinhole.server;

import io.pinhole.config.FileErrors;
import io.pinhole.config.KeyFileException;
import io.pinhole.config.KeyFiles;
import io.pinhole.crypto.NoisePrivateKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;

/**
 * ServerKeyStore: the server's own key in its state directory, so the key (and so what clients
 * pin, or trust on first use) stays the same across restarts. The first start creates the
 * directory (mode 0700) if it is missing and writes a new key to {@value #FILE_NAME} in it (mode
 * 0600, written to a temporary file first and renamed, so no half-written key is ever read);
 * every later start reads that key back, with the same mode checks as {@code --private-key}
 * ({@link KeyFiles}).
 *
 * <p>Stateless and thread-safe (two servers sharing one directory at their first start both
 * write a key; the last rename wins and the other server runs with a key nobody stored: do not
 * share a state directory). Error contract: {@link #loadOrCreate} throws
 * {@link KeyFileException} with one line for a user, naming the file, what went wrong and what
 * to do; never a Java class name.
 */
final class ServerKeyStore {
    /** The default state directory. */
    static final String DEFAULT_DIR = "/var/lib/pinhole-rendezvous";
    /** The key file's name inside the state directory. */
    static final String FILE_NAME = "server.key";

    private ServerKeyStore() {
    }

    /** A key, and whether this call made it. */
    record Loaded(NoisePrivateKey key, Path file, boolean created) {
    }

    /** The key in {@code dir}/{@value #FILE_NAME}, created (with the directory) if there is none. */
    static Loaded loadOrCreate(Path dir, SecureRandom random) throws KeyFileException {
        Path file = dir.resolve(FILE_NAME);
        if (Files.exists(file)) {
            return new Loaded(KeyFiles.privateKey(file), file, false);
        }
        NoisePrivateKey key = NoisePrivateKey.generate(random);
        Path temporary = null;
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                        "rwx------")));
            }
            temporary = Files.createTempFile(dir, FILE_NAME + ".", ".new",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(temporary, key.toBase64() + "\n", StandardCharsets.US_ASCII);
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
            temporary = null;
        } catch (FileAlreadyExistsException e) {
            throw cannotCreate(file, e.getFile() + " exists and is not a directory");
        } catch (IOException e) {
            throw cannotCreate(file, FileErrors.reason(e));
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // best effort: the one-line error already says what went wrong
                }
            }
        }
        return new Loaded(KeyFiles.privateKey(file), file, true);
    }

    private static KeyFileException cannotCreate(Path file, String reason) {
        return new KeyFileException("cannot create the server key " + file + ": " + reason
                + " (give --state-dir DIR, a directory this user may write, or --private-key FILE)");
    }
}
