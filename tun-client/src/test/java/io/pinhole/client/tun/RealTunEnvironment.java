package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;

/**
 * Preconditions of the real-device tests: Linux, root, /dev/net/tun, iproute2 (and ping for the
 * traffic test). When one is missing the test fails if the environment variable CI is "true" and
 * is aborted (reported as skipped, with the reason) otherwise; never skipped silently.
 */
final class RealTunEnvironment {
    private RealTunEnvironment() {
    }

    static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Fails (CI=true) or aborts the current test with {@code reason}. Never returns. */
    static void unavailable(String reason) {
        if (isCi()) {
            fail(reason + " [CI=true, so this is a failure rather than a skip]");
        }
        Assumptions.abort(reason + " [test aborted; set CI=true to turn this into a failure]");
    }

    /** Checks root, /dev/net/tun and ip; returns the absolute path of ip. */
    static String requireRootTunAndIp() {
        List<String> missing = new ArrayList<>();
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            missing.add("Linux (os.name is " + System.getProperty("os.name") + ")");
        }
        long euid = effectiveUid();
        if (euid != 0) {
            missing.add("root (effective uid is " + (euid < 0 ? "unknown" : euid) + ")");
        }
        if (!Files.exists(Path.of(IfTun.CLONE_DEVICE))) {
            missing.add(IfTun.CLONE_DEVICE + " (load the tun module)");
        }
        Optional<String> ip = executable("ip");
        if (ip.isEmpty()) {
            missing.add("the 'ip' command (apt-get install iproute2)");
        }
        if (!missing.isEmpty()) {
            unavailable("real-device TUN tests need " + String.join(", ", missing));
        }
        return ip.orElseThrow();
    }

    /** Returns the absolute path of ping, or fails/aborts. */
    static String requirePing() {
        Optional<String> ping = executable("ping");
        if (ping.isEmpty()) {
            unavailable("the TUN traffic test needs the 'ping' command (apt-get install iputils-ping)");
        }
        return ping.orElseThrow();
    }

    /** Effective uid from /proc/self/status, or -1 if it cannot be read. */
    static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** An executable on PATH or in the usual sbin/bin directories. */
    static Optional<String> executable(String name) {
        Set<String> dirs = new LinkedHashSet<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) {
                if (!d.isEmpty()) {
                    dirs.add(d);
                }
            }
        }
        dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        for (String d : dirs) {
            Path p = Path.of(d, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p.toAbsolutePath().toString());
            }
        }
        return Optional.empty();
    }
}
