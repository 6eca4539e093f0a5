package io.pinhole.config;

import io.pinhole.crypto.KeyFormatException;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.PresharedKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

/**
 * KeyFiles: reads the key files a user gives (a private key, a pre-shared key), refusing one that
 * group or others can read, as a secret file must not be; and tells whether a file a key is being
 * written to is readable by group or others, for the warning {@code wg genkey} gives too.
 *
 * <p>Stateless and thread-safe. Error contract: {@link #privateKey} and {@link #presharedKey}
 * throw {@link KeyFileException} with one line for a user (no program prefix) naming the file,
 * what is wrong and what to do, e.g. {@code private key file /x/peer.key is readable by group or
 * others (mode 0644): chmod 600 /x/peer.key}; never the key's text, never a Java class name.
 * {@link #readableByOthers} never throws.
 */
public final class KeyFiles {
    /** A key file is 45 bytes; more than this is not read. */
    static final int MAX_BYTES = 4096;
    private static final Set<PosixFilePermission> OTHERS_READ =
            Set.of(PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);

    private KeyFiles() {
    }

    /** The private key in {@code file} (from {@code pinhole genkey} or {@code wg genkey}). */
    public static NoisePrivateKey privateKey(Path file) throws KeyFileException {
        String text = read(file, "private key", "pinhole genkey");
        try {
            return NoisePrivateKey.parse(text);
        } catch (KeyFormatException e) {
            throw new KeyFileException("private key file " + file + ": " + e.getMessage());
        }
    }

    /** The 32 bytes of the pre-shared key in {@code file} (from {@code pinhole genpsk} or {@code wg genpsk}). */
    public static byte[] presharedKey(Path file) throws KeyFileException {
        String text = read(file, "pre-shared key", "pinhole genpsk");
        try {
            return PresharedKey.parse(text);
        } catch (KeyFormatException e) {
            throw new KeyFileException("pre-shared key file " + file + ": " + e.getMessage());
        }
    }

    /**
     * True when {@code file} (links followed) is a regular file that group or others can read;
     * false for anything else (a pipe, a terminal, a missing file) and when its mode cannot be read.
     */
    public static boolean readableByOthers(Path file) {
        try {
            PosixFileAttributes attributes = Files.readAttributes(file, PosixFileAttributes.class);
            return attributes.isRegularFile() && readableByOthers(attributes.permissions());
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The mode bits of {@code permissions} as {@code ls -l}'s octal: {@code 0644}. */
    static String mode(Set<PosixFilePermission> permissions) {
        int bits = 0;
        for (PosixFilePermission p : permissions) {
            bits |= 1 << (8 - p.ordinal());
        }
        return String.format("%04o", bits);
    }

    private static boolean readableByOthers(Set<PosixFilePermission> permissions) {
        return permissions.stream().anyMatch(OTHERS_READ::contains);
    }

    private static String read(Path file, String what, String maker) throws KeyFileException {
        PosixFileAttributes attributes;
        try {
            attributes = Files.readAttributes(file, PosixFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new KeyFileException(what + " file " + file + " does not exist (make one: umask 077; " + maker
                    + " > " + file + ")");
        } catch (IOException e) {
            throw cannotRead(what, file, FileErrors.reason(e));
        }
        if (attributes.isDirectory()) {
            throw cannotRead(what, file, "it is a directory");
        }
        if (readableByOthers(attributes.permissions())) {
            throw new KeyFileException(what + " file " + file + " is readable by group or others (mode "
                    + mode(attributes.permissions()) + "): chmod 600 " + file);
        }
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readNBytes(MAX_BYTES), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw cannotRead(what, file, FileErrors.reason(e));
        }
    }

    private static KeyFileException cannotRead(String what, Path file, String reason) {
        return new KeyFileException("cannot read " + what + " file " + file + ": " + reason);
    }
}
