package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.pinhole.e2e.Pinhole.Peer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * pinhole speaks WireGuard: a plain {@code wireguard-go} peer (the reference userspace
 * implementation, configured with {@code wg}) is its partner, with no rendezvous. Each case gets
 * its own lab; pinhole's tunnel end is 10.10.0.1, wireguard-go's 10.10.0.2.
 */
@ExtendWith(LabExtension.class)
class WireGuardInteropIT {

    static final String PINHOLE_IP = "10.10.0.1";
    static final String WG_IP = "10.10.0.2";
    static final int WG_PORT = 51820;
    static final int PINHOLE_PORT = 51821;
    static final int SIZE = 10 * 1024 * 1024;
    static final Duration UP = Duration.ofSeconds(30);

    @BeforeEach
    void tools() {
        WireGuardGo.requireTools();
    }

    @Test
    void pinholeBehindNatTalksToWireGuardGo(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        say("wireguard-go on the public host " + Pinhole.RDV_IP + ":" + WG_PORT + " knows pinhole's key but not its address.");
        try (WireGuardGo wg = WireGuardGo.start(lab, "rdv")) {
            wg.configure(WG_PORT, pinhole.publicKey(Peer.A), WG_IP, PINHOLE_IP);

            say("pinhole behind NAT A contacts it directly (--peer-endpoint, no rendezvous).");
            Lab.Proc client = startPinhole(pinhole, "a", wg.publicKey(), "--peer-endpoint", Pinhole.RDV_IP + ":" + WG_PORT);
            Net.awaitPing(lab, "a", WG_IP, UP, client, wg.proc());
            assertTrue(client.awaitLog("tunnel up: WireGuard handshake", Duration.ofSeconds(10)),
                "pinhole never logged the completed WireGuard handshake: " + client.logText());
            say("wg show on the public host:\n" + wg.show());
            assertTrue(wg.latestHandshake() > 0, "wireguard-go reports no handshake with pinhole");
            assertTrue(wg.show().contains("endpoint: 198.51.100.2:"), "wireguard-go should see pinhole at NAT A's public address:\n" + wg.show());

            say("Ping both ways across the tunnel: every ping comes back.");
            Net.assertPings(lab, "a", WG_IP, 5);
            Net.assertPings(lab, "rdv", PINHOLE_IP, 5);

            say("10 MB of random bytes each way over TCP arrive intact.");
            Path aToWg = randomFile(lab, "a-to-wg.bin");
            Path wgToA = randomFile(lab, "wg-to-a.bin");
            Path got1 = lab.logDir().resolve("a-to-wg.received");
            Path got2 = lab.logDir().resolve("wg-to-a.received");
            Net.transfer(lab, "a", "rdv", WG_IP, 9000, aToWg, got1);
            Net.transfer(lab, "rdv", "a", PINHOLE_IP, 9001, wgToA, got2);
            for (Path p : List.of(aToWg, wgToA, got1, got2)) {
                Files.delete(p); // 40 MB per run: kept only when the test fails
            }
            assertHealthy(client);
        }
    }

    /**
     * wireguard-go initiates to a pinhole that only listens. Run twice, once for each order of
     * the two public keys: the side whose key sorts first also initiates when a new path comes
     * up, so each order takes another path through pinhole's handshake code.
     */
    @Test
    void wireGuardGoInitiatesToListeningPinhole(Pinhole pinhole) {
        for (boolean pinholeSortsFirst : new boolean[] {false, true}) {
            wireGuardGoInitiates(pinhole, pinholeSortsFirst);
        }
    }

    private void wireGuardGoInitiates(Pinhole pinhole, boolean pinholeSortsFirst) {
        Lab lab = pinhole.lab();
        say("---- pinhole's public key sorts " + (pinholeSortsFirst ? "first (it also initiates on a new path)"
            : "second (it only answers on a new path)"));
        try (WireGuardGo wg = WireGuardGo.start(lab, "b", pinhole.publicKey(Peer.A), !pinholeSortsFirst)) {
            say("pinhole on the public host only listens (--listen-port " + PINHOLE_PORT + ", no rendezvous, no peer endpoint).");
            Lab.Proc client = startPinhole(pinhole, "rdv", wg.publicKey(), "--listen-port", String.valueOf(PINHOLE_PORT));
            assertTrue(client.awaitLog("waiting for peer", Duration.ofSeconds(30)), "pinhole did not start listening: " + client.logText());
            assertTrue(pinhole.udpListening("rdv", PINHOLE_PORT), "pinhole does not listen on udp " + PINHOLE_PORT);

            say("wireguard-go behind NAT B knows pinhole's endpoint and keeps the NAT open (persistent-keepalive 5).");
            wg.configure(WG_PORT, pinhole.publicKey(Peer.A), WG_IP, PINHOLE_IP,
                "endpoint", Pinhole.RDV_IP + ":" + PINHOLE_PORT, "persistent-keepalive", "5");

            say("wireguard-go initiates; pinhole answers and learns its endpoint (NAT B's public address).");
            Net.awaitPing(lab, "b", PINHOLE_IP, UP, client, wg.proc());
            assertTrue(client.awaitLog("tunnel up: WireGuard handshake", Duration.ofSeconds(10)),
                "pinhole never logged the completed WireGuard handshake: " + client.logText());
            assertTrue(client.logText().contains("path to peer " + Pinhole.shortId(wg.publicKey()) + " open at 192.0.2.2:"),
                "pinhole should have opened the path to NAT B's public address: " + client.logText());
            Net.assertPings(lab, "b", PINHOLE_IP, 5);
            Net.assertPings(lab, "rdv", WG_IP, 5);
            say("wg show behind NAT B:\n" + wg.show());
            assertHealthy(client);
            lab.stop(client);
        }
    }

