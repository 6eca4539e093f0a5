package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.e2e.Pinhole.Peer;
import io.pinhole.e2e.tools.ForgeRegister;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A live tunnel between two pinhole peers shrugs off an attacker on the public side who has
 * neither peer's private key: forged WireGuard transport messages, replays of real tunnel
 * datagrams (spoofed from A's real endpoint or the rendezvous server, and from the attacker's own address), truncated
 * and bit-flipped copies, forged PUNCH/LEAVE, forged REGISTERED/PEER_INFO (spoofed from the
 * rendezvous server) and a forged REGISTER for A's key. Throughout, a ping from A to B runs:
 * nothing but its echo requests comes out of B's tun0, it loses at most one packet, B keeps
 * sending its tunnel traffic to NAT A's real endpoint, and neither B nor the server changes
 * its mind about where A is.
 */
@ExtendWith(LabExtension.class)
class ForgedPacketsIT {

    static final String PING_PATTERN = "5ca1ab1e0ddba11a";
    /** Lines of B's log that mean it changed its mind about A (or lost the tunnel). */
    static final List<String> ALARMS = List.of("moved from", "punching", "restarted", "left", "tunnel down", "new session",
        "[ERROR]", "[WARN]", "Exception");

    private final SecureRandom random = new SecureRandom();

