package io.pinhole.client;

import io.pinhole.crypto.KeyFormatException;
import io.pinhole.crypto.NoisePrivateKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * PinholeMain: the {@code pinhole} command and its key subcommands; {@code up} is
 * {@link UpCommand}, {@code status} is {@link StatusCommand}. Exit codes: 0 success, 1 runtime
 * failure, 2 bad arguments or input. An argument picocli cannot parse (an unknown option, a
 * missing one, {@code --mtu abc}) gets one line on stderr, not the whole usage.
 */
@Command(name = "pinhole", mixinStandardHelpOptions = true, version = "pinhole 0.1.0",
        description = "Peer-to-peer VPN through NATs.",
        subcommands = {PinholeMain.GenKey.class, PinholeMain.PubKey.class, PinholeMain.GenPsk.class, UpCommand.class,
            StatusCommand.class})
public final class PinholeMain implements Callable<Integer> {
    /** Exit code for bad arguments or input. */
    static final int USAGE = 2;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line; returns the exit code. */
    static int run(String[] args) {
        CommandLine cli = new CommandLine(new PinholeMain());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("pinhole: " + e.getMessage());
            return 1;
        });
        cli.setParameterExceptionHandler((e, rest) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + e.getMessage() + " (see "
                    + cmd.getCommandSpec().qualifiedName() + " --help)");
            return USAGE;
        });
        return cli.execute(args);
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.err);
        return USAGE;
    }

    /** {@code pinhole genkey}: a new private key, base64, on stdout. */
    @Command(name = "genkey", description = "Print a new X25519 private key (base64), like `wg genkey`.")
    static final class GenKey implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.println(NoisePrivateKey.generate(new SecureRandom()).toBase64());
            return 0;
        }
    }

    /** {@code pinhole genpsk}: a new pre-shared key, base64, on stdout. */
    @Command(name = "genpsk", description = "Print a new random pre-shared key (base64), like `wg genpsk`.")
    static final class GenPsk implements Callable<Integer> {
        @Override
        public Integer call() {
            System.out.println(io.pinhole.crypto.PresharedKey.generate(new SecureRandom()));
            return 0;
        }
    }

    /** {@code pinhole pubkey}: reads a private key on stdin, prints its public key. */
    @Command(name = "pubkey", description = "Read a private key on stdin and print its public key, like `wg pubkey`.")
    static final class PubKey implements Callable<Integer> {
        @Override
        public Integer call() throws IOException {
            String text = readLimited(System.in, 4096);
            try {
                System.out.println(NoisePrivateKey.parse(text).publicKey());
                return 0;
            } catch (KeyFormatException e) {
                System.err.println("pinhole pubkey: stdin: " + e.getMessage());
                return USAGE;
            }
        }
    }

    /** Reads at most {@code limit} bytes as UTF-8 (a key file is 45 bytes). */
    static String readLimited(InputStream in, int limit) throws IOException {
        return new String(in.readNBytes(limit), StandardCharsets.UTF_8);
    }
}
