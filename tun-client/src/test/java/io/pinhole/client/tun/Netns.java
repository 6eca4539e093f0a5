package io.pinhole.client.tun;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A network namespace created for one test, named {@code phtun-<8 hex digits>} (or another
 * prefix) so parallel runs and other users of the machine do not collide. {@link #close()} deletes it; use it in
 * try-with-resources so that happens on failure too.
 */
final class Netns implements AutoCloseable {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String ip;
    private final String name;
    private boolean deleted;

    private Netns(String ip, String name) {
        this.ip = ip;
        this.name = name;
    }

    /** Creates a fresh namespace; fails or aborts (see {@link RealTunEnvironment}) if that is impossible. */
    static Netns create(String ip) {
        return create(ip, "phtun");
    }

    /** Creates a fresh namespace named {@code <prefix>-<8 hex digits>}. */
    static Netns create(String ip, String prefix) {
        byte[] r = new byte[4];
        RANDOM.nextBytes(r);
        String name = prefix + "-" + HexFormat.of().formatHex(r);
        Exec.Result res = Exec.run(List.of(ip, "netns", "add", name));
        if (!res.ok()) {
            RealTunEnvironment.unavailable("cannot create network namespace " + name + " with '" + ip
                    + " netns add': " + res.output().strip());
        }
        return new Netns(ip, name);
    }

    String name() {
        return name;
    }

    /** Runs {@code ip -n NAME args...} (inspection only; nothing here changes the root namespace). */
    Exec.Result ip(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ip, "-n", name));
        cmd.addAll(List.of(args));
        return Exec.run(cmd);
    }

    /** Runs {@code ip netns exec NAME command...}. */
    Exec.Result exec(String... command) {
        List<String> cmd = new ArrayList<>(execPrefix());
        cmd.addAll(List.of(command));
        return Exec.run(cmd);
    }

    /** The prefix that runs a command inside this namespace. */
    List<String> execPrefix() {
        return List.of(ip, "netns", "exec", name);
    }

    @Override
    public void close() {
        if (deleted) {
            return;
        }
        deleted = true;
        Exec.Result res = Exec.run(List.of(ip, "netns", "del", name));
        if (!res.ok()) {
            throw new IllegalStateException("could not delete network namespace " + name + ": "
                    + res.output().strip() + " (remove it with: ip netns del " + name + ")");
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
