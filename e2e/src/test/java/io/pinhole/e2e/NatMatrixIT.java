package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * NatMatrixIT: the NAT matrix of lab/matrix.sh (which writes docs/nat-matrix.md) in
 * {@code mvn verify}, with the real programs in the namespace lab: every pair of NAT behaviours
 * and the same-NAT cells. Each case says which path the tunnel must end on, read from the
 * clients' status files (the file {@code pinhole status} prints): direct wherever the NATs allow
 * it, relayed where only the rendezvous server can carry the packets. The two netem cells (20%
 * loss, 100 ms) run in lab/matrix.sh only: five of five pings cannot be asked of a link that
 * loses a fifth of them. Plus the fallback to the relay and back.
 */
@ExtendWith(LabExtension.class)
class NatMatrixIT {
    /**
     * After the first pings, how long the path may take to settle: a LAN candidate, or, behind a
     * symmetric NAT, the first punching round (10 s) and then one birthday attempt (10 s).
     */
    private static final Duration SETTLE = Duration.ofSeconds(30);

    @ParameterizedTest(name = "{0}: ends {2}")
    @CsvSource(delimiter = ';', value = {
        // cell                    ; lab.sh up options                    ; final path ; a's endpoint starts with
        "home-home                 ; --nat-a home --nat-b home            ; direct     ; 192.0.2.2:",
        "home-open                 ; --nat-a home --nat-b open            ; direct     ; 192.0.2.2:",
        "home-symmetric            ; --nat-a home --nat-b symmetric       ; direct     ; 192.0.2.2:",
        "home-cgnat                ; --nat-a home --nat-b cgnat           ; direct     ; 192.0.2.2:",
        "home-blocked              ; --nat-a home --nat-b blocked         ; relayed    ; 203.0.113.10:",
        "open-open                 ; --nat-a open --nat-b open            ; direct     ; 192.0.2.2:",
        "open-symmetric            ; --nat-a open --nat-b symmetric       ; direct     ; 192.0.2.2:",
        "open-cgnat                ; --nat-a open --nat-b cgnat           ; direct     ; 192.0.2.2:",
        "open-blocked              ; --nat-a open --nat-b blocked         ; relayed    ; 203.0.113.10:",
        "symmetric-symmetric       ; --nat-a symmetric --nat-b symmetric  ; relayed    ; 203.0.113.10:",
        "symmetric-cgnat           ; --nat-a symmetric --nat-b cgnat      ; direct     ; 192.0.2.2:",
        "symmetric-blocked         ; --nat-a symmetric --nat-b blocked    ; relayed    ; 203.0.113.10:",
        "cgnat-cgnat               ; --nat-a cgnat --nat-b cgnat          ; direct     ; 192.0.2.2:",
        "cgnat-blocked             ; --nat-a cgnat --nat-b blocked        ; relayed    ; 203.0.113.10:",
        "blocked-blocked           ; --nat-a blocked --nat-b blocked      ; relayed    ; 203.0.113.10:",
        "same-hairpin-off          ; --same-nat --hairpin off             ; direct     ; 10.0.1.3:",
        "same-hairpin-on           ; --same-nat --hairpin on              ; direct     ; 10.0.1.3:",
        "same-isolated-hairpin-off ; --same-nat --isolate --hairpin off   ; relayed    ; 203.0.113.10:",
        "same-isolated-hairpin-on  ; --same-nat --isolate --hairpin on    ; direct     ; 198.51.100.2:",
    })
    void cell(String cell, String labArgs, String path, String endpointPrefix) {
        try (Lab lab = Lab.upWith(labArgs.trim().split("\\s+"))) {
            Pinhole pinhole = new Pinhole(lab);
            say("Cell " + cell + ": start the server and both clients together.");
            Lab.Proc server = pinhole.startServer();
            Lab.Proc a = pinhole.startClient(Peer.A);
            Lab.Proc b = pinhole.startClient(Peer.B);
            Duration up = pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel", server, a, b);

            say("The path settles on " + path + " (both status files say so; they are rewritten once a second).");
            boolean settled = Lab.await(SETTLE, Duration.ofMillis(250), () -> settledOn(pinhole, Peer.A, path)
                && settledOn(pinhole, Peer.B, path));
            Map<String, String> sa = pinhole.status(Peer.A);
            Map<String, String> sb = pinhole.status(Peer.B);
            say("a: " + sa);
            say("b: " + sb);
            assertTrue(settled, cell + ": expected both on a " + path + " path; a " + sa + ", b " + sb);
            assertTrue(sa.get("endpoint").startsWith(endpointPrefix), cell + ": a's endpoint " + sa.get("endpoint"));
            assertEquals("up", sa.get("tunnel"));
            assertEquals("up", sb.get("tunnel"));
            assertTrue(!sa.get("rtt_ms").isEmpty(), "a measured the RTT of its path: " + sa);

            pinhole.assertPings(Peer.A, 5);
            pinhole.assertPings(Peer.B, 5);
            if (path.equals("relayed")) {
                assertTrue(server.logText().contains("relaying for"), "the server says it relays: " + server.log());
            }
            say(cell + ": tunnel up after " + up.toMillis() + " ms, on a " + path + " path to " + sa.get("endpoint"));
        }
    }

