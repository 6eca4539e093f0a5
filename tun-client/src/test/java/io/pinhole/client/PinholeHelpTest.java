package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.config.ConsoleRun;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * PinholeHelpTest: every command and subcommand of {@code pinhole} answers {@code -h},
 * {@code --help} and {@code pinhole help CMD} with its usage on stdout and exit 0; every option
 * says its default (or that it is required); {@code pinhole} alone prints the usage on stderr and
 * exits 2; {@code --version} works.
 */
class PinholeHelpTest {
    private static final List<String> COMMANDS = List.of("genkey", "pubkey", "genpsk", "up", "status");

    private static ConsoleRun pinhole(String... args) {
        return ConsoleRun.of(() -> PinholeMain.run(args));
    }

    /** Exit 0, the usage of {@code command} on stdout, nothing on stderr. */
    private static void assertUsage(String command, ConsoleRun r) {
        assertEquals(0, r.code(), r.toString());
        assertEquals("", r.err(), r.toString());
        assertTrue(r.out().startsWith("Usage: " + command + " "), r.out());
    }

    @ParameterizedTest
    @ValueSource(strings = {"genkey", "pubkey", "genpsk", "up", "status"})
    void everySubcommandAnswersHOrHelpOrHelpCmd(String command) {
        ConsoleRun dashH = pinhole(command, "-h");
        assertUsage("pinhole " + command, dashH);
        assertEquals(dashH, pinhole(command, "--help"));
        assertEquals(dashH, pinhole("help", command));
    }

    @Test
    void helpAndDashDashHelpShowTheCommandsOnStdout() {
        ConsoleRun help = pinhole("help");
        assertUsage("pinhole", help);
        assertEquals(help, pinhole("--help"));
        assertEquals(help, pinhole("-h"));
        for (String command : COMMANDS) {
            assertTrue(help.out().contains("\n  " + command + " "), command + " is listed: " + help.out());
        }
    }

    @Test
    void helpForAnUnknownCommandIsOneLine() {
        assertEquals(ConsoleRun.refused("pinhole: Unknown subcommand 'upp' (see pinhole --help)"),
                pinhole("help", "upp"));
    }

    @Test
    void pinholeAloneShowsTheUsageOnStderrAndExitsTwo() {
        ConsoleRun r = pinhole();
        assertEquals(2, r.code());
        assertEquals("", r.out());
        assertEquals(pinhole("help").out(), r.err());
    }

    @Test
    void anUnknownCommandIsOneLine() {
        assertEquals(ConsoleRun.refused("pinhole: unknown command 'upp' (see pinhole --help)"), pinhole("upp"));
    }

    @Test
    void versionStillWorks() {
        assertEquals(new ConsoleRun(0, "pinhole 0.1.0" + System.lineSeparator(), ""), pinhole("--version"));
    }

    @Test
    void everyOptionOfEveryCommandSaysItsDefaultOrThatItIsRequired() {
        CommandLine pinhole = new CommandLine(new PinholeMain());
        for (String command : COMMANDS) {
            CommandSpec spec = pinhole.getSubcommands().get(command).getCommandSpec();
            for (OptionSpec option : spec.options()) {
                if (option.usageHelp() || option.versionHelp()) {
                    continue;
                }
                String description = String.join(" ", option.description());
                String expected = option.required() ? "(required)" : "(default: ";
                assertTrue(description.contains(expected), command + " " + option.longestName() + ": " + description);
            }
            String usage = spec.commandLine().getUsageMessage();
            assertFalse(usage.contains("null"), usage);
        }
    }

    @Test
    void computedDefaultsAreWordedAndValuesShown() {
        String up = pinhole("up", "--help").out().replaceAll("\\s+", " ");
        for (String shown : new String[] {"(default: tun0)", "(default: 1420)", "(default: 0)",
            "(default: /run/pinhole/<dev>.status)", "(default: trust the first key the server presents, for as long as this runs, and refuse any other)"}) {
            assertTrue(up.contains(shown), shown + " in: " + up);
        }
        String status = pinhole("status", "--help").out().replaceAll("\\s+", " ");
        assertTrue(status.contains("(default: /run/pinhole/<dev>.status)"), status);
    }

    @Test
    void argumentsToACommandWithoutOptionsAreOneLine() {
        assertEquals(ConsoleRun.refused("pinhole genkey: unexpected argument 'x' (see pinhole genkey --help)"),
                pinhole("genkey", "x"));
        assertEquals(ConsoleRun.refused("pinhole status: unexpected argument 'tun1' (options take their names, "
                + "e.g. --dev NAME; see pinhole status --help)"), pinhole("status", "tun1"));
    }
}
