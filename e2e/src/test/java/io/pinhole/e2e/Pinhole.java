package io.pinhole.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pinhole.crypto.KeyFormatException;
import io.pinhole.crypto.NoisePublicKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pinhole programs ({@code bin/pinhole-rendezvous}, {@code bin/pinhole}) in a {@link Lab}:
 * a rendezvous server on {@code rdv}, peer A on {@code a} (behind NAT A), peer B on {@code b}
 * (behind NAT B), tunnel addresses 10.10.0.1 (A) and 10.10.0.2 (B) on {@code tun0}.
 */
public final class Pinhole {

    public static final String RDV_IP = "203.0.113.10";
    public static final int RDV_PORT = 3478;
    public static final String DEV = "tun0";

    /** First tunnel: generous for two JVM starts, registration and punching on 2 busy cores. */
    public static final Duration TUNNEL_UP = Duration.ofSeconds(30);
    /**
     * After a disruption: a peer declares the other dead after 15 s of silence, then re-registers
     * and punches again; registrations are refreshed about every 20 s. 45 s covers the worst of
     * both plus a client JVM start.
     */
    public static final Duration RECOVERY = Duration.ofSeconds(45);

    /** The two peers: namespace, tunnel address of this side and of the other side. */
    public enum Peer {
        A("a", "10.10.0.1", "10.10.0.2"),
        B("b", "10.10.0.2", "10.10.0.1");

        public final String node;
        public final String local;
        public final String remote;

        Peer(String node, String local, String remote) {
            this.node = node;
            this.local = local;
            this.remote = remote;
        }

        public Peer other() {
            return this == A ? B : A;
        }

        String clientName() {
            return "client-" + node;
        }
    }

    private static Keys keys;

    private final Lab lab;

    Pinhole(Lab lab) {
        this.lab = lab;
    }

    public Lab lab() {
        return lab;
    }

    // ---------------------------------------------------------------- programs

    public Lab.Proc startServer() {
        return startServer(new String[0]);
    }

    /**
     * Starts the server with more options, e.g. {@code --stats-interval 1}. Unless they say
     * otherwise, its state directory is {@link #serverStateDir()}: each lab its own (tests stay
     * independent, and nothing is written to /var/lib), shared by the servers one lab starts, so
     * a restarted server keeps its key, as a real one does.
     */
    public Lab.Proc startServer(String... extra) {
        List<String> cmd = new ArrayList<>(List.of(bin("pinhole-rendezvous"), "--listen", "0.0.0.0:" + RDV_PORT));
        cmd.addAll(List.of(extra));
        if (!cmd.contains("--state-dir") && !cmd.contains("--private-key")) {
            cmd.addAll(List.of("--state-dir", serverStateDir().toString()));
        }
        Lab.Proc server = lab.start("rdv", "rendezvous", cmd.toArray(String[]::new));
        boolean listening = Lab.await(Duration.ofSeconds(20), Duration.ofMillis(200),
            () -> !server.isAlive() || udpListening("rdv", RDV_PORT));
        assertTrue(server.isAlive(), "the rendezvous server exited at start: " + server.exitCode().orElse(null));
        assertTrue(listening, "the rendezvous server is not listening on UDP " + RDV_PORT + " after 20 s");
        Narrator.say("rendezvous server listens on " + RDV_IP + ":" + RDV_PORT);
        return server;
    }

    /** Starts the client of {@code peer}; {@code extra} are more options, e.g. {@code --listen-port 40001}. */
    public Lab.Proc startClient(Peer peer, String... extra) {
        return startClient(peer, true, extra);
    }

    /** Starts {@code peer}'s client; with {@code ownStatusFile} false it writes its status where `up` puts it by default. */
    public Lab.Proc startClient(Peer peer, boolean ownStatusFile, String... extra) {
        Keys k = keys();
        List<String> cmd = new ArrayList<>(List.of(bin("pinhole"), "up",
            "--rendezvous", RDV_IP + ":" + RDV_PORT,
            "--private-key", k.privateKey(peer).toString(),
            "--peer", k.publicKey(peer.other()),
            "--dev", DEV, "--local", peer.local, "--remote", peer.remote));
        cmd.addAll(List.of(extra));
        if (ownStatusFile) {
            withStatusFile(cmd, peer);
        }
        return lab.start(peer.node, peer.clientName(), cmd.toArray(String[]::new));
    }

    /**
     * Starts the client of {@code peer} in static mode: no rendezvous, the other peer contacted at
     * {@code peerEndpoint}; {@code extra} are more options.
     */
    public Lab.Proc startStaticClient(Peer peer, String peerEndpoint, String... extra) {
        Keys k = keys();
        List<String> cmd = new ArrayList<>(List.of(bin("pinhole"), "up",
            "--peer-endpoint", peerEndpoint,
            "--private-key", k.privateKey(peer).toString(),
            "--peer", k.publicKey(peer.other()),
            "--dev", DEV, "--local", peer.local, "--remote", peer.remote));
        cmd.addAll(List.of(extra));
        withStatusFile(cmd, peer);
        return lab.start(peer.node, peer.clientName(), cmd.toArray(String[]::new));
    }

