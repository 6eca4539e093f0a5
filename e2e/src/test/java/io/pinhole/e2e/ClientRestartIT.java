package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import io.pinhole.e2e.Pinhole.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Client B dies without a word (SIGKILL) and is started again; the tunnel comes back. */
@ExtendWith(LabExtension.class)
class ClientRestartIT {

    @Test
    void recoversAfterClientBIsKilledAndRestarted(Pinhole pinhole) {
        Lab lab = pinhole.lab();
        Pinhole.Running run = pinhole.startAll();

        say("Kill client B with SIGKILL: no goodbye to anyone.");
        lab.kill(run.b());
        assertTrue(Lab.await(Duration.ofSeconds(10), Duration.ofMillis(100), () -> !pinhole.deviceExists(Peer.B)),
            "tun0 in b outlived the killed client");
        assertFalse(pinhole.pingOnce(Peer.A), "B's tunnel address still answers with client B dead");

        say("Client A keeps running; start client B again with the same key.");
        Lab.Proc b2 = pinhole.startClient(Peer.B);
        pinhole.awaitTunnel(Pinhole.RECOVERY, "the tunnel with the restarted client B", run.server(), run.a(), b2);
        pinhole.assertPings(Peer.A, 3);
        pinhole.assertPings(Peer.B, 3);
    }
}
