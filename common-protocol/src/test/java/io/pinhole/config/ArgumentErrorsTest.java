package io.pinhole.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** ArgumentErrorsTest: the one line for each kind of command line a program cannot parse. */
class ArgumentErrorsTest {
    @Test
    void anUnknownOption() {
        assertEquals("pinhole-rendezvous: unknown option '--bogus' (see pinhole-rendezvous --help)",
                ArgumentErrors.line("pinhole-rendezvous", List.of("--bogus"), false, "--listen HOST:PORT",
                        "Unknown option: '--bogus'"));
    }

    @Test
    void anArgumentWithoutItsOptionNameWhateverElseTheParserSays() {
        assertEquals("pinhole up: unexpected argument 'a.key' (options take their names, e.g. --private-key FILE; "
                        + "see pinhole up --help)",
                ArgumentErrors.line("pinhole up", List.of("a.key", "PUBKEY"), false, "--private-key FILE",
                        "Missing required options: '--private-key=FILE', '--peer=PUBKEY'"));
    }

    @Test
    void anArgumentToACommandWithoutOptions() {
        assertEquals("pinhole genkey: unexpected argument 'x' (see pinhole genkey --help)",
                ArgumentErrors.line("pinhole genkey", List.of("x"), false, null, "Unmatched argument at index 1: 'x'"));
    }

    @Test
    void aWordWhereACommandBelongs() {
        assertEquals("pinhole: unknown command 'upp' (see pinhole --help)",
                ArgumentErrors.line("pinhole", List.of("upp"), true, null, "Unmatched argument at index 0: 'upp'"));
    }

    @Test
    void everythingElseIsTheParsersMessage() {
        assertEquals("pinhole up: Invalid value for option '--mtu': 'big' is not an int (see pinhole up --help)",
                ArgumentErrors.line("pinhole up", List.of(), false, "--private-key FILE",
                        "Invalid value for option '--mtu': 'big' is not an int"));
    }

    @Test
    void theParsersFinalPeriodGoesBeforeTheParenthesis() {
        assertEquals("pinhole: Unknown subcommand 'upp' (see pinhole --help)",
                ArgumentErrors.line("pinhole", List.of(), true, null, "Unknown subcommand 'upp'."));
    }

    @Test
    void aLoneDashIsAnArgumentNotAnOption() {
        assertEquals("pinhole up: unexpected argument '-' (options take their names, e.g. --private-key FILE; "
                + "see pinhole up --help)", ArgumentErrors.line("pinhole up", List.of("-"), false, "--private-key FILE",
                "Unmatched argument at index 1: '-'"));
    }
}
