package io.pinhole.client;

import io.pinhole.config.ArgumentErrors;
import io.pinhole.config.KeyFiles;
import io.pinhole.crypto.KeyFormatException;
import io.pinhole.crypto.NoisePrivateKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;

/**
 * PinholeMain: the {@code pinhole} command and its key subcommands; {@code up} is
 * {@link UpCommand}, {@code status} is {@link StatusCommand}. Exit codes: 0 success, 1 runtime
 * failure, 2 bad arguments or input. An argument picocli cannot parse (an unknown option, a
 * missing one, {@code --mtu abc}, a value without its option name) gets one line on stderr, worded
 * by {@link ArgumentErrors}, not the whole usage. Every command and subcommand answers
 * {@code -h}/{@code --help} (and {@code --version}) on stdout with exit 0, as does
 * {@code pinhole help [COMMAND]}; {@code pinhole} alone prints its usage on stderr and exits 2.
 */
@Command(name = "pinhole", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT, version = "pinhole 0.1.0",
        description = "Peer-to-peer VPN through NATs.",
        subcommands = {PinholeMain.GenKey.class, PinholeMain.PubKey.class, PinholeMain.GenPsk.class, UpCommand.class,
            StatusCommand.class, CommandLine.HelpCommand.class})
public final class PinholeMain implements Callable<Integer> {
    /** Exit code for bad arguments or input. */
    static final int USAGE = 2;
    /** This process's standard output, whatever it is (Linux: a link to the file, pipe or terminal). */
    static final Path STDOUT = Path.of("/proc/self/fd/1");

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
        cli.setParameterExceptionHandler((e, rest) -> usageError(e));
        return cli.execute(args);
    }

    /** Prints the one line for a command line picocli could not parse; returns {@link #USAGE}. */
    private static int usageError(ParameterException e) {
        CommandSpec spec = e.getCommandLine().getCommandSpec();
        CommandLine.ParseResult parsed = e.getCommandLine().getParseResult();
        List<String> unmatched = parsed == null ? List.of() : parsed.unmatched();
        spec.commandLine().getErr().println(ArgumentErrors.line(spec.qualifiedName(), unmatched,
                !spec.subcommands().isEmpty(), example(spec), e.getMessage()));
        return USAGE;
    }

    /** The first option of {@code spec} that takes a value, a required one if any: {@code --private-key FILE}. */
    private static String example(CommandSpec spec) {
        return Stream.concat(spec.requiredArgs().stream(), spec.options().stream())
                .filter(arg -> arg.isOption() && arg.arity().max() > 0).map(OptionSpec.class::cast).findFirst()
                .map(option -> option.longestName() + " " + option.paramLabel()).orElse(null);
    }

    /** Warns on stderr, as {@code wg genkey} does, when stdout is a file that group or others can read. */
    static void warnIfKeyOutputExposed(String command) {
        if (KeyFiles.readableByOthers(STDOUT)) {
            System.err.println(command + ": warning: writing to world accessible file (group or others can read it; "
                    + "chmod 600 it, or write it under umask 077)");
        }
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.err);
        return USAGE;
    }

    /** {@code pinhole genkey}: a new private key, base64, on stdout. */
    @Command(name = "genkey", description = "Print a new X25519 private key (base64), like `wg genkey`; "
            + "warns when stdout is a file others can read: use (umask 077; pinhole genkey > peer.key).")
    static final class GenKey implements Callable<Integer> {
        @Override
        public Integer call() {
            warnIfKeyOutputExposed("pinhole genkey");
            System.out.println(NoisePrivateKey.generate(new SecureRandom()).toBase64());
            return 0;
        }
    }

    /** {@code pinhole genpsk}: a new pre-shared key, base64, on stdout. */
    @Command(name = "genpsk", description = "Print a new random pre-shared key (base64), like `wg genpsk`; "
            + "warns when stdout is a file others can read.")
    static final class GenPsk implements Callable<Integer> {
        @Override
        public Integer call() {
            warnIfKeyOutputExposed("pinhole genpsk");
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
