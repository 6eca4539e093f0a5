package io.pinhole.client.privilege;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ProcStatusTest {
    private static final String DROPPED = """
            Name:\tjava
            Umask:\t0022
            State:\tS (sleeping)
            Uid:\t65534\t65534\t65534\t65534
            Gid:\t65534\t65534\t65534\t65534
            Groups:\t65534
            NoNewPrivs:\t1
            CapInh:\t0000000000000000
            CapPrm:\t0000000000000000
            CapEff:\t0000000000000000
            CapBnd:\t0000000000000000
            CapAmb:\t0000000000000000
            """;

    @Test
    void parsesTheCredentialsOfADroppedProcess() {
        ProcStatus s = ProcStatus.parse(DROPPED);
        assertArrayEquals(new long[] {65534, 65534, 65534, 65534}, s.uids());
        assertTrue(s.runsAs(65534, 65534));
        assertFalse(s.runsAs(0, 0));
        assertEquals(0, s.capEff());
        assertTrue(s.noNewPrivs());
        assertEquals("uids 65534/65534/65534/65534, gids 65534/65534/65534/65534, CapEff 0000000000000000, "
                + "CapPrm 0000000000000000, CapBnd 0000000000000000, CapAmb 0000000000000000, NoNewPrivs 1", s.describe());
    }

    @Test
    void oneIdLeftBehindIsNotRunningAs() {
        ProcStatus s = ProcStatus.parse(DROPPED.replace("Uid:\t65534\t65534\t65534\t65534", "Uid:\t65534\t65534\t0\t65534"));
        assertFalse(s.runsAs(65534, 65534), "a saved uid of 0 could switch back");
    }

    @Test
    void aMissingLineIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ProcStatus.parse(DROPPED.replace("NoNewPrivs:\t1\n", "")));
        assertEquals("no 'NoNewPrivs:' line", e.getMessage());
    }

    @Test
    void thisProcessesOwnStatusParses() throws IOException {
        ProcStatus self = ProcStatus.read(Path.of("/proc/self/status"));
        assertEquals(4, self.gids().length);
    }
}
