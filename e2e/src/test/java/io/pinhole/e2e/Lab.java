package io.pinhole.e2e;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * One network-namespace lab ({@code lab/lab.sh}) with a unique prefix, and the processes a test
 * starts inside it.
 *
 * <p>Every process is started with {@code ip netns exec NS cmd...}; {@code ip} execs the command
 * itself, so the PID we hold is the command's. {@link #close()} stops exactly the processes this
 * lab started (by PID) and tears the namespaces down; a JVM shutdown hook does the same if the
 * JVM is stopped, and a lab left behind by a JVM that was killed outright is reaped by the next
 * run (its owner and PIDs are recorded under {@code e2e/target/lab-logs/<prefix>/}).
 */
public final class Lab implements AutoCloseable {

    public static final List<String> NODES = List.of("rdv", "inet", "nata", "natb", "a", "b");
    static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private static final Set<Lab> OPEN = Collections.synchronizedSet(new LinkedHashSet<>());
    private static final SecureRandom RANDOM = new SecureRandom();
    private static boolean hookInstalled;
    private static boolean reaped;

    private final Path root;
    private final String prefix;
    private final Path logDir;
    private final List<Proc> procs = Collections.synchronizedList(new ArrayList<>());
    /** Commands of {@link #exec} still running: killed by {@link #close()} (e.g. from the shutdown hook). */
    private final Set<Process> running = Collections.synchronizedSet(new LinkedHashSet<>());
    /** Extra public hosts added with {@link #addHost} (namespaces with this lab's prefix too). */
    private final Set<String> hosts = Collections.synchronizedSet(new LinkedHashSet<>());
    private boolean up;
    private boolean closed;

    /** A process started in the lab. */
    public static final class Proc {
        final String name;
        final String node;
        final Process process;
        final Path log;
        final List<ProcessHandle> family = new ArrayList<>();

        Proc(String name, String node, Process process, Path log) {
            this.name = name;
            this.node = node;
            this.process = process;
            this.log = log;
        }

        public long pid() { return process.pid(); }
        public String name() { return name; }
        public String node() { return node; }
        public Path log() { return log; }
        public boolean isAlive() { return process.isAlive(); }

        /** Exit code, or empty while running. */
        public Optional<Integer> exitCode() {
            return process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
        }

        public String logText() {
            try {
                return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
            } catch (IOException e) {
                return "(cannot read " + log + ": " + e + ")";
            }
        }

        /** Waits for the log to contain {@code text}; false on timeout or if the process exits first without it. */
        public boolean awaitLog(String text, Duration timeout) {
            return Lab.await(timeout, Duration.ofMillis(100), () -> logText().contains(text) || !isAlive())
                && logText().contains(text);
        }

        @Override
        public String toString() {
            return name + "[pid " + pid() + " in " + node + "]";
        }
    }

    /** Output and exit code of a command run to completion. */
    public record Result(int exitCode, String output, boolean timedOut) {
        public boolean ok() { return exitCode == 0 && !timedOut; }

        @Override
        public String toString() {
            return (timedOut ? "timed out" : "exit " + exitCode) + (output.isBlank() ? "" : ":\n" + output.strip());
        }
    }

    private Lab(Path root, String prefix) {
        this.root = root;
        this.prefix = prefix;
        this.logDir = root.resolve("e2e/target/lab-logs").resolve(prefix);
    }

    /** Brings up a new lab with a fresh prefix. */
    public static Lab up(String natA, String natB) {
        return upWith("--nat-a", natA, "--nat-b", natB);
    }

