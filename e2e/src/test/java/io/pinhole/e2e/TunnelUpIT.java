package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Two peers behind two home NATs get a tunnel through the rendezvous server, and ping works both ways. */
@ExtendWith(LabExtension.class)
class TunnelUpIT {

    @Test
    void tunnelComesUpAndPingWorksBothWays(Pinhole pinhole) {
        say("Before anything runs, A cannot reach B's tunnel address: there is no tunnel yet.");
        assertTrue(!pinhole.pingOnce(Peer.A), "10.10.0.2 answered before any client ran");

        say("Start the rendezvous server on the public host, then a client behind each NAT.");
        Pinhole.Running run = pinhole.startAll();

        say("The tunnel is up; each side logs it.");
        assertTrue(run.a().awaitLog("tunnel up", Pinhole.TUNNEL_UP), "client A never logged 'tunnel up'");
        assertTrue(run.b().awaitLog("tunnel up", Pinhole.TUNNEL_UP), "client B never logged 'tunnel up'");

        say("A pings B, and B pings A, across the tunnel: every ping comes back.");
        pinhole.assertPings(Peer.A, 5);
        pinhole.assertPings(Peer.B, 5);

        say("Both devices exist, and the server and clients are still running.");
        assertTrue(pinhole.deviceExists(Peer.A) && pinhole.deviceExists(Peer.B), "tun0 missing on a or b");
        assertTrue(run.server().isAlive() && run.a().isAlive() && run.b().isAlive(), "a program exited");
    }
}
