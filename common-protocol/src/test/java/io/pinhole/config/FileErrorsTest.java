package io.pinhole.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FileErrorsTest: the reason of a failed file operation is words, never a Java class name. */
class FileErrorsTest {
    @TempDir
    Path dir;

    @Test
    void accessDeniedIsPermissionDenied() {
        assertEquals("permission denied", FileErrors.reason(new AccessDeniedException("/x/k")));
    }

    @Test
    void theSystemsReasonIsUsedWhenThereIsOne() {
        assertEquals("No space left on device", FileErrors.reason(
                new FileSystemException("/x/k", null, "No space left on device")));
    }

    @Test
    void readingADirectoryGivesTheSystemsWords() {
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> Files.newInputStream(dir).read());
        assertEquals("Is a directory", FileErrors.reason(e));
    }

    @Test
    void noMessageAtAllIsStillWords() {
        assertEquals("input/output error", FileErrors.reason(new IOException()));
    }
}
