package io.pinhole.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.pinhole.e2e.tools.UdpSend;

/**
 * A third party on the public side of a {@link Lab}: host {@code atk} at 203.0.113.66 (added with
 * {@code lab.sh host}). It sends from its own address, or, through an nftables SNAT rule in its
 * own namespace keyed on the local source port, with a spoofed source (A's public endpoint, the
 * rendezvous server): {@link #OWN}, {@link #AS_A}, {@link #AS_RDV}. It never sends outside the lab.
 */
final class Attacker {
    static final String NODE = "atk";
    static final String IP = "203.0.113.66";
    /** Local port whose datagrams leave with the attacker's own address. */
    static final int OWN = 40003;
    /** Local port whose datagrams leave as from A's public endpoint (see {@link #spoof}). */
    static final int AS_A = 40001;
    /** Local port whose datagrams leave as from the rendezvous server 203.0.113.10:3478. */
    static final int AS_RDV = 40002;

    private static final Pattern REGISTERED = Pattern.compile(
        "(?:re-)?registered (\"[^\"]+\") \\(session ([0-9a-f]+)\\) from ([0-9.]+):(\\d+)");

    private final Lab lab;
    private final List<String> rules = new ArrayList<>();

    private Attacker(Lab lab) {
        this.lab = lab;
    }

    static Attacker add(Lab lab) {
        lab.addHost(NODE, IP);
        Attacker a = new Attacker(lab);
        a.nft("add table ip spoof");
        a.nft("add chain ip spoof post { type nat hook postrouting priority srcnat; policy accept; }");
        return a;
    }

    /** Datagrams the attacker sends from {@code localPort} leave with source {@code ip:port}. */
    void spoof(int localPort, String ip, int port) {
        nft("add rule ip spoof post udp sport " + localPort + " snat to " + ip + ":" + port);
        Narrator.say("attacker: datagrams from its port " + localPort + " leave spoofed as " + ip + ":" + port);
    }

    /**
     * NAT B forwards UDP {@code publicPort} on its WAN to B's socket (as a port forward or a
     * full-cone NAT would), so the attacker reaches B from its own address too.
     */
    static void forwardToB(Lab lab, int publicPort, int bPort) {
        for (String rule : List.of(
                "add chain ip pinhole prerouting { type nat hook prerouting priority dstnat; policy accept; }",
                "add rule ip pinhole prerouting iifname \"wan\" udp dport " + publicPort + " dnat to 10.0.2.2:" + bPort,
                "add rule ip pinhole forward_filter iifname \"wan\" oifname \"lan\" ct status dnat accept")) {
            Lab.Result r = lab.exec("natb", Duration.ofSeconds(10), "nft", rule);
            assertTrue(r.ok(), "nft " + rule + " in natb failed: " + r);
        }
        Narrator.say("NAT B forwards udp " + publicPort + " on its WAN to B (10.0.2.2:" + bPort + ")");
    }

    /** Sends the datagrams of {@code file} ({@code LOCALPORT HEX} lines, see {@link UdpSend}) to {@code host:port}. */
    Lab.Result send(Path file, String host, int port, int gapMicros) {
        Lab.Result r = lab.exec(NODE, Duration.ofSeconds(120), Pinhole.javaTool(UdpSend.class, host, String.valueOf(port),
            file.toString(), String.valueOf(gapMicros)));
        assertTrue(r.ok(), "the attacker's sender failed: " + r);
        return r;
    }

    private void nft(String rule) {
        Lab.Result r = lab.exec(NODE, Duration.ofSeconds(10), "nft", rule);
        assertTrue(r.ok(), "nft " + rule + " in " + NODE + " failed: " + r);
        rules.add(rule);
    }

    /** A peer's registration as the server logged it last. */
    record Registration(String shortId, long session, String ip, int port) {
        String endpoint() {
            return ip + ":" + port;
        }
    }

    /**
     * The latest registration of the key whose short id is {@code shortId} (quoted, as logged: see
     * {@link Pinhole#shortId}), from the server's log; null if none.
     */
    static Registration registration(Lab.Proc server, String shortId) {
        Registration last = null;
        Matcher m = REGISTERED.matcher(server.logText());
        while (m.find()) {
            if (m.group(1).equals(shortId)) {
                last = new Registration(shortId, Long.parseUnsignedLong(m.group(2), 16), m.group(3), Integer.parseInt(m.group(4)));
            }
        }
        return last;
    }
}