    @Test
    void presharedKeyOnBothSides(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        Path psk = genpsk(pinhole, "psk");
        try (WireGuardGo wg = WireGuardGo.start(lab, "rdv")) {
            say("Both sides hold the same pre-shared key (from `pinhole genpsk`).");
            wg.configure(WG_PORT, pinhole.publicKey(Peer.A), WG_IP, PINHOLE_IP, "preshared-key", psk.toString());
            Lab.Proc client = startPinhole(pinhole, "a", wg.publicKey(), "--peer-endpoint", Pinhole.RDV_IP + ":" + WG_PORT,
                "--preshared-key", psk.toString());
            assertTrue(client.awaitLog("with pre-shared key", Duration.ofSeconds(30)), "pinhole does not say it uses the PSK: " + client.logText());
            Net.awaitPing(lab, "a", WG_IP, UP, client, wg.proc());
            assertTrue(wg.show().contains("preshared key: (hidden)"), "wireguard-go has no PSK configured:\n" + wg.show());
            Net.assertPings(lab, "a", WG_IP, 5);
            Net.assertPings(lab, "rdv", PINHOLE_IP, 5);
            assertHealthy(client);
        }
    }

    @Test
    void wrongPresharedKeyNeverGetsATunnelWhenPinholeInitiates(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        Path[] psks = twoDifferentPsks(pinhole);
        try (WireGuardGo wg = WireGuardGo.start(lab, "rdv")) {
            say("The two sides hold different pre-shared keys; pinhole behind NAT A initiates (--peer-endpoint).");
            wg.configure(WG_PORT, pinhole.publicKey(Peer.A), WG_IP, PINHOLE_IP, "preshared-key", psks[1].toString());
            Lab.Proc client = startPinhole(pinhole, "a", wg.publicKey(), "--peer-endpoint", Pinhole.RDV_IP + ":" + WG_PORT,
                "--preshared-key", psks[0].toString());
            assertTrue(client.awaitLog("with pre-shared key", Duration.ofSeconds(30)), "pinhole did not start: " + client.logText());
            Capture cap = Capture.start(lab, "rdv", "eth0", "wrong-psk-rdv", "udp", "port", String.valueOf(WG_PORT));

            say("pinhole initiates (at once or after 1 s, and again 5 s later): 8 pings over 8 s, none may come back.");
            Lab.Result fromPinhole = lab.exec("a", Duration.ofSeconds(20), "ping", "-n", "-c", "8", "-i", "1", "-W", "1", WG_IP);
            say("ping a->" + WG_IP + ": " + Net.pingSummary(fromPinhole));
            assertEquals(0, Net.pingCounts(fromPinhole)[1], "a ping crossed a tunnel with mismatched PSKs: " + fromPinhole);
            List<Pcap.Packet> packets = cap.stop();
            long initiations = count(packets, "198.51.100.2", 1);
            long responses = count(packets, Pinhole.RDV_IP, 2);
            say("On the wire: " + initiations + " initiations from pinhole, " + responses + " responses from wireguard-go.");
            assertTrue(initiations >= 1 && responses >= 1, "the handshake was not even attempted: " + packets);
            assertEquals(0, wg.latestHandshake(), "wireguard-go completed a handshake with a wrong PSK:\n" + wg.show());
            assertFalse(client.logText().contains("tunnel up"), "pinhole claims a tunnel with a wrong PSK: " + client.logText());
            say("pinhole is still running and logged no error.");
            assertHealthy(client);
        }
    }

