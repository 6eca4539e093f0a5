package io.pinhole.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePrivateKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * A userspace WireGuard peer ({@code wireguard-go}, configured with {@code wg} and {@code ip}) in
 * one node of a {@link Lab}: the reference implementation pinhole must interoperate with.
 *
 * <p>wireguard-go runs in the foreground ({@code WG_PROCESS_FOREGROUND=1}), started and stopped
 * by PID through the lab. Its control socket lives in the root file system
 * ({@code /var/run/wireguard/NAME.sock}, shared by all namespaces), so the interface is named
 * after the lab's prefix: it can never take over another lab's or the machine's own WireGuard
 * interface. {@link #close()} stops it and removes a socket a killed process left behind.
 */
final class WireGuardGo implements AutoCloseable {
    private static final Path RUN_DIR = Path.of("/var/run/wireguard");

    private final Lab lab;
    private final String node;
    private final String name;
    private final Lab.Proc proc;
    private final String publicKey;
    private final Path privateKeyFile;

    private WireGuardGo(Lab lab, String node, String name, Lab.Proc proc, Path privateKeyFile, String publicKey) {
        this.lab = lab;
        this.node = node;
        this.name = name;
        this.proc = proc;
        this.privateKeyFile = privateKeyFile;
        this.publicKey = publicKey;
    }

    static void requireTools() {
        Prerequisites.requireTools("wireguard-go", "wireguard-go", "wg", "wireguard-tools");
    }

    /** Makes a key with {@code wg genkey}, starts wireguard-go in {@code node} and waits for its control socket. */
    static WireGuardGo start(Lab lab, String node) {
        return start(lab, node, null, false);
    }

    /**
     * As {@link #start(Lab, String)}, with a key that sorts before ({@code sortsFirst}) or after
     * {@code otherKey} (unsigned bytes): which side of a pair initiates on a new path depends on
     * that order, so a test can cover each side deterministically. {@code otherKey} null: any key.
     */
    static WireGuardGo start(Lab lab, String node, String otherKey, boolean sortsFirst) {
        requireTools();
        String name = lab.prefix() + "wg";
        Path sock = RUN_DIR.resolve(name + ".sock");
        try {
            Path key = lab.logDir().resolve("wg-" + node + ".key");
            String privateKey;
            if (otherKey == null) {
                Lab.Result gen = lab.exec(node, Duration.ofSeconds(10), "wg", "genkey");
                assertTrue(gen.ok(), "wg genkey failed: " + gen);
                privateKey = gen.output().strip();
            } else {
                // Drawn here, not by `wg genkey` in a loop: a key that must sort before one starting
                // with byte 0x07 is 1 draw in 37, too rare for a bounded number of process starts.
                byte[] other = Base64.getDecoder().decode(otherKey);
                SecureRandom random = new SecureRandom();
                NoisePrivateKey candidate = NoisePrivateKey.generate(random);
                for (int attempt = 1; (Arrays.compareUnsigned(candidate.publicKey().toBytes(), other) < 0) != sortsFirst;
                        attempt++) {
                    assertTrue(attempt < 1_000_000, "no key sorts " + (sortsFirst ? "before " : "after ") + otherKey);
                    candidate = NoisePrivateKey.generate(random);
                }
                privateKey = candidate.toBase64();
            }
            Files.writeString(key, privateKey + "\n");
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
            Lab.Result pub = lab.execWithInput(node, Duration.ofSeconds(10), key, "wg", "pubkey");
            assertTrue(pub.ok(), "wg pubkey failed: " + pub);
            String publicKey = pub.output().strip();
            Lab.Proc p = lab.start(node, "wireguard-go", "env", "WG_PROCESS_FOREGROUND=1", Lab.tool("wireguard-go"), name);
            WireGuardGo wg = new WireGuardGo(lab, node, name, p, key, publicKey);
            boolean up = Lab.await(Duration.ofSeconds(20), Duration.ofMillis(100), () -> !p.isAlive() || Files.exists(sock));
            assertTrue(p.isAlive() && up, "wireguard-go did not start (no " + sock + "): " + p.logText());
            Narrator.say("wireguard-go " + name + " runs in " + node + " (pid " + p.pid() + "), public key " + wg.publicKey);
            return wg;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String name() {
        return name;
    }

    String publicKey() {
        return publicKey;
    }

    Lab.Proc proc() {
        return proc;
    }

    /**
     * {@code wg set NAME private-key KEY listen-port PORT peer PEER allowed-ips REMOTE/32 ...},
     * {@code ip addr add LOCAL peer REMOTE dev NAME}, {@code ip link set NAME up}.
     *
     * @param peerOptions more options for the peer, e.g. {@code endpoint 203.0.113.10:51820}
     */
    void configure(int listenPort, String peerKey, String local, String remote, String... peerOptions) {
        List<String> cmd = new ArrayList<>(List.of("wg", "set", name, "private-key", privateKeyFile.toString(),
            "listen-port", String.valueOf(listenPort), "peer", peerKey, "allowed-ips", remote + "/32"));
        cmd.addAll(List.of(peerOptions));
        run(cmd.toArray(String[]::new));
        run("ip", "addr", "add", local + "/32", "peer", remote + "/32", "dev", name);
        run("ip", "link", "set", name, "up");
        Narrator.say("wireguard-go " + name + ": " + local + " -> " + remote + ", udp port " + listenPort + ", peer "
            + peerKey + (peerOptions.length > 0 ? " " + String.join(" ", peerOptions) : ""));
    }

    /** Runs a {@code wg}/{@code ip} command in the node; fails the test if it fails. */
    Lab.Result run(String... cmd) {
        Lab.Result r = lab.exec(node, Duration.ofSeconds(20), cmd);
        assertTrue(r.ok(), String.join(" ", cmd) + " failed: " + r);
        return r;
    }

    /** Seconds since the epoch of the peer's latest handshake (0: none), from {@code wg show NAME latest-handshakes}. */
    long latestHandshake() {
        String out = run("wg", "show", name, "latest-handshakes").output().strip();
        String[] f = out.split("\\s+");
        return f.length >= 2 ? Long.parseLong(f[f.length - 1]) : 0;
    }

    /** {@code wg show NAME} for the story. */
    String show() {
        return lab.exec(node, Duration.ofSeconds(10), "wg", "show", name).output().strip();
    }

    @Override
    public void close() {
        if (proc.isAlive()) {
            int code = lab.stop(proc);
            Narrator.say("wireguard-go " + name + " stopped (exit " + code + ")");
        }
        try {
            Files.deleteIfExists(RUN_DIR.resolve(name + ".sock")); // left only if it was killed
        } catch (IOException e) {
            Narrator.say("could not remove " + RUN_DIR.resolve(name + ".sock") + ": " + e);
        }
    }
}
