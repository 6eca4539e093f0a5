package io.pinhole.config;

import java.util.List;

/**
 * ArgumentErrors: the one line a pinhole program prints for a command line it cannot parse, so
 * that every program and subcommand says it the same way, exit code aside:
 * <pre>
 * pinhole up: unknown option '--bogus' (see pinhole up --help)
 * pinhole up: unexpected argument 'a.key' (options take their names, e.g. --private-key FILE; see pinhole up --help)
 * pinhole: unknown command 'upp' (see pinhole --help)
 * pinhole up: Missing required option: '--peer=PUBKEY' (see pinhole up --help)
 * </pre>
 * The last is the parser's own message (without a final period). The parser itself (picocli) stays in the programs; this
 * class only words the line.
 *
 * <p>Stateless and thread-safe; never throws.
 */
public final class ArgumentErrors {
    private ArgumentErrors() {
    }

    /**
     * The line for a command line that {@code command} could not parse.
     *
     * @param command       the command as typed, e.g. {@code pinhole up}
     * @param unmatched     the arguments the parser matched to nothing, in order (may be empty);
     *                      when there are any, the first is the line's subject, whatever else is wrong
     * @param takesCommands whether {@code command} takes a subcommand (then a stray word is an unknown command)
     * @param example       an option with its parameter, e.g. {@code --private-key FILE}, or null when the
     *                      command has none
     * @param parserMessage the parser's message, used when nothing is unmatched
     */
    public static String line(String command, List<String> unmatched, boolean takesCommands, String example,
                              String parserMessage) {
        String help = "see " + command + " --help";
        if (unmatched.isEmpty()) {
            String message = parserMessage.endsWith(".") ? parserMessage.substring(0, parserMessage.length() - 1)
                    : parserMessage;
            return command + ": " + message + " (" + help + ")";
        }
        String first = unmatched.get(0);
        if (first.startsWith("-") && first.length() > 1) {
            return command + ": unknown option '" + first + "' (" + help + ")";
        }
        if (takesCommands) {
            return command + ": unknown command '" + first + "' (" + help + ")";
        }
        return command + ": unexpected argument '" + first + "' ("
                + (example == null ? "" : "options take their names, e.g. " + example + "; ") + help + ")";
    }
}
