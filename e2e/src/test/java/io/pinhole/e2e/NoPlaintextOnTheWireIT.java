package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.pinhole.e2e.Pinhole.Peer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What crosses the internet is ciphertext: tcpdump on NAT A's WAN and on the rendezvous host,
 * from before the clients start until after pings with a known payload pattern and a TCP
 * transfer of a file made of a known 64-byte marker, finds UDP traffic of the right size and
 * never the pattern, the marker or the tunnel's inner IP addresses; the same search on B's
 * tun0 (the plaintext side) finds all three, so the search itself works.
 */
@ExtendWith(LabExtension.class)
class NoPlaintextOnTheWireIT {

    static final String PATTERN = "deadbeefcafebabe";
    static final int PINGS = 10;
    static final int PING_SIZE = 1000;
    static final int FILE_SIZE = 1 << 20;
    static final int PORT = 9000;

    @Test
    void onlyCiphertextCrossesTheInternet(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        say("Capture everything on NAT A's WAN and on the rendezvous host, before anything runs.");
        Capture wan = Capture.start(lab, "nata", "wan", "nata-wan");
        Capture rdv = Capture.start(lab, "rdv", "eth0", "rdv-eth0");
        pinhole.startAll();
        say("And, as the control, B's tun0: the plaintext side of the tunnel.");
        Capture tun = Capture.start(lab, "b", Pinhole.DEV, "b-tun0");

        say("A pings B and B pings A, " + PINGS + " times each, " + PING_SIZE + "-byte payloads filled with " + PATTERN + ".");
        Net.assertPings(lab, "a", Peer.A.remote, PINGS, "-p", PATTERN, "-s", String.valueOf(PING_SIZE));
        Net.assertPings(lab, "b", Peer.B.remote, PINGS, "-p", PATTERN, "-s", String.valueOf(PING_SIZE));

        byte[] marker = marker();
        say("A sends B, over TCP, " + FILE_SIZE + " bytes made of one 64-byte marker repeated: " + new String(marker, StandardCharsets.US_ASCII));
        Path sent = lab.logDir().resolve("marker.bin");
        Path received = lab.logDir().resolve("marker.received");
        byte[] file = new byte[FILE_SIZE];
        for (int i = 0; i < FILE_SIZE; i += marker.length) {
            System.arraycopy(marker, 0, file, i, marker.length);
        }
        Files.write(sent, file);
        Net.transfer(lab, "a", "b", Peer.B.local, PORT, sent, received);

        List<Pcap.Packet> wanPackets = wan.stop();
        List<Pcap.Packet> rdvPackets = rdv.stop();
        tun.stop();
        for (Capture c : List.of(wan, rdv)) { // (the control may miss a few: it only has to show the needles)
            assertTrue(c.droppedByKernel() <= 0, "tcpdump lost " + c.droppedByKernel() + " packets on "
                + c.file().getFileName() + ": the search would be incomplete");
        }

        Map<String, byte[]> needles = new LinkedHashMap<>();
        needles.put("ping pattern " + PATTERN, HexFormat.of().parseHex(PATTERN));
        needles.put("64-byte marker", marker);
        for (int q = 0; q < 4; q++) {
            byte[] quarter = new byte[16];
            System.arraycopy(marker, q * 16, quarter, 0, 16);
            needles.put("marker bytes " + (q * 16) + "-" + (q * 16 + 15), quarter);
        }
        // inner IPv4 header: source and destination tunnel addresses side by side
        needles.put("inner IP header 10.10.0.1 > 10.10.0.2", HexFormat.of().parseHex("0a0a00010a0a0002"));
        needles.put("inner IP header 10.10.0.2 > 10.10.0.1", HexFormat.of().parseHex("0a0a00020a0a0001"));

        say("Control: the plaintext side shows every needle.");
        byte[] tunBytes = Files.readAllBytes(tun.file());
        for (Map.Entry<String, byte[]> n : needles.entrySet()) {
            assertTrue(Pcap.indexOf(tunBytes, n.getValue()) >= 0, "the control capture on B's tun0 lacks the " + n.getKey()
                + ": the search cannot be trusted");
        }

        say("The internet side: UDP of the right size, and none of the needles anywhere in the captures.");
        long wanUdp = udpPayloadBytes(wanPackets, "198.51.100.2", "192.0.2.2");
        long wanUdpBack = udpPayloadBytes(wanPackets, "192.0.2.2", "198.51.100.2");
        long rdvUdp = rdvPackets.stream().filter(Pcap.Packet::isUdp).mapToLong(p -> p.payload().length).sum();
        long rdvUdpCount = rdvPackets.stream().filter(Pcap.Packet::isUdp).count();
        say("NAT A's WAN: " + wanPackets.size() + " packets, UDP payload A->B " + wanUdp + " bytes, B->A " + wanUdpBack
            + " bytes; pcap " + wan.size() + " bytes");
        say("rendezvous host: " + rdvUdpCount + " UDP datagrams, " + rdvUdp + " payload bytes; pcap " + rdv.size() + " bytes");
        assertTrue(wanUdp >= FILE_SIZE + (long) PINGS * PING_SIZE,
            "the file and the pings should have crossed NAT A's WAN as UDP: only " + wanUdp + " bytes A->B");
        assertTrue(wanUdpBack >= (long) PINGS * PING_SIZE, "the pings should have crossed NAT A's WAN as UDP B->A: " + wanUdpBack + " bytes");
        assertTrue(rdvUdpCount >= 4 && rdvUdp >= 4 * 52, "the registrations should have reached the rendezvous host: "
            + rdvUdpCount + " datagrams, " + rdvUdp + " bytes");
        List<String> leaks = new ArrayList<>();
        for (Capture c : List.of(wan, rdv)) {
            byte[] all = Files.readAllBytes(c.file());
            for (Map.Entry<String, byte[]> n : needles.entrySet()) {
                int at = Pcap.indexOf(all, n.getValue());
                if (at >= 0) {
                    leaks.add(n.getKey() + " at byte " + at + " of " + c.file().getFileName());
                }
            }
        }
        assertTrue(leaks.isEmpty(), "plaintext on the wire: " + leaks);
        say("No needle in " + wan.size() + " + " + rdv.size() + " captured bytes.");

        Files.delete(sent); // kept only when the test fails, with the captures
        Files.delete(received);
        for (Capture c : List.of(wan, rdv, tun)) {
            c.delete();
        }
    }

    /** 64 printable bytes, random per run, so no earlier traffic can contain them by accident. */
    static byte[] marker() {
        byte[] r = new byte[20];
        new SecureRandom().nextBytes(r);
        String s = "pinhole-plaintext-marker-" + HexFormat.of().formatHex(r);
        s = (s + "-".repeat(64)).substring(0, 64);
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static long udpPayloadBytes(List<Pcap.Packet> packets, String src, String dst) {
        return packets.stream().filter(p -> p.isUdp() && p.src().equals(src) && p.dst().equals(dst))
            .mapToLong(p -> p.payload().length).sum();
    }
}
