package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import io.pinhole.e2e.Pinhole.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The rendezvous server goes away: the established tunnel does not need it. A new server
 * instance starts (empty registrations); when B comes back on a new port, A can only learn B's
 * new public endpoint from the new server, and the tunnel comes back through it.
 */
@ExtendWith(LabExtension.class)
class RendezvousRestartIT {

    /** Longer than the ~20 s registration refresh and the 15 s dead-peer timeout. */
    static final int PINGS_WITHOUT_SERVER = 25;

    @Test
    void tunnelSurvivesServerRestartAndReconnectsThroughTheNewServer(Pinhole pinhole) {
        Lab lab = pinhole.lab();
        Lab.Proc server = pinhole.startServer();
        Lab.Proc a = pinhole.startClient(Peer.A);
        Lab.Proc b = pinhole.startClient(Peer.B, "--listen-port", "40001");
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the first tunnel", server, a, b);
        say("The tunnel started on the server's relay; it moves to the direct path, which needs no server.");
        assertTrue(pinhole.awaitPath("direct", Duration.ofSeconds(15)),
            "not direct: a " + pinhole.status(Peer.A) + ", b " + pinhole.status(Peer.B));

        say("Stop the rendezvous server.");
        lab.stop(server);
        assertFalse(server.isAlive());

        say("The tunnel keeps working without it: " + PINGS_WITHOUT_SERVER + " pings, 1 s apart, all answered.");
        Lab.Result r = lab.exec("a", Duration.ofSeconds(PINGS_WITHOUT_SERVER + 15L), "ping", "-n",
            "-c", String.valueOf(PINGS_WITHOUT_SERVER), "-i", "1", "-W", "2", Peer.A.remote);
        say("ping A->B without server: " + Pinhole.summary(r.output()));
        assertEquals(0, r.exitCode(), "ping failed with the server down: " + r);
        assertTrue(r.output().contains(PINGS_WITHOUT_SERVER + " packets transmitted, " + PINGS_WITHOUT_SERVER + " received"),
            "pings lost with the server down: " + r);
        pinhole.assertPings(Peer.B, 3);
        assertTrue(a.isAlive() && b.isAlive(), "a client exited while the server was down");

        say("Start a new server instance on the same address.");
        Lab.Proc server2 = pinhole.startServer();

        say("Restart client B on a different UDP port: its old NAT mapping is useless now.");
        lab.stop(b);
        Lab.Proc b2 = pinhole.startClient(Peer.B, "--listen-port", "40002");
        pinhole.awaitTunnel(Pinhole.RECOVERY, "the tunnel through the new server", server2, a, b2);
        pinhole.assertPings(Peer.A, 3);
        pinhole.assertPings(Peer.B, 3);

        say("NAT B now maps B's new port 40002 (the old server was gone, so the new one paired them):");
        Lab.Result ct = lab.exec("natb", Duration.ofSeconds(10), "conntrack", "-L", "-p", "udp", "--orig-port-src", "40002");
        say(ct.output().strip());
        assertTrue(ct.output().contains("sport=40002"), "no NAT B mapping from B's new port 40002: " + ct);
    }
}
