package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import io.pinhole.e2e.Pinhole.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** NAT A forgets every mapping (as a rebooted home router would); the tunnel comes back by itself. */
@ExtendWith(LabExtension.class)
class ConntrackFlushIT {

    @Test
    void recoversAfterNatAForgetsItsMappings(Pinhole pinhole) {
        Lab lab = pinhole.lab();
        Pinhole.Running run = pinhole.startAll();

        say("NAT A holds the UDP mapping of the tunnel:");
        Lab.Result before = lab.exec("nata", Duration.ofSeconds(10), "conntrack", "-L", "-p", "udp");
        say(before.output().strip());
        assertTrue(before.output().contains("src=10.0.1.2"), "NAT A has no mapping for peer A: " + before);

        say("Flush NAT A's connection tracking table.");
        Lab.Result flush = lab.exec("nata", Duration.ofSeconds(10), "conntrack", "-F");
        assertTrue(flush.ok(), "conntrack -F failed: " + flush);
        say(flush.output().strip());

        say("The tunnel works again, both ways, within " + Pinhole.TUNNEL_UP.toSeconds() + " s.");
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel after conntrack -F on NAT A", run.server(), run.a(), run.b());
        pinhole.assertPings(Peer.A, 3);
        pinhole.assertPings(Peer.B, 3);
    }
}