    /**
     * The default status file of {@code peer}'s client, in the lab's log directory: both peers
     * use {@code tun0} (in their own namespaces), so {@code pinhole up}'s own default,
     * {@code /run/pinhole/tun0.status}, would be shared by the two, and by a real pinhole on this
     * machine.
     */
    public Path statusFile(Peer peer) {
        return lab.logDir().toAbsolutePath().resolve(peer.node + ".status");
    }

    /** The rendezvous server's state directory in this lab (its key file, server.key, is made there). */
    public Path serverStateDir() {
        return lab.logDir().toAbsolutePath().resolve("rdv-state");
    }

    /** {@code peer}'s status file as key=value pairs (empty while it does not exist yet). */
    public Map<String, String> status(Peer peer) {
        Map<String, String> map = new LinkedHashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(statusFile(peer));
        } catch (NoSuchFileException e) {
            return map;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String line : lines) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                map.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return map;
    }

    /** Waits until both clients' status files show {@code path} (direct, relayed); true if within {@code timeout}. */
    public boolean awaitPath(String path, Duration timeout) {
        return Lab.await(timeout, Duration.ofMillis(250),
            () -> path.equals(status(Peer.A).get("path")) && path.equals(status(Peer.B).get("path")));
    }

    /** Adds {@code --status-file} for {@code peer} unless the caller gave one. */
    private void withStatusFile(List<String> cmd, Peer peer) {
        if (!cmd.contains("--status-file")) {
            cmd.addAll(List.of("--status-file", statusFile(peer).toString()));
        }
    }

    /** Starts the server and both clients and waits until A and B ping each other across the tunnel. */
    public Running startAll() {
        Lab.Proc server = startServer();
        Lab.Proc a = startClient(Peer.A);
        Lab.Proc b = startClient(Peer.B);
        awaitTunnel(TUNNEL_UP, "the first tunnel", a, b);
        return new Running(server, a, b);
    }

    public record Running(Lab.Proc server, Lab.Proc a, Lab.Proc b) {}

    // ---------------------------------------------------------------- observations

    /** One ping (1 s deadline) from {@code from} across the tunnel. */
    public boolean pingOnce(Peer from) {
        return lab.exec(from.node, Duration.ofSeconds(5), "ping", "-n", "-c", "1", "-W", "1", from.remote).ok();
    }

    /** {@code count} pings, 200 ms apart. */
    public Lab.Result ping(Peer from, int count) {
        return lab.exec(from.node, Duration.ofSeconds(count + 10L), "ping", "-n", "-c", String.valueOf(count),
            "-i", "0.2", "-W", "2", from.remote);
    }

    /**
     * Waits until A reaches B and B reaches A across the tunnel, within {@code timeout}; fails
     * the test otherwise, or as soon as one of {@code mustRun} has exited.
     */
    public Duration awaitTunnel(Duration timeout, String what, Lab.Proc... mustRun) {
        long t0 = System.nanoTime();
        Narrator.say("waiting up to " + timeout.toSeconds() + " s for " + what + " (ping A->" + Peer.A.remote + " and B->" + Peer.B.remote + ")");
        boolean[] seen = new boolean[2];
        boolean ok = Lab.await(timeout, Duration.ofMillis(250), () -> {
            for (Lab.Proc p : mustRun) {
                if (!p.isAlive()) {
                    return true;
                }
            }
            seen[0] = seen[0] || pingOnce(Peer.A);
            seen[1] = seen[1] || pingOnce(Peer.B);
            return seen[0] && seen[1];
        });
        for (Lab.Proc p : mustRun) {
            assertTrue(p.isAlive(), p + " exited (" + p.exitCode().orElse(null) + ") while waiting for " + what);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        if (!ok) {
            fail(what + ": no ping across the tunnel within " + timeout.toSeconds() + " s (A->B "
                + (seen[0] ? "ok" : "never") + ", B->A " + (seen[1] ? "ok" : "never") + ")");
        }
        Narrator.say(what + ": both ways up after " + took.toMillis() + " ms");
        return took;
    }

    /** Asserts that {@code count} pings from {@code from} across the tunnel all come back. */
    public void assertPings(Peer from, int count) {
        Lab.Result r = ping(from, count);
        Narrator.say("ping " + from + "->" + from.remote + ": " + summary(r.output()));
        assertEquals(0, r.exitCode(), "ping " + from.node + " -> " + from.remote + " failed: " + r);
        assertTrue(r.output().contains(count + " packets transmitted, " + count + " received"),
            "ping " + from.node + " -> " + from.remote + " lost packets: " + r);
    }

    public boolean deviceExists(Peer peer) {
        return lab.exec(peer.node, Duration.ofSeconds(5), "ip", "link", "show", "dev", DEV).ok();
    }

    public boolean udpListening(String node, int port) {
        Lab.Result r = lab.exec(node, Duration.ofSeconds(5), "ss", "-Hnuln", "sport = :" + port);
        return r.ok() && !r.output().isBlank();
    }

    static String summary(String pingOutput) {
        return pingOutput.lines().filter(l -> l.contains("packets transmitted")).findFirst().orElse(pingOutput.strip());
    }

    // ---------------------------------------------------------------- helper JVMs from the test classpath

    /** Command line running {@code main} of a class from the e2e test classes in a small, quick-starting JVM. */
    public static String[] javaTool(Class<?> main, String... args) {
        return javaTool(testClasses().toString(), main, args);
    }

    /**
     * As {@link #javaTool}, with pinhole's own protocol classes on the class path too (from the
     * server's jar, which carries common-protocol): for tools that speak the real protocol.
     */
    public String[] protocolTool(Class<?> main, String... args) {
        Path jar = lab.root().resolve("rendezvous-server").resolve("target").resolve("pinhole-rendezvous.jar");
        assertTrue(Files.isReadable(jar), jar + " is missing: build it with mvn package");
        return javaTool(testClasses() + java.io.File.pathSeparator + jar, main, args);
    }

    private static String[] javaTool(String classPath, Class<?> main, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx256m",
            "-cp", classPath, main.getName()));
        cmd.addAll(List.of(args));
        return cmd.toArray(String[]::new);
    }

    private static Path testClasses() {
        try {
            return Path.of(Pinhole.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- bin/ and keys

    /** Path of a program in bin/ (fails the test when it is missing). */
    public String bin(String name) {
        return bin(lab.root(), name);
    }

    /** The private key file of {@code peer} (made once per test JVM). */
    public Path privateKeyFile(Peer peer) {
        return keys().privateKey(peer);
    }

    /** The public key of {@code peer}, base64. */
    public String publicKey(Peer peer) {
        return keys().publicKey(peer);
    }

    /** The short id pinhole's logs give the base64 {@code publicKey}: its first 8 characters in quotes. */
    static String shortId(String publicKey) {
        try {
            return NoisePublicKey.parse(publicKey).shortId();
        } catch (KeyFormatException e) {
            throw new IllegalArgumentException("not a public key: " + publicKey, e);
        }
    }

    /** Writes {@code text} to {@code file} readable by its owner only (0600), as `pinhole up` wants a key file. */
    static Path writeSecret(Path file, String text) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        return Files.writeString(file, text);
    }

    static String bin(Path root, String name) {
        Path p = root.resolve("bin").resolve(name);
        if (!Files.isExecutable(p)) {
            fail(p + " is missing or not executable: the e2e tests run the real programs (build them with mvn package)");
        }
        return p.toString();
    }

    private synchronized Keys keys() {
        synchronized (Pinhole.class) {
            if (keys == null) {
                keys = Keys.generate(lab);
            }
            return keys;
        }
    }

    /** Key pairs of A and B, made once per test JVM with {@code bin/pinhole genkey} / {@code pubkey}. */
    record Keys(Path keyA, Path keyB, String pubA, String pubB) {
        Path privateKey(Peer p) {
            return p == Peer.A ? keyA : keyB;
        }

        String publicKey(Peer p) {
            return p == Peer.A ? pubA : pubB;
        }

        static Keys generate(Lab lab) {
            try {
                Path dir = lab.root().resolve("e2e/target/lab-logs/keys");
                Files.createDirectories(dir);
                String pinhole = bin(lab.root(), "pinhole");
                Path[] priv = new Path[2];
                String[] pub = new String[2];
                for (int i = 0; i < 2; i++) {
                    Lab.Result g = lab.host(Duration.ofSeconds(60), null, pinhole, "genkey");
                    assertTrue(g.ok(), "bin/pinhole genkey failed: " + g);
                    String key = lastLine(g.output());
                    assertEquals(32, Base64.getDecoder().decode(key).length, "genkey must print a base64 X25519 key: " + g);
                    priv[i] = dir.resolve((i == 0 ? "a" : "b") + ".key");
                    writeSecret(priv[i], key + "\n");
                    Lab.Result p = lab.host(Duration.ofSeconds(60), priv[i], pinhole, "pubkey");
                    assertTrue(p.ok(), "bin/pinhole pubkey failed: " + p);
                    pub[i] = lastLine(p.output());
                    assertEquals(32, Base64.getDecoder().decode(pub[i]).length, "pubkey must print a base64 X25519 key: " + p);
                }
                Narrator.say("keys: A " + pub[0] + ", B " + pub[1]);
                return new Keys(priv[0], priv[1], pub[0], pub[1]);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static String lastLine(String out) {
            List<String> lines = out.strip().lines().toList();
            return lines.isEmpty() ? "" : lines.get(lines.size() - 1).strip();
        }
    }
}
