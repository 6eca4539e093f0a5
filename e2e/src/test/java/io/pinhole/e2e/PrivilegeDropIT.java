package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Least privilege (issue 9, item 5): {@code pinhole up} started as root runs as {@code nobody}
 * once it is set up, every thread of it, with no capability left and no-new-privs, read from
 * {@code /proc/PID/status} and {@code /proc/PID/task/TID/status} (pinhole's own threads have an
 * empty bounding set too; the JVM's earlier threads keep theirs, which Linux keeps per thread and
 * no-new-privs makes moot); the tunnel, a path change (NAT
 * B forgets its mappings) and a restart of one side still work; the stopped side leaves its status
 * file saying stopped. {@code --user root} keeps root, with a warning.
 */
@ExtendWith(LabExtension.class)
class PrivilegeDropIT {
    private static final String NOBODY = "65534";

    @Test
    void rootClientsRunAsNobodyWithNoCapabilities_andTheTunnelItsPathChangesAndRestartsWork(Pinhole pinhole)
            throws Exception {
        Lab lab = pinhole.lab();
        Pinhole.Running run = pinhole.startAll();
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel", run.server(), run.a(), run.b());
        for (Lab.Proc client : new Lab.Proc[] {run.a(), run.b()}) {
            assertUnprivileged(client);
            assertTrue(client.logText().contains("running as user nobody (uid 65534, gid 65534) from now on, with no "
                + "capabilities and no-new-privs"), client.logText());
        }
        assertTrue(pinhole.awaitPath("direct", Duration.ofSeconds(15)), "direct: " + pinhole.status(Peer.A));
        pinhole.assertPings(Peer.A, 5);
        pinhole.assertPings(Peer.B, 5);

        say("NAT B forgets its mappings: the unprivileged clients find the direct path again.");
        Lab.Result flush = lab.exec("natb", Duration.ofSeconds(10), "conntrack", "-F");
        assertTrue(flush.ok(), flush.toString());
        pinhole.awaitTunnel(Pinhole.RECOVERY, "the tunnel after NAT B's flush", run.server(), run.a(), run.b());
        assertTrue(pinhole.awaitPath("direct", Duration.ofSeconds(20)), "direct again: " + pinhole.status(Peer.A));

        say("Stop client B (SIGTERM): running as nobody, it cannot delete its status file in root's directory, "
            + "so the file says stopped; then start B again.");
        assertEquals(0, lab.stop(run.b()), run.b().logText());
        Map<String, String> left = pinhole.status(Peer.B);
        assertEquals("stopped", left.get("state"), "B's status file after stop: " + left);
        assertEquals("down", left.get("tunnel"));
        assertEquals("none", left.get("path"));
        Lab.Result said = lab.exec("b", Duration.ofSeconds(20), pinhole.bin("pinhole"), "status", "--status-file",
            pinhole.statusFile(Peer.B).toString());
        assertEquals(1, said.exitCode(), said.toString());
        assertTrue(said.output().contains("no pinhole is running on tun0: ") && said.output().contains(" stopped at "),
            said.toString());

        Lab.Proc b2 = pinhole.startClient(Peer.B);
        pinhole.awaitTunnel(Pinhole.RECOVERY, "the tunnel with the restarted client B", run.server(), run.a(), b2);
        assertUnprivileged(b2);
        assertTrue(Lab.await(Duration.ofSeconds(10), Duration.ofMillis(200),
            () -> String.valueOf(b2.pid()).equals(pinhole.status(Peer.B).get("pid"))),
            "the restarted B rewrites the status file it could not delete: " + pinhole.status(Peer.B));
        pinhole.assertPings(Peer.A, 3);
        pinhole.assertPings(Peer.B, 3);
    }

    @Test
    void userRootKeepsRoot_andSaysSo(Pinhole pinhole) throws Exception {
        Lab.Proc server = pinhole.startServer();
        Lab.Proc a = pinhole.startClient(Peer.A, "--user", "root");
        Lab.Proc b = pinhole.startClient(Peer.B);
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel", server, a, b);
        Map<String, String> status = procStatus(Path.of("/proc", String.valueOf(a.pid()), "status"));
        assertEquals("0\t0\t0\t0", status.get("Uid"), "--user root: " + status);
        assertTrue(a.logText().contains("--user root: every packet is parsed as root, with all its capabilities; give "
            + "--user NAME (default nobody) to drop privileges after set-up"), a.logText());
        assertUnprivileged(b);
    }

    /** Every thread of {@code client} runs as nobody, with no capabilities at all and no-new-privs. */
    private static void assertUnprivileged(Lab.Proc client) throws IOException {
        Path proc = Path.of("/proc", String.valueOf(client.pid()));
        assertEquals("java", Files.readString(proc.resolve("comm")).strip(), "the client's own process: " + client);
        Map<String, String> status = procStatus(proc.resolve("status"));
        say(client.name() + " (pid " + client.pid() + "): Uid " + status.get("Uid") + ", Gid " + status.get("Gid")
            + ", CapEff " + status.get("CapEff") + ", CapPrm " + status.get("CapPrm") + ", CapBnd "
            + status.get("CapBnd") + ", NoNewPrivs " + status.get("NoNewPrivs"));
        String ids = String.join("\t", NOBODY, NOBODY, NOBODY, NOBODY);
        assertEquals(ids, status.get("Uid"), status.toString());
        assertEquals(ids, status.get("Gid"), status.toString());
        assertEquals(NOBODY, status.get("Groups"), "no supplementary group of root's kept: " + status);
        int threads = 0;
        int own = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve("task"))) {
            for (Path task : tasks) {
                Map<String, String> thread;
                try {
                    thread = procStatus(task.resolve("status"));
                } catch (NoSuchFileException gone) {
                    continue;
                }
                String name = "thread " + thread.get("Name") + ": " + thread;
                assertEquals(ids, thread.get("Uid"), name);
                assertEquals(ids, thread.get("Gid"), name);
                for (String set : new String[] {"CapEff", "CapPrm", "CapInh", "CapAmb"}) {
                    assertEquals("0000000000000000", thread.get(set), set + " of " + name);
                }
                assertEquals("1", thread.get("NoNewPrivs"), name + " (bin/pinhole sets it for the whole process)");
                if (thread.get("Name").startsWith("pinhole-")) { // the bounding set is per thread: ours started after
                    assertEquals("0000000000000000", thread.get("CapBnd"), "CapBnd of " + name);
                    own++;
                }
                threads++;
            }
        }
        assertTrue(threads > 5, "the JVM's threads were all looked at: " + threads);
        assertTrue(own >= 3, "pinhole's udp, tun and timer threads among them: " + own);
    }

    private static Map<String, String> procStatus(Path file) throws IOException {
        Map<String, String> fields = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                fields.put(line.substring(0, colon), line.substring(colon + 1).strip());
            }
        }
        return fields;
    }
}
