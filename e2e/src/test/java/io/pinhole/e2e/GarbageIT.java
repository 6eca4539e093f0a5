package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import io.pinhole.e2e.Pinhole.Peer;
import io.pinhole.e2e.tools.UdpGarbage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The rendezvous server takes a burst of garbage datagrams and still pairs two peers afterwards. */
@ExtendWith(LabExtension.class)
class GarbageIT {

    static final int DATAGRAMS = 50_000;
    static final int SOURCE_PORTS = 64;
    /** 1 ms pause every PACE datagrams: a burst, yet slow enough that most reach the server's parser. */
    static final int PACE = 50;

    @Test
    void serverSurvivesGarbageAndStillPairsPeers(Pinhole pinhole) {
        Lab lab = pinhole.lab();
        Lab.Proc server = pinhole.startServer();
        long seed = System.nanoTime();

        say("From the internet router, send " + DATAGRAMS + " datagrams of random bytes and random sizes to the server (seed " + seed + ").");
        long[] before = udpCounters(lab);
        Lab.Result burst = lab.exec("inet", Duration.ofSeconds(180), Pinhole.javaTool(UdpGarbage.class,
            Pinhole.RDV_IP, String.valueOf(Pinhole.RDV_PORT), String.valueOf(DATAGRAMS), String.valueOf(SOURCE_PORTS), String.valueOf(seed),
            String.valueOf(PACE)));
        say(burst.output().strip());
        assertTrue(burst.ok(), "the garbage sender failed: " + burst);
        long[] after = udpCounters(lab);
        say("rdv UDP counters during the burst: delivered to a socket " + (after[0] - before[0])
            + ", no port " + (after[1] - before[1]) + ", receive errors (buffer full etc.) " + (after[2] - before[2]));
        assertTrue(after[1] == before[1], "garbage hit a closed port on rdv: the server was not listening");

        say("The server is still running.");
        assertTrue(server.isAlive(), "the rendezvous server died from garbage: exit " + server.exitCode().orElse(null));

        say("A fresh pair of clients still gets a tunnel through it.");
        Lab.Proc a = pinhole.startClient(Peer.A);
        Lab.Proc b = pinhole.startClient(Peer.B);
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel after the garbage burst", server, a, b);
        pinhole.assertPings(Peer.A, 3);
        pinhole.assertPings(Peer.B, 3);
        assertTrue(server.isAlive(), "the rendezvous server exited");
    }

    /** InDatagrams, NoPorts, InErrors of UDP in rdv's /proc/net/snmp (per namespace). */
    static long[] udpCounters(Lab lab) {
        Lab.Result r = lab.exec("rdv", Duration.ofSeconds(10), "cat", "/proc/net/snmp");
        String[] names = null;
        for (String line : r.output().lines().toList()) {
            if (!line.startsWith("Udp: ")) {
                continue;
            }
            String[] f = line.substring(5).trim().split("\\s+");
            if (names == null) {
                names = f;
            } else {
                long[] out = new long[3];
                for (int i = 0; i < names.length; i++) {
                    switch (names[i]) {
                        case "InDatagrams" -> out[0] = Long.parseLong(f[i]);
                        case "NoPorts" -> out[1] = Long.parseLong(f[i]);
                        case "InErrors" -> out[2] = Long.parseLong(f[i]);
                        default -> { }
                    }
                }
                return out;
            }
        }
        throw new IllegalStateException("no Udp counters in rdv's /proc/net/snmp: " + r);
    }
}