    /** Brings up a new lab with a fresh prefix and these {@code lab.sh up} options (e.g. --same-nat --hairpin on). */
    public static Lab upWith(String... labArgs) {
        Path root = repoRoot();
        synchronized (Lab.class) {
            if (!reaped) {
                reaped = true;
                reapStale(root);
            }
            if (!hookInstalled) {
                hookInstalled = true;
                Runtime.getRuntime().addShutdownHook(new Thread(Lab::closeAll, "lab-cleanup"));
            }
        }
        String prefix;
        do { // lab.sh up rebuilds an existing lab: never pick a prefix that is in use (another run's lab)
            prefix = "ph" + HexFormat.of().formatHex(new byte[] {(byte) RANDOM.nextInt(), (byte) RANDOM.nextInt()}) + "-";
        } while (prefixInUse(root, prefix));
        Lab lab = new Lab(root, prefix);
        try {
            Files.createDirectories(lab.logDir);
            Files.writeString(lab.logDir.resolve("owner"), ProcessHandle.current().pid() + " " + startOf(ProcessHandle.current()) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        OPEN.add(lab);
        List<String> cmd = new ArrayList<>(List.of(labScript(root).toString(), "up", prefix));
        cmd.addAll(List.of(labArgs));
        Result r = lab.host(Duration.ofSeconds(60), null, cmd.toArray(String[]::new));
        if (!r.ok()) {
            lab.close();
            throw new IllegalStateException("lab.sh up " + prefix + " failed: " + r);
        }
        lab.up = true;
        Narrator.say("lab " + prefix + " is up (" + String.join(" ", labArgs) + "); logs in " + root.relativize(lab.logDir));
        return lab;
    }

    public String prefix() { return prefix; }
    public Path root() { return root; }
    public Path logDir() { return logDir; }

    public String namespace(String node) {
        if (!NODES.contains(node) && !hosts.contains(node)) {
            throw new IllegalArgumentException("unknown node " + node + " (one of " + NODES + " or an added host " + hosts + ")");
        }
        return prefix + node;
    }

    /**
     * Adds one more public host {@code name} at {@code ipv4} (in 203.0.113.0/24) on the internet
     * router ({@code lab.sh host}); it is a node like the others from then on, and goes away with the lab.
     */
    public void addHost(String name, String ipv4) {
        Result r = host(Duration.ofSeconds(60), null, labScript(root).toString(), "host", prefix, name, ipv4);
        if (!r.ok()) {
            throw new IllegalStateException("lab.sh host " + prefix + " " + name + " " + ipv4 + " failed: " + r);
        }
        hosts.add(name);
        Narrator.say("added public host " + prefix + name + " at " + ipv4);
    }

    /** Runs {@code cmd} in namespace {@code node} to completion (killed after {@code timeout}). */
    public Result exec(String node, Duration timeout, String... cmd) {
        return execWithInput(node, timeout, null, cmd);
    }

    /** As {@link #exec}, with stdin read from {@code stdin} (null: /dev/null). */
    public Result execWithInput(String node, Duration timeout, Path stdin, String... cmd) {
        return host(timeout, stdin, netnsExec(node, cmd));
    }

    /** Runs a command in the root namespace (no network use: key generation, lab.sh itself). */
    Result host(Duration timeout, Path stdin, String... cmd) {
        Path out = null;
        try {
            out = Files.createTempFile("lab-exec", ".out");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .redirectInput(stdin == null ? new File("/dev/null") : stdin.toFile());
            Process p = pb.start();
            running.add(p);
            boolean done;
            try {
                done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } finally {
                running.remove(p);
            }
            if (!done) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            String output = Files.readString(out, StandardCharsets.UTF_8);
            return new Result(done ? p.exitValue() : -1, output, !done);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + Arrays.toString(cmd), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + Arrays.toString(cmd), e);
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // temp file
                }
            }
        }
    }

    /**
     * Starts a long-running {@code cmd} in namespace {@code node}; stdout and stderr go to
     * {@code e2e/target/lab-logs/<prefix>/<name>.log} (a restarted name gets {@code name-2.log}, ...).
     */
    public Proc start(String node, String name, String... cmd) {
        if (closed) {
            throw new IllegalStateException("lab " + prefix + " is closed");
        }
        Path log = logDir.resolve(name + ".log");
        for (int i = 2; Files.exists(log); i++) {
            log = logDir.resolve(name + "-" + i + ".log");
        }
        try {
            Process p = new ProcessBuilder(netnsExec(node, cmd)).directory(root.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(new File("/dev/null")).start();
            Proc proc = new Proc(name, node, p, log);
            procs.add(proc);
            Files.writeString(logDir.resolve("pids"), p.pid() + " " + startOf(p.toHandle()) + " " + name + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            Narrator.say("started " + proc + ": " + String.join(" ", cmd));
            return proc;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + Arrays.toString(cmd), e);
        }
    }

    /**
     * SIGTERM to the process's PID, then waits up to {@link #STOP_TIMEOUT}; SIGKILL if it is still
     * running then. Returns the exit code (128+signal for a signal death).
     */
    public int stop(Proc proc) {
        return stop(proc, STOP_TIMEOUT);
    }

    public int stop(Proc proc, Duration timeout) {
        rememberFamily(proc);
        if (proc.process.isAlive()) {
            proc.process.destroy(); // SIGTERM to this PID
        }
        try {
            if (!proc.process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                Narrator.say(proc + " still running " + timeout.toSeconds() + " s after SIGTERM: SIGKILL");
                kill(proc);
            }
            proc.process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill(proc);
        }
        reapFamily(proc);
        return proc.process.exitValue();
    }

    /** SIGINT to the process's PID (ping, for one, prints its summary and exits); does not wait. */
    public void interrupt(Proc proc) {
        if (proc.isAlive()) {
            host(Duration.ofSeconds(10), null, "kill", "-INT", String.valueOf(proc.pid()));
        }
    }

    /** SIGKILL to the process's PID (and to any children it made), waiting for it to be gone. */
    public int kill(Proc proc) {
        rememberFamily(proc);
        for (ProcessHandle h : proc.family) {
            h.destroyForcibly();
        }
        proc.process.destroyForcibly();
        try {
            proc.process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return proc.process.isAlive() ? -1 : proc.process.exitValue();
    }

    private static void rememberFamily(Proc proc) {
        proc.process.descendants().forEach(h -> {
            if (!proc.family.contains(h)) {
                proc.family.add(h);
            }
        });
    }

    /** Children of a process we stopped that outlived it (e.g. a wrapper that did not exec). */
    private static void reapFamily(Proc proc) {
        for (ProcessHandle h : proc.family) {
            if (h.isAlive()) {
                Narrator.say("child pid " + h.pid() + " of " + proc + " outlived it: SIGKILL");
                h.destroyForcibly();
            }
        }
    }

    public List<Proc> processes() {
        synchronized (procs) {
            return List.copyOf(procs);
        }
    }

    /** Stops every process this lab started (SIGTERM, then SIGKILL) and removes the namespaces. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Process> execs;
        synchronized (running) {
            execs = new ArrayList<>(running);
        }
        for (Process p : execs) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Proc p : processes()) {
            if (p.isAlive()) {
                stop(p, Duration.ofSeconds(5));
            } else {
                reapFamily(p);
            }
        }
        Result r = host(Duration.ofSeconds(60), null, labScript(root).toString(), "down", prefix);
        if (!r.ok()) {
            Narrator.say("lab.sh down " + prefix + " failed: " + r);
        } else if (up) {
            Narrator.say("lab " + prefix + " is down");
        }
        OPEN.remove(this);
    }

    /** Appends the tail of every process log (and the NATs' conntrack tables) to {@code sb}. */
    public void describe(StringBuilder sb, int lines) {
        sb.append("---- lab ").append(prefix).append(": logs in ").append(logDir).append('\n');
        for (Proc p : processes()) {
            sb.append("---- ").append(p).append(p.exitCode().map(c -> " exited " + c).orElse(" running"))
              .append(", last ").append(lines).append(" lines of ").append(p.log.getFileName()).append(":\n");
            List<String> all = p.logText().lines().toList();
            all.subList(Math.max(0, all.size() - lines), all.size()).forEach(l -> sb.append("  | ").append(l).append('\n'));
        }
        if (!closed) {
            for (String nat : List.of("nata", "natb")) {
                Result r = exec(nat, Duration.ofSeconds(10), "conntrack", "-L", "-p", "udp");
                sb.append("---- conntrack -L -p udp in ").append(namespace(nat)).append(":\n");
                r.output().lines().forEach(l -> sb.append("  | ").append(l).append('\n'));
            }
        }
    }

    static void closeAll() {
        List<Lab> labs;
        synchronized (OPEN) {
            labs = new ArrayList<>(OPEN);
        }
        for (Lab lab : labs) {
            try {
                lab.close();
            } catch (RuntimeException e) {
                System.err.println("cleanup of lab " + lab.prefix + " failed: " + e);
            }
        }
    }

    static List<Lab> openLabs() {
        synchronized (OPEN) {
            return new ArrayList<>(OPEN);
        }
    }

    private String[] netnsExec(String node, String... cmd) {
        String[] full = new String[cmd.length + 4];
        full[0] = tool("ip");
        full[1] = "netns";
        full[2] = "exec";
        full[3] = namespace(node);
        System.arraycopy(cmd, 0, full, 4, cmd.length);
        if (cmd.length > 0 && !cmd[0].contains("/")) {
            full[4] = tool(cmd[0]); // conntrack, nft, ss live in sbin, which PATH may lack
        }
        return full;
    }

    static String tool(String name) {
        Path p = Prerequisites.which(name);
        return p == null ? name : p.toString();
    }

    /** Polls {@code condition} every {@code every} until true or {@code timeout} elapsed. */
    public static boolean await(Duration timeout, Duration every, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            try {
                Thread.sleep(every.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    static Path repoRoot() {
        String prop = System.getProperty("pinhole.root");
        if (prop != null && !prop.isBlank() && Files.exists(labScript(Path.of(prop)))) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(labScript(p))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root (lab/lab.sh); set -Dpinhole.root");
    }

    static Path labScript(Path root) {
        return root.resolve("lab/lab.sh");
    }

    private static boolean prefixInUse(Path root, String prefix) {
        if (Files.exists(root.resolve("e2e/target/lab-logs").resolve(prefix))) {
            return true;
        }
        for (String node : NODES) {
            if (Files.exists(Path.of("/run/netns", prefix + node))) {
                return true;
            }
        }
        return false;
    }

    private static String startOf(ProcessHandle h) {
        return h.info().startInstant().map(Instant::toString).orElse("?");
    }

    /**
     * A JVM killed outright (SIGKILL, OOM) runs no shutdown hook. Its labs are found by their
     * owner file: if that JVM is gone, the processes it recorded (checked by PID and start time,
     * so a reused PID is left alone) are killed and the namespaces removed.
     */
    private static void reapStale(Path root) {
        Path logs = root.resolve("e2e/target/lab-logs");
        if (!Files.isDirectory(logs)) {
            return;
        }
        try (var dirs = Files.list(logs)) {
            for (Path dir : dirs.toList()) {
                Path owner = dir.resolve("owner");
                if (!Files.exists(owner)) {
                    continue;
                }
                String prefix = dir.getFileName().toString();
                if (!Files.exists(Path.of("/run/netns", prefix + "a")) && !Files.exists(Path.of("/run/netns", prefix + "rdv"))) {
                    continue;
                }
                if (aliveAsRecorded(Files.readString(owner).strip())) {
                    continue; // another JVM's lab, still in use
                }
                Path pids = dir.resolve("pids");
                if (Files.exists(pids)) {
                    for (String line : Files.readAllLines(pids)) {
                        String[] f = line.split(" ");
                        if (f.length >= 2 && aliveAsRecorded(f[0] + " " + f[1])) {
                            ProcessHandle.of(Long.parseLong(f[0])).ifPresent(h -> {
                                System.err.println("reaping pid " + h.pid() + " left by a dead test JVM in lab " + prefix);
                                h.destroyForcibly();
                            });
                        }
                    }
                }
                System.err.println("removing lab " + prefix + " left by a dead test JVM");
                new ProcessBuilder(labScript(root).toString(), "down", prefix).inheritIO().start().waitFor(60, TimeUnit.SECONDS);
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("could not reap stale labs: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static boolean aliveAsRecorded(String pidAndStart) {
        String[] f = pidAndStart.split(" ");
        if (f.length < 2) {
            return false;
        }
        try {
            Optional<ProcessHandle> h = ProcessHandle.of(Long.parseLong(f[0]));
            return h.isPresent() && h.get().isAlive() && startOf(h.get()).equals(f[1]);
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
