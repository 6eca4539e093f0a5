package io.pinhole.e2e;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * What the lab needs from the machine. Never a silent skip: with {@code CI=true} anything
 * missing fails the test; elsewhere it aborts the test with the same message (reported as
 * skipped, with the reason).
 */
final class Prerequisites {
    private Prerequisites() {}

    /** command on PATH -> Debian package that provides it */
    private static final String[][] TOOLS = {
        {"ip", "iproute2"},
        {"nft", "nftables"},
        {"conntrack", "conntrack"},
        {"ping", "iputils-ping"},
    };

    private static String cached;

    /** Returns null when everything is there, else a message naming what is missing and how to get it. */
    static synchronized String problems() {
        if (cached != null) {
            return cached.isEmpty() ? null : cached;
        }
        List<String> missing = new ArrayList<>();
        List<String> packages = new ArrayList<>();
        if (!isRoot()) {
            missing.add("root (uid 0): the lab creates network namespaces, NATs and TUN devices; run as root");
        }
        for (String[] tool : TOOLS) {
            if (which(tool[0]) == null) {
                missing.add("'" + tool[0] + "' (Debian package " + tool[1] + ")");
                packages.add(tool[1]);
            }
        }
        if (!Files.exists(Path.of("/dev/net/tun"))) {
            missing.add("/dev/net/tun (load the tun module: modprobe tun; in a container, pass the device in)");
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        if (!Files.isExecutable(java) && which("java") == null) {
            missing.add("'java' (Debian package default-jre-headless)");
            packages.add("default-jre-headless");
        }
        if (missing.isEmpty()) {
            cached = "";
            return null;
        }
        StringBuilder sb = new StringBuilder("pinhole e2e lab prerequisites missing: ");
        sb.append(String.join("; ", missing)).append('.');
        if (!packages.isEmpty()) {
            sb.append(" Install with: apt-get update && apt-get install -y ").append(String.join(" ", packages))
              .append(" (or run scripts/test.sh, which installs them).");
        }
        cached = sb.toString();
        return cached;
    }

    static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Fails (CI=true) or aborts (elsewhere) the current test when something is missing. */
    static void check() {
        String problems = problems();
        if (problems == null) {
            return;
        }
        if (inCi()) {
            Assertions.fail(problems + " [CI=true: failing instead of skipping]");
        } else {
            Assumptions.abort(problems + " [not on CI: aborted; set CI=true to make this a failure]");
        }
    }

    /**
     * Tools only some tests need, as pairs of command and Debian package, e.g. {@code "tcpdump",
     * "tcpdump"}: fails (CI=true) or aborts (elsewhere) the current test when one is missing.
     */
    static void requireTools(String... commandAndPackage) {
        List<String> missing = new ArrayList<>();
        List<String> packages = new ArrayList<>();
        for (int i = 0; i + 1 < commandAndPackage.length; i += 2) {
            if (which(commandAndPackage[i]) == null) {
                missing.add("'" + commandAndPackage[i] + "' (Debian package " + commandAndPackage[i + 1] + ")");
                if (!packages.contains(commandAndPackage[i + 1])) {
                    packages.add(commandAndPackage[i + 1]);
                }
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        String problems = "this test needs " + String.join(", ", missing) + ". Install with: apt-get update && "
            + "apt-get install -y " + String.join(" ", packages) + " (or run scripts/test.sh, which installs them).";
        if (inCi()) {
            Assertions.fail(problems + " [CI=true: failing instead of skipping]");
        } else {
            Assumptions.abort(problems + " [not on CI: aborted; set CI=true to make this a failure]");
        }
    }

    private static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String[] f = line.split("\\s+");
                    return f.length > 2 && f[2].equals("0"); // effective uid
                }
            }
        } catch (Exception e) {
            // fall through
        }
        return "root".equals(System.getProperty("user.name"));
    }

    static Path which(String cmd) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, cmd);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
