package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** SIGTERM makes a client leave cleanly: exit code 0 and its TUN device gone. */
@ExtendWith(LabExtension.class)
class SigtermIT {

    @Test
    void clientExitsZeroOnSigtermAndRemovesItsDevice(Pinhole pinhole) {
        Lab lab = pinhole.lab();
        Pinhole.Running run = pinhole.startAll();
        assertTrue(pinhole.deviceExists(Peer.A), "tun0 missing in a while client A runs");
        assertTrue(pinhole.deviceExists(Peer.B), "tun0 missing in b while client B runs");

        say("SIGTERM to client A (pid " + run.a().pid() + ").");
        int codeA = lab.stop(run.a());
        say("client A exited with " + codeA);
        assertEquals(0, codeA, "client A's exit code on SIGTERM");
        assertFalse(pinhole.deviceExists(Peer.A), "tun0 still exists in a after client A left");

        say("SIGTERM to client B (pid " + run.b().pid() + ").");
        int codeB = lab.stop(run.b());
        say("client B exited with " + codeB);
        assertEquals(0, codeB, "client B's exit code on SIGTERM");
        assertFalse(pinhole.deviceExists(Peer.B), "tun0 still exists in b after client B left");
    }
}
