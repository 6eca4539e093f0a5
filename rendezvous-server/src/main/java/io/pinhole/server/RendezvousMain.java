package io.pinhole.server;

import io.pinhole.config.HostPort;
import io.pinhole.rendezvous.RendezvousConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import io.pinhole.crypto.KeyFormatException;
import io.pinhole.crypto.NoisePrivateKey;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * RendezvousMain: the {@code pinhole-rendezvous} command. Runs until SIGTERM or Ctrl-C, then
 * closes the socket and exits 0. Exit 2 for bad arguments, 1 when the address cannot be bound.
 */
@Command(name = "pinhole-rendezvous", mixinStandardHelpOptions = true, version = "pinhole-rendezvous 0.1.0",
        description = "Public rendezvous server for pinhole: pairs peers by public key and tells each the "
                + "other's observed endpoint.")
public final class RendezvousMain implements Callable<Integer> {
    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:7777",
            description = "UDP address to listen on (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--max-registrations", paramLabel = "N", defaultValue = "65536",
            description = "Cap on registrations held in memory (default: ${DEFAULT-VALUE}).")
    int maxRegistrations;

    @Option(names = "--registration-ttl", paramLabel = "SECONDS", defaultValue = "60",
            description = "A registration not refreshed for this long is forgotten (default: ${DEFAULT-VALUE}).")
    int ttlSeconds;

    @Option(names = "--stats-interval", paramLabel = "SECONDS", defaultValue = "60",
            description = "Log a statistics line this often when something changed; 0 = never "
                    + "(default: ${DEFAULT-VALUE}).")
    int statsSeconds;

    @Option(names = "--private-key", paramLabel = "FILE",
            description = "The server's X25519 private key (from `pinhole genkey`), so its public key stays the "
                    + "same across restarts and clients can pin it with --rendezvous-key. Default: a new key "
                    + "each start.")
    Path privateKeyFile;

    @Option(names = {"-v", "--verbose"}, description = "Log debug detail.")
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
        return cli.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        if (verbose) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
        }
        Logger log = LoggerFactory.getLogger(RendezvousMain.class);
        InetSocketAddress address;
        RendezvousConfig config;
        try {
            address = resolve(HostPort.parse(listen, true));
            if (ttlSeconds < 3) {
                throw new IllegalArgumentException("--registration-ttl must be at least 3 seconds");
            }
            Duration ttl = Duration.ofSeconds(ttlSeconds);
            config = new RendezvousConfig(ttl, ttl.dividedBy(3), maxRegistrations, Duration.ofSeconds(1));
        } catch (IllegalArgumentException e) {
            System.err.println("pinhole-rendezvous: " + e.getMessage());
            return 2;
        }
        NoisePrivateKey key;
        if (privateKeyFile == null) {
            key = NoisePrivateKey.generate(new SecureRandom());
        } else {
            try {
                key = NoisePrivateKey.parse(new String(Files.readAllBytes(privateKeyFile), StandardCharsets.UTF_8));
            } catch (IOException e) {
                System.err.println("pinhole-rendezvous: cannot read --private-key " + privateKeyFile + ": " + e);
                return 2;
            } catch (KeyFormatException e) {
                System.err.println("pinhole-rendezvous: --private-key " + privateKeyFile + ": " + e.getMessage());
                return 2;
            }
        }
        RendezvousServer server;
        try {
            server = RendezvousServer.start(address, config, key, statsSeconds);
        } catch (Exception e) {
            System.err.println("pinhole-rendezvous: cannot listen on udp " + address + ": " + e.getMessage());
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
        return 0;
    }

    private static InetSocketAddress resolve(InetSocketAddress unresolved) {
        try {
            return new InetSocketAddress(InetAddress.getByName(unresolved.getHostString()), unresolved.getPort());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve '" + unresolved.getHostString() + "'");
        }
    }
}
