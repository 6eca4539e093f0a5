package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A replayed punch probe must not move the tunnel (issue 9, item 2). With the direct path cut
 * between the NATs, both peers are on the relay and A keeps probing B; the probes die at NAT B,
 * but an attacker captured them on the way (NAT A's WAN) and replays them to B from its own
 * address (through a port forward on NAT B, as a full-cone NAT would let it). A probe is
 * authenticated but not fresh to B: B answers each new one with one ack of its size, the path
 * stays on the relay, the attacker gets no tunnel datagram and no ping is lost. Probes of an
 * earlier run of A (A restarted) get nothing at all.
 */
@ExtendWith(LabExtension.class)
class ReplayedProbeIT {
    @Test
    void capturedProbesReplayedFromAThirdAddressDoNotMoveTheTunnel(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        Attacker attacker = Attacker.add(lab);
        Lab.Proc server = pinhole.startServer();
        Lab.Proc a = pinhole.startClient(Peer.A);
        Lab.Proc b = pinhole.startClient(Peer.B);
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel", server, a, b);
        assertTrue(pinhole.awaitPath("direct", Duration.ofSeconds(15)), "direct first: " + pinhole.status(Peer.A));
        Attacker.Registration regA = Attacker.registration(server, Pinhole.shortId(pinhole.publicKey(Peer.A)));
        Attacker.Registration regB = Attacker.registration(server, Pinhole.shortId(pinhole.publicKey(Peer.B)));
        assertNotNull(regA);
        assertNotNull(regB);

        say("NAT B drops all UDP between the two NATs; the attacker listens on NAT A's WAN.");
        Capture wanA = Capture.start(lab, "nata", "wan", "nata-wan-cut", "udp");
        cutAtB(lab);
        assertTrue(pinhole.awaitPath("relayed", Duration.ofSeconds(20)), "both on the relay: " + pinhole.status(Peer.B));
        Thread.sleep(3_000); // A's punching round after the fallback: probes every 200 ms, none reaches B
        List<byte[]> probes = wanA.stop().stream()
            .filter(p -> p.isUdp() && p.srcEndpoint().equals(regA.endpoint()) && p.dstEndpoint().equals(regB.endpoint()))
            .map(Pcap.Packet::payload).filter(d -> (d[0] & 0xff) == 0x53).toList();
        say("captured " + probes.size() + " PUNCH datagrams A -> B that never reached B");
        assertTrue(probes.size() >= 5, "A's probes toward B were captured: " + probes.size());

        Attacker.forwardToB(lab, regB.port(), ForgedPacketsIT.localPort(b));
        Capture atk = Capture.start(lab, Attacker.NODE, "eth0", "atk-in", "udp");
        int logB = b.logText().length();
        Lab.Proc ping = lab.start("a", "ping-a", "ping", "-n", "-c", "50", "-i", "0.2", "-W", "2", Peer.A.remote);
        Thread.sleep(500);
        say("The attacker replays them to B from " + Attacker.IP + ", three times over.");
        replay(lab, attacker, probes, regB, "replay-1.txt");
        Thread.sleep(2_000);

        assertEquals("relayed", pinhole.status(Peer.B).get("path"), "B's path did not move: " + pinhole.status(Peer.B));
        String newLog = b.logText().substring(logB);
        assertFalse(newLog.contains("direct path to peer") || newLog.contains(" moved from ")
            || newLog.contains("better path"), "B moved its path:\n" + newLog);
        List<Pcap.Packet> toAttacker = atk.stop().stream()
            .filter(p -> p.isUdp() && p.src().equals(regB.ip()) && p.dport() == Attacker.OWN).toList();
        long tunnel = toAttacker.stream().filter(p -> p.payload().length > 0 && p.payload()[0] >= 1
            && p.payload()[0] <= 4).count();
        long acks = toAttacker.stream().filter(p -> (p.payload()[0] & 0xff) == 0x53).count();
        say("the attacker got " + acks + " acks (of " + probes.size() + " distinct probes sent 3 times) and " + tunnel
            + " tunnel datagrams");
        assertEquals(0, tunnel, "the attacker received tunnel datagrams");
        assertTrue(acks <= probes.size(), "at most one ack per distinct probe: " + acks);
        assertTrue(toAttacker.stream().allMatch(p -> p.payload().length <= probes.get(0).length),
            "no answer larger than the probe");

        assertTrue(Lab.await(Duration.ofSeconds(20), Duration.ofMillis(200), () -> !ping.isAlive()));
        String pings = ping.logText();
        say("ping a->b during the replays: " + Pinhole.summary(pings));
        assertTrue(pings.contains("50 packets transmitted, 50 received"), "no ping lost: " + Pinhole.summary(pings));

        say("A restarts (a new session); the attacker replays the old run's probes: B answers none.");
        lab.stop(a);
        Lab.Proc a2 = pinhole.startClient(Peer.A);
        pinhole.awaitTunnel(Pinhole.RECOVERY, "the tunnel with the restarted A", server, a2, b);
        Capture atk2 = Capture.start(lab, Attacker.NODE, "eth0", "atk-in-2", "udp");
        replay(lab, attacker, probes, regB, "replay-2.txt");
        Thread.sleep(1_000);
        long answered = atk2.stop().stream().filter(p -> p.isUdp() && p.src().equals(regB.ip())).count();
        assertEquals(0, answered, "B answered probes of A's earlier run");
        assertEquals("relayed", pinhole.status(Peer.B).get("path"));
        pinhole.assertPings(Peer.A, 3);
    }

    private static void replay(Lab lab, Attacker attacker, List<byte[]> probes, Attacker.Registration to, String name)
            throws Exception {
        List<String> lines = new ArrayList<>();
        for (int round = 0; round < 3; round++) {
            probes.forEach(d -> lines.add(ForgedPacketsIT.line(Attacker.OWN, d)));
        }
        Path file = lab.logDir().resolve(name);
        Files.write(file, lines);
        Lab.Result r = attacker.send(file, to.ip(), to.port(), 20_000);
        say("attacker: " + r.output().strip());
    }

    /** NAT B drops UDP from and to NAT A's public address (before its NAT), the rendezvous host still reachable. */
    private static void cutAtB(Lab lab) throws Exception {
        Path rules = Files.createTempFile("cut", ".nft");
        rules.toFile().deleteOnExit();
        Files.writeString(rules, String.join("\n",
            "table ip pinhole_cut {",
            "  chain pre {",
            "    type filter hook prerouting priority -300; policy accept;",
            "    ip saddr 198.51.100.2 meta l4proto udp drop",
            "  }",
            "  chain fwd_cut {",
            "    type filter hook forward priority -10; policy accept;",
            "    ip daddr 198.51.100.2 meta l4proto udp drop",
            "  }",
            "}", ""));
        Lab.Result r = lab.execWithInput("natb", Duration.ofSeconds(10), rules, "nft", "-f", "-");
        assertTrue(r.ok(), "nft in natb: " + r);
    }
}
