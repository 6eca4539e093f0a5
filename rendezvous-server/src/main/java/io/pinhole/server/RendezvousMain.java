package io.pinhole.server;

import io.pinhole.config.ArgumentErrors;
import io.pinhole.config.HostPort;
import io.pinhole.config.LogNames;
import io.pinhole.config.KeyFileException;
import io.pinhole.config.KeyFiles;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.ratelimiter.ByteBucket;
import io.pinhole.rendezvous.RendezvousConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * RendezvousMain: the {@code pinhole-rendezvous} command. Runs until SIGTERM or Ctrl-C, then
 * closes the socket and exits 0. Exit 2 for bad arguments (one line, worded by
 * {@link ArgumentErrors} when picocli cannot parse them; a {@code --private-key} file that group
 * or others can read is one), 1 when the address cannot be bound or, without
 * {@code --private-key}, the key in the state directory cannot be read or created
 * ({@link ServerKeyStore}). {@code -h}/{@code --help} prints the usage on stdout, exit 0.
 */
@Command(name = "pinhole-rendezvous", mixinStandardHelpOptions = true, version = "pinhole-rendezvous 0.1.0",
        description = "Public rendezvous server for pinhole: pairs peers by public key, tells each the "
                + "other's observed endpoint, and relays for pairs that cannot meet directly.")
