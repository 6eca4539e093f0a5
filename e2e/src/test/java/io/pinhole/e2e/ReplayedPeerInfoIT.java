package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.pinhole.e2e.Pinhole.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Recorded PEER_INFOs replayed at a running client from the rendezvous server's own address
 * change nothing (issue 9, item 3). The attacker records every PEER_INFO the server sends B
 * (on NAT B's WAN), among them the one about A's first run; A restarts (a new session), and the
 * tunnel comes back. Then, while A and B ping each other every 200 ms, the attacker replays the
 * recordings to B ten times, spoofed from 203.0.113.10:3478, so they pass NAT B through B's own
 * mapping to the server and reach B: before PEER_INFO named the REGISTER it answers, each replay
 * of the old one made B wipe its WireGuard keys ("renewing") and punch again ("restarted").
 * Now B drops them: no such line, no ping lost beyond one, the path stays where it was.
 */
@ExtendWith(LabExtension.class)
class ReplayedPeerInfoIT {
    private static final int REPLAYS = 10;

    @Test
    void recordedPeerInfosReplayedFromTheServersAddressChangeNothing(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        Attacker attacker = Attacker.add(lab);

        say("Record what the server sends B, from the start (NAT B's WAN).");
        Capture record = Capture.start(lab, "natb", "wan", "natb-wan-record", "udp");
        Pinhole.Running run = pinhole.startAll();
        Lab.Proc server = run.server();
        Lab.Proc b = run.b();

        say("A restarts: a new session, which the server tells B in a new PEER_INFO.");
        lab.stop(run.a());
        Lab.Proc a2 = pinhole.startClient(Peer.A);
        pinhole.awaitTunnel(Pinhole.RECOVERY, "the tunnel with the restarted A", server, a2, b);
        assertTrue(pinhole.awaitPath("direct", Duration.ofSeconds(20)),
            "not direct: a " + pinhole.status(Peer.A) + ", b " + pinhole.status(Peer.B));
        Thread.sleep(2000); // let the LAN-settling and path probes of the new tunnel pass
        Attacker.Registration regB = Attacker.registration(server, Pinhole.shortId(pinhole.publicKey(Peer.B)));
        assertNotNull(regB, "the server never logged B's registration");
        String serverEndpoint = Pinhole.RDV_IP + ":" + Pinhole.RDV_PORT;
        List<byte[]> peerInfos = record.stop().stream()
            .filter(p -> p.isUdp() && p.srcEndpoint().equals(serverEndpoint) && p.dstEndpoint().equals(regB.endpoint()))
            .map(Pcap.Packet::payload).filter(d -> d.length > 0 && (d[0] & 0xff) == 0x52).toList();
        say("Recorded " + peerInfos.size() + " PEER_INFO(s) from the server to B at " + regB.endpoint());
        assertTrue(peerInfos.size() >= 2, "expected PEER_INFOs about both of A's runs: " + peerInfos.size());
        String pathBefore = pinhole.status(Peer.B).get("endpoint");

        attacker.spoof(Attacker.AS_RDV, Pinhole.RDV_IP, Pinhole.RDV_PORT);
        Capture intoB = Capture.start(lab, "natb", "lan", "natb-lan-replays", "udp");
        int[] logB = {b.logText().length()};
        int logA = a2.logText().length();

        say("A and B ping each other every 200 ms while the attacker replays the recordings " + REPLAYS
            + " times, 100 ms apart, spoofed from the server.");
        Lab.Proc pingA = lab.start("a", "ping-a", "ping", "-n", "-c", "1000", "-i", "0.2", "-W", "2", Peer.A.remote);
        Lab.Proc pingB = lab.start("b", "ping-b", "ping", "-n", "-c", "1000", "-i", "0.2", "-W", "2", Peer.B.remote);
        Thread.sleep(1000);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < REPLAYS; i++) {
            peerInfos.forEach(d -> lines.add(ForgedPacketsIT.line(Attacker.AS_RDV, d)));
        }
        Path file = lab.logDir().resolve("replayed-peer-infos.txt");
        Files.write(file, lines);
        say("attacker: " + attacker.send(file, regB.ip(), regB.port(), 100_000).output().strip());
        Thread.sleep(3000);
        lab.interrupt(pingA);
        lab.interrupt(pingB);
        assertTrue(Lab.await(Duration.ofSeconds(10), Duration.ofMillis(100), () -> !pingA.isAlive() && !pingB.isAlive()),
            "ping did not stop");

        int[] countsA = ForgedPacketsIT.pingCounts(pingA);
        int[] countsB = ForgedPacketsIT.pingCounts(pingB);
        long reachedB = intoB.stop().stream().filter(p -> p.isUdp() && p.srcEndpoint().equals(serverEndpoint))
            .filter(p -> peerInfos.stream().anyMatch(d -> Arrays.equals(d, p.payload()))).count();
        String alarms = ForgedPacketsIT.newAlarms(b, logB);
        String alarmsA = a2.logText().substring(logA).lines()
            .filter(l -> ForgedPacketsIT.ALARMS.stream().anyMatch(l::contains)).reduce((x, y) -> x + " | " + y)
            .orElse("");
        say("replays that reached B (NAT B's LAN side): " + reachedB + " of " + lines.size()
            + "; pings A->B " + countsA[1] + "/" + countsA[0] + ", B->A " + countsB[1] + "/" + countsB[0]);
        say("B's new log lines that would mean it changed its mind: " + (alarms.isEmpty() ? "none" : alarms));

        assertAll("replayed PEER_INFOs",
            () -> assertEquals(lines.size(), reachedB, "not every replay reached B: the test would prove nothing"),
            () -> assertEquals("", alarms, "B reacted to a replayed PEER_INFO"),
            () -> assertEquals("", alarmsA, "A's tunnel was disturbed"),
            () -> assertTrue(countsA[1] >= countsA[0] - 1, "pings lost A->B: " + countsA[1] + "/" + countsA[0]),
            () -> assertTrue(countsB[1] >= countsB[0] - 1, "pings lost B->A: " + countsB[1] + "/" + countsB[0]),
            () -> assertEquals(pathBefore, pinhole.status(Peer.B).get("endpoint"), "B's path moved"),
            () -> assertEquals("direct", pinhole.status(Peer.B).get("path"), "B left the direct path"));
        pinhole.assertPings(Peer.A, 3);
        assertTrue(server.isAlive() && a2.isAlive() && b.isAlive(), "a program exited");
    }
}