    @Test
    void forgeriesAndReplaysChangeNothing(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        Attacker attacker = Attacker.add(lab);

        say("Capture NAT A's WAN from the start: the attacker will replay what A sent B.");
        Capture setup = Capture.start(lab, "nata", "wan", "nata-wan-setup", "udp");
        Lab.Proc server = pinhole.startServer("--stats-interval", "1");
        Lab.Proc a = pinhole.startClient(Peer.A);
        Lab.Proc b = pinhole.startClient(Peer.B);
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel", a, b);
        // The tunnel starts on the relay; the capture needs A's WireGuard on the direct path.
        assertTrue(pinhole.awaitPath("direct", Duration.ofSeconds(15)), "direct: " + pinhole.status(Peer.A));
        Net.assertPings(lab, "a", Peer.A.remote, 5);

        String idA = Pinhole.shortId(pinhole.publicKey(Peer.A));
        String idB = Pinhole.shortId(pinhole.publicKey(Peer.B));
        Attacker.Registration regA = Attacker.registration(server, idA);
        Attacker.Registration regB = Attacker.registration(server, idB);
        assertNotNull(regA, "the server never logged A's registration");
        assertNotNull(regB, "the server never logged B's registration");
        String endpointA = regA.endpoint();
        String endpointB = regB.endpoint();
        int portB = localPort(b);
        say("A is at " + endpointA + " (session " + Long.toHexString(regA.session()) + "), B at " + endpointB
            + " (session " + Long.toHexString(regB.session()) + ", local udp port " + portB + ")");

        List<Pcap.Packet> captured = setup.stop();
        List<byte[]> aToB = captured.stream()
            .filter(p -> p.isUdp() && p.srcEndpoint().equals(endpointA) && p.dstEndpoint().equals(endpointB))
            .map(Pcap.Packet::payload).toList();
        say("Captured A->B: " + aToB.size() + " datagrams (" + describe(aToB) + ")");
        assertTrue(aToB.stream().anyMatch(d -> d[0] == 4), "no WireGuard transport message A->B captured");
        assertTrue(aToB.stream().anyMatch(d -> (d[0] & 0xff) == 0x53), "no PUNCH A->B captured");

        say("The attacker (" + Attacker.IP + ") gets ready: spoofing rules in its own namespace, and a port forward on NAT B to B.");
        attacker.spoof(Attacker.AS_A, regA.ip(), regA.port());
        attacker.spoof(Attacker.AS_RDV, Pinhole.RDV_IP, Pinhole.RDV_PORT);
        Attacker.forwardToB(lab, regB.port(), portB);
        String hostB = regB.ip();
        int publicPortB = regB.port();

        say("Watch B: its tun0 (what comes out of the tunnel) and NAT B's WAN (where B sends).");
        Capture tun = Capture.start(lab, "b", Pinhole.DEV, "b-tun0-attack");
        Capture natbWan = Capture.start(lab, "natb", "wan", "natb-wan-attack", "udp");
        long rxBefore = Net.linkPackets(lab, "b", Pinhole.DEV)[0];
        int[] logB = {b.logText().length()};
        int logServer = server.logText().length();

        say("A pings B and B pings A without pause (every 200 ms, pattern " + PING_PATTERN + ") while the attacker works.");
        Lab.Proc pingA = lab.start("a", "ping-a", "ping", "-n", "-c", "1000", "-i", "0.2", "-W", "2", "-p", PING_PATTERN,
            Peer.A.remote);
        Lab.Proc pingB = lab.start("b", "ping-b", "ping", "-n", "-c", "1000", "-i", "0.2", "-W", "2", "-p", PING_PATTERN,
            Peer.B.remote);
        Thread.sleep(1000);

        NoisePublicKey pubA = NoisePublicKey.parse(pinhole.publicKey(Peer.A));
        NoisePublicKey pubB = NoisePublicKey.parse(pinhole.publicKey(Peer.B));
        Map<String, String> effects = new LinkedHashMap<>();
        byte[] transport = aToB.stream().filter(d -> d[0] == 4).reduce((x, y) -> y).orElseThrow();
        int indexB = ByteBuffer.wrap(transport, 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        long maxCounter = aToB.stream().filter(d -> d[0] == 4)
            .mapToLong(d -> ByteBuffer.wrap(d, 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong()).max().orElse(0);

        // 1. forged transport messages
        List<String> step = new ArrayList<>();
        for (int port : new int[] {Attacker.OWN, Attacker.AS_A}) {
            for (int i = 0; i < 100; i++) {
                step.add(line(port, transport(random.nextInt(), random.nextLong() & Long.MAX_VALUE, 16 + random.nextInt(1421))));
            }
            for (int i = 0; i < 50; i++) { // B's real receiver index, counters it has not seen yet
                step.add(line(port, transport(indexB, maxCounter + 1 + random.nextInt(10_000), 16 + random.nextInt(1421))));
            }
        }
        attack(lab, attacker, "forged WireGuard transport messages (random index/counter; B's real index, fresh counters)",
            step, hostB, publicPortB, b, server, logB, effects);

        // 2. and 3. verbatim replays: WireGuard messages, then PUNCHes, from A's real endpoint and from elsewhere
        List<byte[]> wgReplays = aToB.stream().filter(d -> d[0] >= 1 && d[0] <= 4).toList();
        List<byte[]> punchReplays = aToB.stream().filter(d -> (d[0] & 0xff) == 0x53).toList();
        // (spoofed from the rendezvous server, they pass NAT B without the port forward: through B's mapping to the server)
        for (int port : new int[] {Attacker.AS_A, Attacker.AS_RDV, Attacker.OWN}) {
            String from = port == Attacker.AS_A ? "spoofed from A's real endpoint"
                : port == Attacker.AS_RDV ? "spoofed from the rendezvous server" : "from the attacker's own address";
            attack(lab, attacker, "replays of the " + wgReplays.size() + " captured A->B WireGuard datagrams, " + from,
                wgReplays.stream().map(d -> line(port, d)).toList(), hostB, publicPortB, b, server, logB, effects);
            List<String> lines = new ArrayList<>();
            for (int i = 0; i < 10; i++) { // ten times, 100 ms apart: a persistent attacker
                punchReplays.forEach(d -> lines.add(line(port, d)));
            }
            attack(lab, attacker, "replays of the " + punchReplays.size() + " captured A->B PUNCH datagram(s), 10 times, " + from,
                lines, hostB, publicPortB, b, server, logB, effects, 100_000);
        }

        // 4. truncated and bit-flipped copies
        step = new ArrayList<>();
        for (int port : new int[] {Attacker.OWN, Attacker.AS_A}) {
            for (byte[] d : aToB) {
                step.add(line(port, Arrays.copyOf(d, random.nextInt(d.length))));
                byte[] flipped = d.clone();
                for (int k = 1 + random.nextInt(3); k > 0; k--) {
                    int bit = random.nextInt(d.length * 8);
                    flipped[bit / 8] ^= (byte) (1 << (bit % 8));
                }
                step.add(line(port, flipped));
            }
        }
        attack(lab, attacker, "truncated and bit-flipped copies of the captured datagrams", step, hostB, publicPortB, b, server,
            logB, effects);

        // 5. forged PUNCH and LEAVE in A's name (right keys and sessions, MAC under a random key)
        long maxProbe = aToB.stream().filter(d -> (d[0] & 0xff) == 0x53 && d.length == Punch.LENGTH)
            .mapToLong(d -> ByteBuffer.wrap(d, 84, 8).getLong()).max().orElse(0);
        step = new ArrayList<>();
        for (int port : new int[] {Attacker.OWN, Attacker.AS_A}) {
            for (long counter : new long[] {maxProbe, maxProbe + 1, maxProbe + 1000, random.nextLong() & Long.MAX_VALUE}) {
                step.add(line(port, new Punch(pubA, pubB, regA.session(), regB.session(), counter, false).encode(randomKey())));
                step.add(line(port, new Punch(pubA, pubB, regA.session(), regB.session(), counter, true).encode(randomKey())));
            }
            step.add(line(port, new Leave(pubA, regA.session(), nowMicros()).encode(randomKey())));
        }
        attack(lab, attacker, "forged PUNCH probes/acks and LEAVE in A's name", step, hostB, publicPortB, b, server, logB, effects);

        // 6. forged server messages, spoofed from the rendezvous server and from the attacker's own address
        InetSocketAddress lure = new InetSocketAddress(Attacker.IP, Attacker.OWN);
        step = new ArrayList<>();
        for (int port : new int[] {Attacker.AS_RDV, Attacker.OWN}) {
            step.add(line(port, new PeerInfo(regB.session(), nowMicros(), pubA, random.nextLong() | 1, nowMicros(), lure,
                List.of()).encode(randomKey())));
            step.add(line(port, new PeerInfo(regB.session(), nowMicros(), pubA, regA.session(), nowMicros(), lure,
                List.of(lure)).encode(randomKey())));
            step.add(line(port, new Registered(regB.session(), nowMicros(), 20, lure).encode(randomKey())));
        }
        attack(lab, attacker, "forged PEER_INFO (A elsewhere, A restarted) and REGISTERED, spoofed from the rendezvous server",
            step, hostB, publicPortB, b, server, logB, effects);

        // 7. a forged REGISTER for A's key, with the cookie the server hands the attacker
        say("Attack: a REGISTER for A's key from the attacker, who gets a cookie but has no key to MAC with.");
        byte[] template = bytes(new Register(pubA, pubB, random.nextLong() | 1, nowMicros() + 10_000_000L, null, List.of())
            .encode(randomKey()));
        Lab.Result forged = lab.exec(Attacker.NODE, Duration.ofSeconds(60), Pinhole.javaTool(ForgeRegister.class,
            Pinhole.RDV_IP, String.valueOf(Pinhole.RDV_PORT), String.valueOf(Attacker.OWN + 10), HexFormat.of().formatHex(template)));
        say("attacker: " + forged.output().strip().replace("\n", "; "));
        assertTrue(forged.ok(), "the REGISTER forger failed: " + forged);
        assertTrue(forged.output().contains("after REGISTER without a cookie: reply type 0x56"),
            "the server should answer a cookie-less REGISTER with a CHALLENGE: " + forged.output());
        assertTrue(!forged.output().contains("reply type 0x51") && !forged.output().contains("reply type 0x52"),
            "the server accepted the forged REGISTER: " + forged.output());
        Thread.sleep(1500);
        effects.put("forged REGISTER", newAlarms(b, logB) + newServerLines(server, logServer, idA));

        say("The pings ran throughout; stop them.");
        Thread.sleep(1000);
        lab.interrupt(pingA);
        lab.interrupt(pingB);
        assertTrue(Lab.await(Duration.ofSeconds(10), Duration.ofMillis(100), () -> !pingA.isAlive() && !pingB.isAlive()),
            "ping did not stop");
        effects.put("(the rest of the pings)", newAlarms(b, logB));
        int[] countsA = pingCounts(pingA);
        int[] countsB = pingCounts(pingB);
        long rxDelta = Net.linkPackets(lab, "b", Pinhole.DEV)[0] - rxBefore;
        List<Pcap.Packet> tunPackets = tun.stop();
        List<Pcap.Packet> fromB = natbWan.stop();
        say("pings during the attacks: A->B " + countsA[0] + " sent, " + countsA[1] + " answered; B->A " + countsB[0]
            + " sent, " + countsB[1] + " answered; B's tun0 RX grew by " + rxDelta);

        say("Verdict, step by step (new lines in B's log, and the server's about A):");
        effects.forEach((k, v) -> say("  " + k + ": " + (v.isEmpty() ? "nothing" : v)));
        Map<String, String> bad = effects.entrySet().stream().filter(e -> !e.getValue().isEmpty())
            .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (x, y) -> x, LinkedHashMap::new));

        byte[] pattern = HexFormat.of().parseHex(PING_PATTERN);
        List<Pcap.Packet> intoB = tunPackets.stream().filter(p -> p.dst().equals(Peer.B.local)).toList();
        List<Pcap.Packet> strangers = intoB.stream().filter(p -> !(p.src().equals(Peer.A.local)
            && (p.icmpType() == 8 || p.icmpType() == 0) && Pcap.indexOf(p.ip(), pattern) >= 0)).toList();
        say("B's tun0 delivered " + intoB.size() + " packets (captured); other than A's echo requests and replies: " + strangers);

        Map<String, Long> wgDestinations = fromB.stream()
            .filter(p -> p.isUdp() && p.srcEndpoint().equals(endpointB) && isWireGuard(p.payload()))
            .collect(Collectors.groupingBy(Pcap.Packet::dstEndpoint, LinkedHashMap::new, Collectors.counting()));
        Map<String, Long> otherDestinations = fromB.stream()
            .filter(p -> p.isUdp() && p.srcEndpoint().equals(endpointB) && !isWireGuard(p.payload()))
            .collect(Collectors.groupingBy(p -> p.dstEndpoint() + " type 0x" + (p.payload().length > 0
                ? Integer.toHexString(p.payload()[0] & 0xff) : "-"), LinkedHashMap::new, Collectors.counting()));
        say("B's WireGuard datagrams went to " + wgDestinations + "; its other datagrams: " + otherDestinations);
        Lab.Result ct = lab.exec("natb", Duration.ofSeconds(10), "conntrack", "-L", "-p", "udp", "--orig-src", "10.0.2.2");
        say("conntrack in NAT B:\n" + ct.output().strip());
        boolean badMacCounted = Lab.await(Duration.ofSeconds(5), Duration.ofMillis(200), () -> badMacs(server) >= 1);
        say("server: " + lastStats(server));

        assertAll("the attacks",
            () -> assertTrue(bad.isEmpty(), "the attacker changed something: " + bad),
            () -> assertTrue(countsA[1] >= countsA[0] - 1, "the tunnel lost more than 1 ping A->B during the attacks: "
                + countsA[0] + " sent, " + countsA[1] + " received"),
            () -> assertTrue(countsB[1] >= countsB[0] - 1, "the tunnel lost more than 1 ping B->A during the attacks: "
                + countsB[0] + " sent, " + countsB[1] + " received"),
            () -> assertTrue(strangers.isEmpty(), "something other than A's pings came out of B's tun0: " + strangers),
            () -> assertTrue(rxDelta <= countsA[0] + countsB[0], "B's tun0 delivered " + rxDelta + " packets while A sent "
                + countsA[0] + " echo requests and answered at most " + countsB[0]),
            () -> assertTrue(rxDelta >= countsA[1] + countsB[1], "B's tun0 delivered " + rxDelta + " packets, fewer than the "
                + (countsA[1] + countsB[1]) + " pings that crossed"),
            () -> assertEquals(List.of(endpointA), List.copyOf(wgDestinations.keySet()),
                "B sent tunnel traffic somewhere other than NAT A's real endpoint " + endpointA),
            () -> assertTrue(ct.output().contains("dst=" + regA.ip() + " sport=" + portB + " dport=" + regA.port()),
                "NAT B has no mapping from B to A's real endpoint any more:\n" + ct.output()),
            () -> assertTrue(badMacCounted, "the server's stats never showed bad_mac: " + lastStats(server)),
            () -> assertEquals(endpointA, Attacker.registration(server, idA).endpoint(), "the server moved A"));

        say("Afterwards the tunnel works both ways, and every program still runs.");
        Net.assertPings(lab, "a", Peer.A.remote, 5);
        Net.assertPings(lab, "b", Peer.B.remote, 5);
        assertTrue(server.isAlive() && a.isAlive() && b.isAlive(), "a program exited");
    }

