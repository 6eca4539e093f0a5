package io.pinhole.config;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;

/**
 * ConsoleRun: what a command-line program run in this JVM did: its exit code and what it printed
 * on stdout and on stderr, kept apart (line ends as printed). {@link #of} swaps
 * {@link System#out} and {@link System#err} while the program runs: not for tests that run in
 * parallel.
 */
public record ConsoleRun(int code, String out, String err) {
    /** Runs {@code program} (e.g. {@code () -> PinholeMain.run(args)}), which returns its exit code. */
    public static ConsoleRun of(IntSupplier program) {
        PrintStream savedOut = System.out;
        PrintStream savedErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = program.getAsInt();
            return new ConsoleRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    /** A refusal as a test expects it: exit 2, nothing on stdout, exactly {@code line} on stderr. */
    public static ConsoleRun refused(String line) {
        return new ConsoleRun(2, "", line + System.lineSeparator());
    }
}
