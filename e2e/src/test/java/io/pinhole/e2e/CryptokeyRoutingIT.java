package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static io.pinhole.e2e.WireGuardInteropIT.PINHOLE_IP;
import static io.pinhole.e2e.WireGuardInteropIT.WG_IP;
import static io.pinhole.e2e.WireGuardInteropIT.WG_PORT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Cryptokey routing (WireGuard's AllowedIPs rule) against a peer that holds the right key: only
 * packets from the peer's allowed IPs come out of tun0, and {@code --allowed-ips} routes a network
 * behind the peer (site-to-site).
 */
@ExtendWith(LabExtension.class)
class CryptokeyRoutingIT {
    static final String SPOOFED = "10.99.0.5";
    static final String ULA_SOURCE = "fd99::5";
    static final Duration UP = Duration.ofSeconds(30);

    /**
     * wireguard-go on the public host, configured to send anything ({@code AllowedIPs = 0.0.0.0/0,
     * ::/0}), pings pinhole from a spoofed IPv4 source and sends IPv6 (link-local multicast, and a
     * ULA source): none of it reaches pinhole's tun0, pinhole counts each drop in its status file,
     * and real pings keep flowing.
     */
    @Test
    void aPeerWithTheRightKeyCannotSendFromAddressesItMayNotUse(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        try (WireGuardGo wg = WireGuardGo.start(lab, "rdv")) {
            wg.configure(WG_PORT, pinhole.publicKey(Peer.A), WG_IP, PINHOLE_IP);
            wg.run("wg", "set", wg.name(), "peer", pinhole.publicKey(Peer.A), "allowed-ips", "0.0.0.0/0,::/0");
            say("wireguard-go accepts and sends anything for pinhole's key:\n" + wg.show());
            Lab.Proc client = WireGuardInteropIT.startPinhole(pinhole, "a", wg.publicKey(),
                "--peer-endpoint", Pinhole.RDV_IP + ":" + WG_PORT);
            Net.awaitPing(lab, "a", WG_IP, UP, client, wg.proc());
            Path statusFile = lab.logDir().resolve("pinhole-a.status");

            say("pinhole's tun0 has IPv6 turned off (no --allowed-ips with an IPv6 network).");
            assertEquals("1", lab.exec("a", Duration.ofSeconds(5), "cat", "/proc/sys/net/ipv6/conf/" + Pinhole.DEV
                + "/disable_ipv6").output().strip());

            say("The wireguard-go side gets a second IPv4 address, " + SPOOFED + ", and IPv6 (link-local and a ULA).");
            wg.run("sysctl", "-q", "-w", "net.ipv6.conf." + wg.name() + ".disable_ipv6=0");
            wg.run("ip", "addr", "add", SPOOFED + "/32", "dev", wg.name());
            wg.run("ip", "-6", "addr", "add", "fe80::2/64", "dev", wg.name(), "nodad");
            wg.run("ip", "-6", "addr", "add", ULA_SOURCE + "/128", "dev", wg.name(), "nodad");
            wg.run("ip", "-6", "route", "add", "fd10::/64", "dev", wg.name());

            Capture spoofed = Capture.start(lab, "a", Pinhole.DEV, "tun0-ipv4", "ip");
            Capture ipv6 = Capture.start(lab, "a", Pinhole.DEV, "tun0-ipv6", "ip6");

            say("20 pings from the spoofed source " + SPOOFED + ", 10 to the all-nodes group ff02::1 from fe80::2, "
                + "10 from the ULA " + ULA_SOURCE + " to fd10::1; then 5 real pings.");
            Lab.Result fromSpoofed = Net.ping(lab, "rdv", PINHOLE_IP, 20, "-I", SPOOFED);
            Lab.Result multicast = Net.ping(lab, "rdv", "ff02::1", 10, "-6", "-I", wg.name());
            Lab.Result ula = Net.ping(lab, "rdv", "fd10::1", 10, "-6", "-I", ULA_SOURCE);
            say("spoofed: " + Net.pingSummary(fromSpoofed) + "; multicast: " + Net.pingSummary(multicast) + "; ULA: "
                + Net.pingSummary(ula));
            Net.assertPings(lab, "rdv", PINHOLE_IP, 5);
            Net.assertPings(lab, "a", WG_IP, 5);
            Thread.sleep(300); // the last echo replies into the captures
            List<Pcap.Packet> onTun = spoofed.stop();
            ipv6.stop();

            assertEquals(0, Net.pingCounts(fromSpoofed)[1], "a ping from the spoofed source was answered: " + fromSpoofed);
            assertTrue(Net.pingCounts(multicast)[0] == 10 && Net.pingCounts(ula)[0] == 10,
                "wireguard-go did not send the IPv6 pings: " + multicast + "\n" + ula);
            assertFalse(onTun.stream().anyMatch(p -> p.src().equals(SPOOFED) || p.dst().equals(SPOOFED)),
                "a packet from the spoofed source reached tun0: " + onTun);
            long real = onTun.stream().filter(p -> p.src().equals(WG_IP) && p.icmpType() >= 0).count();
            assertTrue(real >= 10, "the real pings (5 requests, 5 replies from " + WG_IP + ") are on tun0: " + onTun);
            assertEquals(0, ipv6.captured(), "IPv6 packets crossed tun0 (in either direction)");

            Map<String, Long> drops = new LinkedHashMap<>();
            Lab.await(Duration.ofSeconds(5), Duration.ofMillis(200), () -> { // the file is rewritten every second
                drops.clear();
                drops.putAll(drops(read(statusFile)));
                return drops.getOrDefault("wrong_source", 0L) >= 20 && drops.getOrDefault("ipv6_not_allowed", 0L) >= 20;
            });
            say("pinhole's status file counts the drops: " + drops);
            assertEquals(20L, drops.getOrDefault("wrong_source", 0L), "status: " + drops);
            assertTrue(drops.getOrDefault("ipv6_not_allowed", 0L) >= 20, "status: " + drops);
            assertTrue(client.logText().contains("that its allowed IPs (" + WG_IP + "/32) refuse"),
                "pinhole did not warn about the refused packets: " + client.logText());
            WireGuardInteropIT.assertHealthy(client);
        }
    }

    /**
     * A site-to-site tunnel: A has {@code --allowed-ips 192.168.77.0/24,fd77::/64} for the LAN
     * behind B, B has {@code --allowed-ips 192.168.88.0/24} for the LAN behind A; each LAN host is
     * one end of a veth pair. pinhole adds the routes itself, and pings cross both ways.
     */
    @Test
    void allowedIpsRouteNetworksBehindThePeerBothWays(Pinhole pinhole) {
        Lab lab = pinhole.lab();
        lanHost(lab, "b", "192.168.77.1/24");
        lanHost(lab, "a", "192.168.88.1/24");
        pinhole.startServer();
        Lab.Proc a = pinhole.startClient(Peer.A, "--allowed-ips", "192.168.77.0/24,fd77::/64");
        Lab.Proc b = pinhole.startClient(Peer.B, "--allowed-ips", "192.168.88.0/24");
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the tunnel", a, b);

        String routesA = lab.exec("a", Duration.ofSeconds(5), "ip", "route", "show", "dev", Pinhole.DEV).output();
        String routes6A = lab.exec("a", Duration.ofSeconds(5), "ip", "-6", "route", "show", "dev", Pinhole.DEV).output();
        String routesB = lab.exec("b", Duration.ofSeconds(5), "ip", "route", "show", "dev", Pinhole.DEV).output();
        say("routes through tun0 on A:\n" + routesA + routes6A + "on B:\n" + routesB);
        assertTrue(routesA.lines().anyMatch(l -> l.startsWith("192.168.77.0/24")), "pinhole A added no route: " + routesA);
        assertTrue(routes6A.lines().anyMatch(l -> l.startsWith("fd77::/64")), "pinhole A added no IPv6 route: " + routes6A);
        assertTrue(routesB.lines().anyMatch(l -> l.startsWith("192.168.88.0/24")), "pinhole B added no route: " + routesB);
        assertEquals("0", lab.exec("a", Duration.ofSeconds(5), "cat", "/proc/sys/net/ipv6/conf/" + Pinhole.DEV
            + "/disable_ipv6").output().strip(), "A has an IPv6 network: IPv6 stays on");
        assertEquals("1", lab.exec("b", Duration.ofSeconds(5), "cat", "/proc/sys/net/ipv6/conf/" + Pinhole.DEV
            + "/disable_ipv6").output().strip(), "B has none: IPv6 off");

        say("A pings the host behind B, B pings the host behind A.");
        Net.assertPings(lab, "a", "192.168.77.1", 5);
        Net.assertPings(lab, "b", "192.168.88.1", 5);
        Net.assertPings(lab, "a", "192.168.77.1", 5, "-I", "192.168.88.1");
        pinhole.assertPings(Peer.A, 3);
        WireGuardInteropIT.assertHealthy(a);
        WireGuardInteropIT.assertHealthy(b);
    }

    /** A host address on a veth pair inside {@code node} (lan0, its peer lan1), both ends up. */
    private static void lanHost(Lab lab, String node, String address) {
        for (String[] cmd : List.of(new String[] {"ip", "link", "add", "lan0", "type", "veth", "peer", "name", "lan1"},
                new String[] {"ip", "addr", "add", address, "dev", "lan0"},
                new String[] {"ip", "link", "set", "lan0", "up"},
                new String[] {"ip", "link", "set", "lan1", "up"})) {
            Lab.Result r = lab.exec(node, Duration.ofSeconds(10), cmd);
            assertTrue(r.ok(), String.join(" ", cmd) + " in " + node + " failed: " + r);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The {@code drops=} line of a status file as reason -> count. */
    static Map<String, Long> drops(String statusText) {
        Map<String, Long> drops = new LinkedHashMap<>();
        String line = statusText.lines().filter(l -> l.startsWith("drops=")).findFirst()
            .orElseThrow(() -> new AssertionError("no drops= line in the status file:\n" + statusText));
        String value = line.substring("drops=".length());
        if (!value.isEmpty()) {
            for (String pair : value.split(",")) {
                int colon = pair.indexOf(':');
                drops.put(pair.substring(0, colon), Long.parseLong(pair.substring(colon + 1)));
            }
        }
        return drops;
    }
}
