package io.pinhole.sim;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * NatMatrixSimTest: the current client and server cores ({@code PeerMachine}, {@code Rendezvous})
 * over every pair of the lab's NAT behaviours, in the simulated network and virtual time: the
 * same cells as {@code lab/matrix.sh} runs with the real programs (every pair of home, open,
 * symmetric, cgnat, blocked; one NAT with hairpinning and client isolation on and off; 20% loss
 * and 100 ms delay on one or both WAN links). Each cell runs with {@value #SEEDS} seeds; a cell
 * connects when both peers have the tunnel up within {@value #TIMEOUT_S} s and a packet then
 * crosses it both ways. Hops take 1 ms and every datagram gets up to 10 ms of jitter, so the two
 * peers do not act on their PEER_INFOs at the same instant (as in the lab, where one peer's first
 * punch often reaches the other NAT before that NAT has a mapping for it: the {@code open} NAT's
 * failure needs that).
 *
 * <p>After the tunnel is up (on the relay, at first) each run lets the path settle for
 * {@value #SETTLE_S} s and records the path it ends on. It prints the table (and writes it to
 * {@code target/nat-matrix-sim.md}, which lab/matrix.sh puts into docs/nat-matrix.md) and asserts
 * issue 4's rule for every cell: it connects with every seed, and it ends direct wherever the
 * NATs allow a direct path ({@link #RELAY_ONLY} lists where they cannot), on the kind of direct
 * path named in {@link #DIRECT_KINDS}.
 */
class NatMatrixSimTest {
    static final int SEEDS = 10;
    /**
     * The time a run has to connect. 20% loss and 100 ms on both WANs (netem-both) has a long tail,
     * set by WireGuard's 5 s handshake retry when 59% of handshake round trips fail: over seeds
     * 1-40, median 8.6 s, 90th percentile 29.9 s, slowest 45.4 s with the code of 46a4d2f, and 8.6 s,
     * 32.5 s and 48.2 s with the server messages that name the REGISTER they answer (the same
     * distribution; the seeds' draws differ). 45 s cut that tail at seed 6; 60 s holds it.
     */
    static final int TIMEOUT_S = 60;
    static final int SETTLE_S = 20;
    private static final double NETEM_LOSS = 0.2;
    private static final Duration NETEM_DELAY = Duration.ofMillis(100);
    /** One-way latency per hop, and the most jitter a datagram gets (see {@link SimNetwork#jitter}). */
    private static final Duration HOP = Duration.ofMillis(1);
    private static final Duration JITTER = Duration.ofMillis(10);

    private static final String DIRECT = "direct";
    private static final String LAN = "direct (LAN)";
    private static final String HAIRPIN = "direct (hairpin)";

    private static final String RELAYED = "relayed";

    /** Cells where no direct path can exist: UDP blocked, both sides symmetric, no LAN path and no hairpin. */
    private static final Set<String> RELAY_ONLY = Set.of("home-blocked", "open-blocked", "symmetric-blocked",
            "cgnat-blocked", "blocked-blocked", "symmetric-symmetric", "same-isolated-hairpin-off");

    /** Where a cell's direct path must lead, when it is not to the other NAT's public address. */
    private static final Map<String, String> DIRECT_KINDS = Map.of(
            "same-hairpin-off", LAN,
            "same-hairpin-on", LAN,
            "same-isolated-hairpin-on", HAIRPIN);

    /** What one run of one cell gave. */
    private record Run(boolean connected, long tunnelNanos, String path, String endpoint) {
    }

    /** A cell: its name (as lab/matrix.sh names it) and how to build its lab from a seed. */
    private record Cell(String name, LongFunction<SimLab> lab) {
    }

    private static List<Cell> cells() {
        List<Cell> cells = new ArrayList<>();
        SimLab.Mode[] modes = SimLab.Mode.values();
        for (int i = 0; i < modes.length; i++) {
            for (int j = i; j < modes.length; j++) {
                SimLab.Mode a = modes[i];
                SimLab.Mode b = modes[j];
                cells.add(new Cell(a.labName() + "-" + b.labName(), seed -> SimLab.of(seed, origin(seed), a, b)));
            }
        }
        for (boolean isolate : new boolean[] {false, true}) {
            for (boolean hairpin : new boolean[] {false, true}) {
                cells.add(new Cell("same-" + (isolate ? "isolated-" : "") + "hairpin-" + (hairpin ? "on" : "off"),
                        seed -> SimLab.sameNat(seed, origin(seed), SimNat.Behaviour.HOME, hairpin, isolate)));
            }
        }
        for (String netem : new String[] {"netem-a", "netem-both"}) { // impaired in run()
            cells.add(new Cell(netem, seed -> SimLab.of(seed, origin(seed), SimLab.Mode.HOME, SimLab.Mode.HOME)));
        }
        return cells;
    }

    private static long origin(long seed) {
        return seed * 7_919_000_000_003L; // anywhere, overflow included
    }

    private static Run run(String cell, SimLab lab) {
        lab.net.latency(HOP).jitter(JITTER);
        if (cell.startsWith("netem-")) {
            lab.netem(lab.a, NETEM_LOSS, NETEM_DELAY);
            if (cell.equals("netem-both")) {
                lab.netem(lab.b, NETEM_LOSS, NETEM_DELAY);
            }
        }
        long start = lab.net.now();
        boolean up = lab.startAndConnect(Duration.ofSeconds(TIMEOUT_S));
        long took = lab.net.now() - start;
        if (up) {
            lab.bothDirect(Duration.ofSeconds(SETTLE_S)); // or the settling time passes on the relay
            if (cell.startsWith("netem-")) {
                // the impairment covers the punch; one unanswered test packet would say nothing about the tunnel
                lab.netem(lab.a, 0, Duration.ZERO).netem(lab.b, 0, Duration.ZERO);
            }
        }
        boolean ping = up && lab.pingBothWays(Duration.ofSeconds(2));
        InetSocketAddress endpoint = lab.a.machine().endpoint();
        return new Run(ping, took, ping ? pathKind(lab, endpoint) : "-",
                endpoint == null ? "-" : endpoint.getAddress().getHostAddress() + ":" + endpoint.getPort());
    }

    private static String pathKind(SimLab lab, InetSocketAddress endpoint) {
        if (endpoint == null) {
            return "-";
        }
        if (lab.a.machine().path() == io.pinhole.peer.PathKind.RELAYED) {
            return RELAYED;
        }
        if (lab.natA == lab.natB) {
            return endpoint.getAddress().equals(lab.natA.publicAddress()) ? HAIRPIN : LAN;
        }
        if (endpoint.getAddress().equals(lab.publicNatB().publicAddress())) {
            return DIRECT;
        }
        return "other";
    }

    @Test
    void everyCellConnectsAndEndsDirectWhereTheNatsAllowIt() throws IOException {
        Map<String, List<Run>> results = new LinkedHashMap<>();
        // the failing cells would log a thousand warnings (no answer, retrying): the table says it
        java.util.logging.Logger cores = java.util.logging.Logger.getLogger(io.pinhole.config.LogNames.ROOT);
        java.util.logging.Level level = cores.getLevel();
        cores.setLevel(java.util.logging.Level.SEVERE);
        try {
            for (Cell cell : cells()) {
                List<Run> runs = new ArrayList<>();
                for (long seed = 1; seed <= SEEDS; seed++) {
                    runs.add(run(cell.name, cell.lab.apply(seed)));
                }
                results.put(cell.name, runs);
            }
        } finally {
            cores.setLevel(level);
        }

        String table = table(results);
        System.out.println(table);
        Path out = Path.of(System.getProperty("nat.matrix.out", "target/nat-matrix-sim.md"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, table, StandardCharsets.UTF_8);

        List<Executable> checks = new ArrayList<>();
        for (Map.Entry<String, List<Run>> cell : results.entrySet()) {
            String name = cell.getKey();
            List<Run> runs = cell.getValue();
            String expected = RELAY_ONLY.contains(name) ? RELAYED : DIRECT_KINDS.getOrDefault(name, DIRECT);
            checks.add(() -> assertEquals(SEEDS, runs.stream().filter(Run::connected).count(),
                    name + " connects with every seed: " + runs));
            checks.add(() -> assertEquals(List.of(expected), runs.stream().map(Run::path).distinct().toList(),
                    name + " ends " + expected + " with every seed: " + runs));
        }
        assertAll(checks);
    }

    private static String table(Map<String, List<Run>> results) {
        StringBuilder sb = new StringBuilder();
        sb.append(SEEDS).append(" seeds per cell; ").append(HOP.toMillis()).append(" ms per hop, up to ")
                .append(JITTER.toMillis()).append(" ms for a host to act on a datagram; connected: tunnel up within ")
                .append(TIMEOUT_S).append(" s (virtual) and then a packet each way; netem: ")
                .append(Math.round(NETEM_LOSS * 100)).append("% loss and ").append(NETEM_DELAY.toMillis())
                .append(" ms on the WAN link, both directions.\n\n");
        sb.append("| cell | connected (of ").append(SEEDS).append(" seeds) | path | a's path (seed 1) "
                + "| tunnel up, median / max (s, virtual) |\n");
        sb.append("|---|---|---|---|---|\n");
        for (Map.Entry<String, List<Run>> e : results.entrySet()) {
            List<Run> runs = e.getValue();
            long ok = runs.stream().filter(Run::connected).count();
            long[] times = runs.stream().filter(Run::connected).mapToLong(Run::tunnelNanos).sorted().toArray();
            String paths = String.join("; ", runs.stream().map(Run::path).filter(p -> !p.equals("-"))
                    .distinct().sorted().toList());
            sb.append("| ").append(e.getKey())
                    .append(" | ").append(ok == SEEDS ? "yes" : ok == 0 ? "no" : "sometimes").append(" (").append(ok)
                    .append('/').append(SEEDS).append(')')
                    .append(" | ").append(paths.isEmpty() ? "-" : paths)
                    .append(" | ").append(runs.get(0).connected ? runs.get(0).endpoint : "-")
                    .append(" | ").append(times.length == 0 ? "-"
                            : seconds(times[times.length / 2]) + " / " + seconds(times[times.length - 1]))
                    .append(" |\n");
        }
        return sb.toString();
    }

    private static String seconds(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.1f", nanos / 1e9);
    }
}
