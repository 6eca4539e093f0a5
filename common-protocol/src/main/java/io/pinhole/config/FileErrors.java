package io.pinhole.config;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;

/**
 * FileErrors: what went wrong in a file operation, in words for a user: "permission denied",
 * "Is a directory", "No space left on device"; never a Java class name, never a stack trace.
 *
 * <p>Stateless and thread-safe; never throws.
 */
public final class FileErrors {
    private FileErrors() {
    }

    /** The reason of {@code e}, for a message such as {@code cannot read FILE: REASON}. */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : "input/output error";
    }
}
