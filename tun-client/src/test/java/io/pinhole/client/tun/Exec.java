package io.pinhole.client.tun;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a short external command (ip, ping) with a generous timeout; stdout and stderr are merged. */
final class Exec {
    static final long TIMEOUT_SECONDS = 60;

    record Result(List<String> command, int exit, String output) {
        boolean ok() {
            return exit == 0;
        }

        /** The output; throws with the full command and output if the exit status was not 0. */
        String orFail() {
            if (!ok()) {
                throw new AssertionError("command failed (exit " + exit + "): " + String.join(" ", command)
                        + "\n" + output);
            }
            return output;
        }
    }

    private Exec() {
    }

    static Result run(List<String> command) {
        Process p;
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().put("LC_ALL", "C");
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + String.join(" ", command), e);
        }
        try {
            p.getOutputStream().close();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            Thread pump = new Thread(() -> copy(p.getInputStream(), out), "exec-output");
            pump.setDaemon(true);
            pump.start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("command did not finish within " + TIMEOUT_SECONDS + " s: "
                        + String.join(" ", command));
            }
            pump.join(TimeUnit.SECONDS.toMillis(10));
            synchronized (out) {
                return new Result(List.copyOf(command), p.exitValue(), out.toString(StandardCharsets.UTF_8));
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + String.join(" ", command), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (out) {
                    out.write(buf, 0, n);
                }
            }
        } catch (IOException ignored) {
            // process went away
        }
    }
}