    /**
     * A direct path that goes silent falls back to the relay without losing the tunnel, and the
     * tunnel goes direct again once the direct path works again.
     */
    @Test
    void aSilentDirectPathFallsBackToTheRelayAndComesBack() {
        try (Lab lab = Lab.up("home", "home")) {
            Pinhole pinhole = new Pinhole(lab);
            Lab.Proc server = pinhole.startServer();
            Lab.Proc a = pinhole.startClient(Peer.A);
            Lab.Proc b = pinhole.startClient(Peer.B);
            pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel", server, a, b);
            assertTrue(pinhole.awaitPath("direct", SETTLE), "direct first: a " + pinhole.status(Peer.A)
                + ", b " + pinhole.status(Peer.B));

            say("NAT A now drops all UDP between the two NATs (the rendezvous host still gets through).");
            cut(lab, true);
            long cutAt = System.nanoTime();
            boolean fellBack = pinhole.awaitPath("relayed", Duration.ofSeconds(20));
            long fallbackMillis = (System.nanoTime() - cutAt) / 1_000_000;
            assertTrue(fellBack, "both fall back to the relay: a " + pinhole.status(Peer.A) + ", b " + pinhole.status(Peer.B));
            say("both on the relay " + fallbackMillis + " ms after the cut");
            assertTrue(a.logText().contains("falling back to the relay") || a.logText().contains("following it to the relay"),
                "a logs the fallback");
            pinhole.assertPings(Peer.A, 5);
            pinhole.assertPings(Peer.B, 5);

            say("The direct path works again: within the upgrade interval (60 s + 10% + a round) the tunnel goes direct.");
            cut(lab, false);
            boolean direct = pinhole.awaitPath("direct", Duration.ofSeconds(90));
            assertTrue(direct, "back to direct: a " + pinhole.status(Peer.A) + ", b " + pinhole.status(Peer.B));
            pinhole.assertPings(Peer.A, 5);
            pinhole.assertPings(Peer.B, 5);
        }
    }

    private static boolean settledOn(Pinhole pinhole, Peer peer, String path) {
        Map<String, String> status = pinhole.status(peer);
        return path.equals(status.get("path")) && "up".equals(status.get("tunnel")) && !status.get("rtt_ms").isEmpty();
    }

    /** Adds (or removes) a table in NAT A dropping forwarded UDP to and from NAT B. */
    private static void cut(Lab lab, boolean on) {
        Lab.Result r = on
            ? lab.execWithInput("nata", Duration.ofSeconds(10), writeTemp(String.join("\n",
                "table ip pinhole_cut {",
                "  chain forward_cut {",
                "    type filter hook forward priority -10; policy accept;",
                "    ip daddr 192.0.2.2 meta l4proto udp drop",
                "    ip saddr 192.0.2.2 meta l4proto udp drop",
                "  }",
                "}", "")), "nft", "-f", "-")
            : lab.exec("nata", Duration.ofSeconds(10), "nft", "delete", "table", "ip", "pinhole_cut");
        assertTrue(r.ok(), "nft in nata: " + r);
    }

    private static Path writeTemp(String text) {
        try {
            Path p = Files.createTempFile("nft", ".rules");
            Files.writeString(p, text);
            p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
