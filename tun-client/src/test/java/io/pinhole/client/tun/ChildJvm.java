package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A JVM running {@link TunNetnsChild} inside a {@link Netns} (via {@code ip netns exec}), so TUN
 * devices and traffic stay inside that namespace. The child reports progress as protocol lines
 * ({@code @@ event<TAB>key=value...}); everything it prints is kept for failure messages. When the
 * child prints {@code @@ pause}, it waits for {@link #resume()}.
 */
final class ChildJvm implements AutoCloseable {
    static final long STEP_TIMEOUT_SECONDS = 60;
    private static final String EOF = "\u0000eof";

    private final Process process;
    private final List<String> command;
    private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    private final StringBuffer transcript = new StringBuffer();

    private ChildJvm(Process process, List<String> command) {
        this.process = process;
        this.command = command;
        Thread pump = new Thread(this::pump, "child-jvm-output");
        pump.setDaemon(true);
        pump.start();
    }

    static ChildJvm start(Netns ns, String scenario, String... args) {
        List<String> cmd = new ArrayList<>(ns.execPrefix());
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx64m", "--add-opens",
                "java.base/sun.nio.ch=ALL-UNNAMED",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=debug",
                "-D" + TunNetnsChild.PARENT_NETNS_PROPERTY + "=" + ownNetns(),
                "-cp", testClassPath(), TunNetnsChild.class.getName(), scenario));
        cmd.addAll(List.of(args));
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put("LC_ALL", "C"); // strerror texts and tool output are compared verbatim
            Process p = pb.start();
            return new ChildJvm(p, cmd);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    private static String ownNetns() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/ns/net", e);
        }
    }

    /** The class path of this test JVM (surefire exposes the real one; java.class.path may be a manifest jar). */
    private static String testClassPath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        return cp;
    }

    private void pump() {
        try (BufferedReader r = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                transcript.append(line).append('\n');
                if (line.startsWith(TunNetnsChild.PREFIX)) {
                    events.add(line.substring(TunNetnsChild.PREFIX.length()));
                }
            }
        } catch (IOException ignored) {
            // child went away
        } finally {
            events.add(EOF);
        }
    }

    /**
     * Waits for the next protocol event and checks that it is {@code expected}; returns its
     * key/value pairs. Fails with the child's whole output if a different event arrives, the
     * child exits, or nothing arrives within {@link #STEP_TIMEOUT_SECONDS}.
     */
    Map<String, String> await(String expected) {
        String line;
        try {
            line = events.poll(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        if (line == null) {
            return fail("child did not report '" + expected + "' within " + STEP_TIMEOUT_SECONDS + " s\n" + details());
        }
        if (line.equals(EOF)) {
            events.add(EOF);
            return fail("child ended before reporting '" + expected + "'\n" + details());
        }
        String[] parts = line.split("\t");
        if (!parts[0].equals(expected)) {
            return fail("expected child event '" + expected + "' but got '" + line + "'\n" + details());
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            kv.put(parts[i].substring(0, eq), parts[i].substring(eq + 1));
        }
        return kv;
    }

    /** Awaits {@code @@ pause tag=<tag>}. */
    void awaitPause(String tag) {
        Map<String, String> kv = await("pause");
        if (!tag.equals(kv.get("tag"))) {
            fail("expected pause '" + tag + "' but got " + kv + "\n" + details());
        }
    }

    /** Lets a paused child continue. */
    void resume() {
        try {
            OutputStream in = process.getOutputStream();
            in.write('\n');
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resume child\n" + details(), e);
        }
    }

    /** Waits for the child to exit and returns its status; fails if it takes too long. */
    int awaitExit() {
        try {
            if (!process.waitFor(STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                fail("child did not exit within " + STEP_TIMEOUT_SECONDS + " s\n" + details());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
        return process.exitValue();
    }

    /** Awaits {@code done} and a zero exit status. */
    void awaitSuccess() {
        await("done");
        int status = awaitExit();
        if (status != 0) {
            fail("child exited with status " + status + "\n" + details());
        }
    }

    String details() {
        List<String> shown = new ArrayList<>(command);
        int cp = shown.indexOf("-cp");
        if (cp >= 0 && cp + 1 < shown.size()) {
            shown.set(cp + 1, "<test class path>");
        }
        return "command: " + String.join(" ", shown) + "\n--- child output ---\n" + transcript + "--- end of child output ---";
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