    @Test
    void wrongPresharedKeyNeverGetsATunnelWhenWireGuardGoInitiates(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        Path[] psks = twoDifferentPsks(pinhole);
        // pinhole's key sorts second: it only answers (the other order is wireGuardGoInitiatesToListeningPinhole's)
        try (WireGuardGo wg = WireGuardGo.start(lab, "b", pinhole.publicKey(Peer.A), true)) {
            say("The two sides hold different pre-shared keys; pinhole only listens on the public host, wireguard-go behind NAT B initiates.");
            Lab.Proc client = startPinhole(pinhole, "rdv", wg.publicKey(), "--listen-port", String.valueOf(PINHOLE_PORT),
                "--preshared-key", psks[0].toString());
            assertTrue(client.awaitLog("waiting for peer", Duration.ofSeconds(30)), "pinhole did not start listening: " + client.logText());
            Capture cap = Capture.start(lab, "rdv", "eth0", "wrong-psk-rdv", "udp", "port", String.valueOf(PINHOLE_PORT));
            wg.configure(WG_PORT, pinhole.publicKey(Peer.A), WG_IP, PINHOLE_IP, "preshared-key", psks[1].toString(),
                "endpoint", Pinhole.RDV_IP + ":" + PINHOLE_PORT, "persistent-keepalive", "5");

            say("8 pings from behind NAT B over 8 s, then 5 from the public host: none may come back.");
            Lab.Result fromWg = lab.exec("b", Duration.ofSeconds(20), "ping", "-n", "-c", "8", "-i", "1", "-W", "1", PINHOLE_IP);
            say("ping b->" + PINHOLE_IP + ": " + Net.pingSummary(fromWg));
            Lab.Result fromPinhole = lab.exec("rdv", Duration.ofSeconds(20), "ping", "-n", "-c", "5", "-i", "1", "-W", "1", WG_IP);
            say("ping rdv->" + WG_IP + ": " + Net.pingSummary(fromPinhole));
            List<Pcap.Packet> packets = cap.stop();
            long initiations = count(packets, "192.0.2.2", 1);
            long responses = count(packets, Pinhole.RDV_IP, 2);
            say("On the wire: " + initiations + " initiations from wireguard-go, " + responses + " responses from pinhole.");
            assertTrue(initiations >= 1 && responses >= 1, "the handshake was not even attempted: " + packets);
            assertEquals(0, Net.pingCounts(fromWg)[1], "a ping crossed a tunnel with mismatched PSKs: " + fromWg);
            assertEquals(0, Net.pingCounts(fromPinhole)[1], "a ping crossed a tunnel with mismatched PSKs: " + fromPinhole);
            assertEquals(0, wg.latestHandshake(), "wireguard-go completed a handshake with a wrong PSK:\n" + wg.show());
            say("pinhole is still running and logged no error.");
            assertHealthy(client);
        }
    }

    /** WireGuard messages of {@code type} (first byte, three zero bytes) sent from {@code src}. */
    static long count(List<Pcap.Packet> packets, String src, int type) {
        return packets.stream().filter(p -> p.isUdp() && p.src().equals(src) && p.payload().length >= 4
            && p.payload()[0] == type && p.payload()[1] == 0 && p.payload()[2] == 0 && p.payload()[3] == 0).count();
    }

    /** A PSK for pinhole from `pinhole genpsk` and another for wireguard-go from `wg genpsk`. */
    static Path[] twoDifferentPsks(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        Path pinholePsk = genpsk(pinhole, "psk-pinhole");
        Path wgPsk = lab.logDir().resolve("psk-wg");
        Lab.Result gen = lab.exec("rdv", Duration.ofSeconds(10), "wg", "genpsk");
        assertTrue(gen.ok(), "wg genpsk failed: " + gen);
        Pinhole.writeSecret(wgPsk, gen.output().strip() + "\n");
        assertFalse(Files.readString(pinholePsk).strip().equals(Files.readString(wgPsk).strip()), "two fresh PSKs are equal");
        return new Path[] {pinholePsk, wgPsk};
    }

    // ------------------------------------------------------------------ helpers

    /** Starts {@code pinhole up} in {@code node} with pinhole key A, tunnel 10.10.0.1 -> 10.10.0.2, peer {@code peerKey}. */
    static Lab.Proc startPinhole(Pinhole pinhole, String node, String peerKey, String... extra) {
        List<String> cmd = new ArrayList<>(List.of(pinhole.bin("pinhole"), "up",
            "--private-key", pinhole.privateKeyFile(Peer.A).toString(), "--peer", peerKey,
            "--dev", Pinhole.DEV, "--local", PINHOLE_IP, "--remote", WG_IP,
            "--status-file", pinhole.lab().logDir().resolve("pinhole-" + node + ".status").toString()));
        cmd.addAll(List.of(extra));
        return pinhole.lab().start(node, "pinhole-" + node, cmd.toArray(String[]::new));
    }

    static Path genpsk(Pinhole pinhole, String name) throws Exception {
        Lab.Result r = pinhole.lab().host(Duration.ofSeconds(60), null, pinhole.bin("pinhole"), "genpsk");
        assertTrue(r.ok(), "pinhole genpsk failed: " + r);
        List<String> lines = r.output().strip().lines().toList();
        Path file = pinhole.lab().logDir().resolve(name);
        return Pinhole.writeSecret(file, lines.get(lines.size() - 1).strip() + "\n");
    }

    static Path randomFile(Lab lab, String name) throws Exception {
        byte[] data = new byte[SIZE];
        new SecureRandom().nextBytes(data);
        Path p = lab.logDir().resolve(name);
        Files.write(p, data);
        return p;
    }

    /** pinhole runs and logged no error and no exception. */
    static void assertHealthy(Lab.Proc client) {
        assertTrue(client.isAlive(), client + " exited: " + client.exitCode().orElse(null) + "\n" + client.logText());
        String log = client.logText();
        for (String bad : List.of("[ERROR]", "Exception", "failed, stopping")) {
            assertFalse(log.contains(bad), client + " logged '" + bad + "':\n" + log);
        }
    }
}
