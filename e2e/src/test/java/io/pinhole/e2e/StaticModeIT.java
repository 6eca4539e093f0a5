package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Static mode on both sides, chownat's "no third party": each peer knows the other's public
 * endpoint (its NAT's address and a fixed port, which these home NATs preserve), no rendezvous
 * server runs anywhere, and the WireGuard initiations themselves open both NATs.
 */
@ExtendWith(LabExtension.class)
class StaticModeIT {
    private static final String A_PUBLIC = "198.51.100.2:51820";
    private static final String B_PUBLIC = "192.0.2.2:51821";

    @Test
    void twoNatedPeersWithStaticEndpointsAndNoServerGetATunnel(Pinhole pinhole) {
        say("No rendezvous server is started. A and B are each told the other's public endpoint.");
        Lab.Proc a = pinhole.startStaticClient(Peer.A, B_PUBLIC, "--listen-port", "51820");
        Lab.Proc b = pinhole.startStaticClient(Peer.B, A_PUBLIC, "--listen-port", "51821");

        say("Their first initiations are dropped by the other NAT's input filter; the retries pass.");
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the static tunnel", a, b);
        pinhole.assertPings(Peer.A, 5);
        pinhole.assertPings(Peer.B, 5);
        assertTrue(a.awaitLog("tunnel up", Pinhole.TUNNEL_UP) && b.awaitLog("tunnel up", Pinhole.TUNNEL_UP),
            "each side logs 'tunnel up'");

        say("B dies without a word and comes back on the same port: A finds it again with no server.");
        pinhole.lab().kill(b);
        Lab.Proc b2 = pinhole.startStaticClient(Peer.B, A_PUBLIC, "--listen-port", "51821");
        pinhole.awaitTunnel(Pinhole.RECOVERY, "the static tunnel after B's restart", a, b2);
        pinhole.assertPings(Peer.A, 3);
        pinhole.assertPings(Peer.B, 3);
    }
}