    static boolean isWireGuard(byte[] d) {
        return d.length >= 4 && d[0] >= 1 && d[0] <= 4 && d[1] == 0 && d[2] == 0 && d[3] == 0;
    }

    static int[] pingCounts(Lab.Proc ping) {
        Matcher m = Pattern.compile("(\\d+) packets transmitted, (\\d+) received").matcher(ping.logText());
        assertTrue(m.find(), "no ping summary: " + ping.logText());
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    /** Sends one step's datagrams from the attacker to B's public endpoint and records what changed. */
    private static void attack(Lab lab, Attacker attacker, String what, List<String> lines, String host, int port,
                               Lab.Proc b, Lab.Proc server, int[] logB, Map<String, String> effects) throws Exception {
        attack(lab, attacker, what, lines, host, port, b, server, logB, effects, 2000);
    }

    /** As above, {@code gapMicros} between datagrams. */
    private static void attack(Lab lab, Attacker attacker, String what, List<String> lines, String host, int port,
                               Lab.Proc b, Lab.Proc server, int[] logB, Map<String, String> effects, int gapMicros)
            throws Exception {
        say("Attack: " + what + " (" + lines.size() + " datagrams)");
        Path file = lab.logDir().resolve("attack-" + (effects.size() + 1) + ".txt");
        Files.write(file, lines);
        Lab.Result r = attacker.send(file, host, port, gapMicros);
        say("attacker: " + r.output().strip());
        Thread.sleep(1000);
        effects.put(what, newAlarms(b, logB));
    }

    /**
     * Lines of B's log after {@code from[0]} that show it changed its mind about A, or an error;
     * empty if none. Moves {@code from[0]} to the end of the log, so each step sees only its own.
     */
    static String newAlarms(Lab.Proc b, int[] from) {
        String text = b.logText();
        String alarms = text.substring(Math.min(from[0], text.length())).lines()
            .filter(l -> ALARMS.stream().anyMatch(l::contains)).collect(Collectors.joining(" | "));
        from[0] = text.length();
        return alarms;
    }

    /** The server's log lines after {@code from} about A (re-registered) or any pairing. */
    static String newServerLines(Lab.Proc server, int from, String idA) {
        String text = server.logText();
        String s = text.substring(Math.min(from, text.length())).lines()
            .filter(l -> l.contains("registered " + idA) || l.contains("paired") || l.contains("[ERROR]"))
            .collect(Collectors.joining(" | "));
        return s.isEmpty() ? "" : " server: " + s;
    }

    static String lastStats(Lab.Proc server) {
        List<String> stats = server.logText().lines().filter(l -> l.contains("stats:")).toList();
        return stats.isEmpty() ? "(no stats line)" : stats.get(stats.size() - 1);
    }

    static long badMacs(Lab.Proc server) {
        Matcher m = Pattern.compile("bad_mac (\\d+)").matcher(lastStats(server));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }

    static int localPort(Lab.Proc client) {
        Matcher m = Pattern.compile("udp port (\\d+)").matcher(client.logText());
        assertTrue(m.find(), "the client never logged its udp port: " + client.logText());
        return Integer.parseInt(m.group(1));
    }

    static String describe(List<byte[]> datagrams) {
        return datagrams.stream().collect(Collectors.groupingBy(d -> switch (d[0] & 0xff) {
            case 1 -> "initiation";
            case 2 -> "response";
            case 3 -> "cookie reply";
            case 4 -> "transport";
            case 0x53 -> "punch";
            case 0x54 -> "leave";
            default -> "type 0x" + Integer.toHexString(d[0] & 0xff);
        }, LinkedHashMap::new, Collectors.counting())).toString();
    }

    /** A WireGuard transport message: type 4, receiver index, counter (little-endian), random sealed bytes. */
    private byte[] transport(int index, long counter, int sealedLength) {
        byte[] m = new byte[16 + sealedLength];
        random.nextBytes(m);
        ByteBuffer bb = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(0, 4).putInt(4, index).putLong(8, counter);
        return m;
    }

    private byte[] randomKey() {
        byte[] k = new byte[32];
        random.nextBytes(k);
        return k;
    }

    static long nowMicros() {
        Instant t = Instant.now();
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static String line(int port, ByteBuffer datagram) {
        return line(port, bytes(datagram));
    }

    static String line(int port, byte[] datagram) {
        return port + " " + (datagram.length == 0 ? "-" : HexFormat.of().formatHex(datagram));
    }
}