public final class RendezvousMain implements Callable<Integer> {
    private static final Pattern BYTE_COUNT = Pattern.compile("([0-9]+)([KkMm]?)");
    /** Exit code for bad arguments or input. */
    static final int USAGE = 2;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:7777",
            description = "UDP address to listen on (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--max-registrations", paramLabel = "N", defaultValue = "65536",
            description = "Cap on registrations held in memory (default: ${DEFAULT-VALUE}).")
    int maxRegistrations;

    @Option(names = "--max-per-source", paramLabel = "N", defaultValue = "256",
            description = "Registrations one source (an IPv4 address, or an IPv6 /64) may hold; a new key beyond that "
                    + "is refused (default: ${DEFAULT-VALUE}).")
    int maxPerSource;

    @Option(names = "--dh-rate", paramLabel = "PER_SEC", defaultValue = "1000",
            description = "Diffie-Hellman operations per second for new keys, for all sources together, shared "
                    + "fairly among them; each source also gets at most 20 a second (default: ${DEFAULT-VALUE}).")
    int dhRate;

    @Option(names = "--registration-ttl", paramLabel = "SECONDS", defaultValue = "60",
            description = "A registration not refreshed for this long is forgotten (default: ${DEFAULT-VALUE}).")
    int ttlSeconds;

    @Option(names = "--stats-interval", paramLabel = "SECONDS", defaultValue = "60",
            description = "Log a statistics line this often when something changed; 0 = never "
                    + "(default: ${DEFAULT-VALUE}).")
    int statsSeconds;

    @Option(names = "--relay-rate", paramLabel = "BYTES_PER_SEC", defaultValue = "2M",
            description = "Bytes per second each registered peer may have relayed to its partner when the two "
                    + "cannot meet directly; 0 turns the relay off. A whole number, or with K (x1024) or M "
                    + "(x1048576) (default: ${DEFAULT-VALUE}).")
    String relayRate;

    @Option(names = "--relay-burst", paramLabel = "BYTES", defaultValue = "256K",
            description = "Bytes each peer may have relayed at once, above its rate; at least 9K. A whole number, "
                    + "or with K or M (default: ${DEFAULT-VALUE}).")
    String relayBurst;

    @Option(names = "--relay-total-rate", paramLabel = "BYTES_PER_SEC", defaultValue = "32M",
            description = "Bytes per second the relay forwards for all peers together, shared fairly among their "
                    + "sources (IPv4 addresses, IPv6 /64s). A whole number, or with K or M (default: ${DEFAULT-VALUE}).")
    String relayTotalRate;

    @Option(names = "--private-key", paramLabel = "FILE",
            description = "The server's X25519 private key (from `pinhole genkey`); only its owner may read it "
                    + "(default: the key in the state directory, made at the first start).")
    Path privateKeyFile;

    @Option(names = "--state-dir", paramLabel = "DIR", defaultValue = ServerKeyStore.DEFAULT_DIR,
            description = "Without --private-key, the server keeps its key here (server.key, mode 0600; the "
                    + "directory is made with mode 0700), so its public key stays the same across restarts and "
                    + "clients can pin it with --rendezvous-key or trust it on first use (default: "
                    + "${DEFAULT-VALUE}).")
    Path stateDir;

    @Option(names = {"-v", "--verbose"}, description = "Log debug detail (default: off).")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command; returns the exit code. */
    static int run(String[] args) {
        CommandLine cli = new CommandLine(new RendezvousMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("pinhole-rendezvous: " + e.getMessage());
            return 1;
        });
        cli.setParameterExceptionHandler((e, rest) -> usageError(e));
        return cli.execute(args);
    }

    /** Prints the one line for a command line picocli could not parse; returns {@link #USAGE}. */
    private static int usageError(ParameterException e) {
        CommandSpec spec = e.getCommandLine().getCommandSpec();
        CommandLine.ParseResult parsed = e.getCommandLine().getParseResult();
        spec.commandLine().getErr().println(ArgumentErrors.line(spec.name(),
                parsed == null ? List.of() : parsed.unmatched(), false, "--listen HOST:PORT", e.getMessage()));
        return USAGE;
    }

    @Override
    public Integer call() throws Exception {
        if (verbose) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
        }
        Logger log = LoggerFactory.getLogger(LogNames.RENDEZVOUS);
        InetSocketAddress address;
        RendezvousConfig config;
        try {
            address = resolve(HostPort.parse(listen, true));
            if (ttlSeconds < 3) {
                throw new IllegalArgumentException("--registration-ttl must be at least 3 seconds");
            }
            Duration ttl = Duration.ofSeconds(ttlSeconds);
            long rate = byteCount("--relay-rate", relayRate, 0);
            long burst = byteCount("--relay-burst", relayBurst, RendezvousConfig.RELAY_MIN_BURST);
            long relayTotal = byteCount("--relay-total-rate", relayTotalRate, 1);
            if (maxPerSource < 1) {
                throw new IllegalArgumentException("--max-per-source must be at least 1, not " + maxPerSource);
            }
            if (dhRate < 1 || dhRate > RendezvousConfig.MAX_DH_PER_SECOND) {
                throw new IllegalArgumentException("--dh-rate must be 1 to " + RendezvousConfig.MAX_DH_PER_SECOND
                        + " a second, not " + dhRate);
            }
            config = new RendezvousConfig(ttl, ttl.dividedBy(3), maxRegistrations, Duration.ofSeconds(1), rate, burst)
                    .withBudgets(maxPerSource, dhRate, relayTotal);
        } catch (IllegalArgumentException e) {
            System.err.println("pinhole-rendezvous: " + e.getMessage());
            return USAGE;
        }
        log.info("pinhole-rendezvous on {}", io.pinhole.config.JavaRuntime.describe());
        NoisePrivateKey key;
        try {
            key = privateKeyFile == null ? null : KeyFiles.privateKey(privateKeyFile);
        } catch (KeyFileException e) {
            System.err.println("pinhole-rendezvous: " + e.getMessage());
            return USAGE;
        }
        if (key == null) {
            try {
                ServerKeyStore.Loaded loaded = ServerKeyStore.loadOrCreate(stateDir, new SecureRandom());
                key = loaded.key();
                log.info(loaded.created() ? "made a new server key in {} (kept for later starts): public key {}"
                        : "server key from {}: public key {}", loaded.file(), key.publicKey());
            } catch (KeyFileException e) {
                System.err.println("pinhole-rendezvous: " + e.getMessage());
                return 1;
            }
        }
        RendezvousServer server;
        try {
            server = RendezvousServer.start(address, config, key, statsSeconds);
        } catch (Exception e) {
            System.err.println("pinhole-rendezvous: cannot listen on udp " + HostPort.format(address) + ": " + e.getMessage());
            return 1;
        }
        Runnable stop = () -> {
            log.info("stopping");
            server.close();
        };
        for (String signal : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> stop.run());
        }
        server.awaitClose();
        key.destroy(); // the socket is closed: no datagram reaches the key any more
        return 0;
    }

    /**
     * A byte count: a whole number, or one followed by K (x1024) or M (x1048576), either case; from
     * {@code min} to {@link ByteBucket#MAX}.
     *
     * @throws IllegalArgumentException naming {@code option}, for anything else
     */
    static long byteCount(String option, String value, long min) {
        Matcher m = BYTE_COUNT.matcher(value);
        long count = -1;
        if (m.matches() && m.group(1).length() <= 12) {
            long unit = switch (m.group(2).toUpperCase(Locale.ROOT)) {
                case "K" -> 1L << 10;
                case "M" -> 1L << 20;
                default -> 1;
            };
            count = Long.parseLong(m.group(1)) * unit;
        }
        if (count < min || count > ByteBucket.MAX) {
            throw new IllegalArgumentException(option + ": '" + value + "' is not a byte count from " + min + " to "
                    + ByteBucket.MAX + " (a whole number, or with K = 1024 or M = 1048576, e.g. 2M)");
        }
        return count;
    }

    private static InetSocketAddress resolve(InetSocketAddress unresolved) {
        try {
            return new InetSocketAddress(InetAddress.getByName(unresolved.getHostString()), unresolved.getPort());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve '" + unresolved.getHostString() + "'");
        }
    }
}
