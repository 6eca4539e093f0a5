package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SocketTtlNetnsTest: a TTL-limited datagram really dies where its TTL says, on real Linux
 * routers. Four fresh network namespaces ({@code phttl-*}, deleted afterwards, also on failure),
 * joined by veth links and with no link to anything else, so nothing can leave the machine:
 * <pre>
 *   sender 198.51.100.1 --- 198.51.100.2 router1 203.0.113.1 --- 203.0.113.2 router2 203.0.113.65 --- 203.0.113.66 far
 * </pre>
 * A datagram with TTL 2 crosses router1 (which decrements it to 1) and reaches router2 itself,
 * but router2 cannot forward it to {@code far} (it would leave with TTL 0) and answers with an
 * ICMP time exceeded instead; the same datagram with TTL 3 does reach {@code far}. Needs root
 * and iproute2 (fails when CI=true, aborted otherwise, like the other namespace tests).
 */
@Timeout(300)
class SocketTtlNetnsTest {
    private static final int PORT = 40000;
    private static String ip;

    @BeforeAll
    static void requireNamespaces() {
        ip = RealTunEnvironment.requireRootTunAndIp();
    }

    @Test
    void aTtl2DatagramCrossesOneRouterButNotTwo() {
        try (Netns sender = Netns.create(ip, "phttl"); Netns router1 = Netns.create(ip, "phttl");
             Netns router2 = Netns.create(ip, "phttl"); Netns far = Netns.create(ip, "phttl")) {
            link(sender, "s0", "198.51.100.1/26", router1, "r1s", "198.51.100.2/26");
            link(router1, "r1r2", "203.0.113.1/26", router2, "r2r1", "203.0.113.2/26");
            link(router2, "r2f", "203.0.113.65/26", far, "f0", "203.0.113.66/26");
            sender.ip("route", "add", "203.0.113.0/24", "via", "198.51.100.2").orFail();
            router1.ip("route", "add", "203.0.113.64/26", "via", "203.0.113.2").orFail();
            router2.ip("route", "add", "198.51.100.0/26", "via", "203.0.113.1").orFail();
            far.ip("route", "add", "198.51.100.0/26", "via", "203.0.113.65").orFail();
            for (Netns router : List.of(router1, router2)) {
                router.exec("sysctl", "-qw", "net.ipv4.ip_forward=1").orFail();
            }
            long timeExceededBefore = icmpOutTimeExceeded(router2);

            try (ChildJvm atRouter2 = ChildJvm.start(router2, "udp-receive", "" + PORT, "1");
                 ChildJvm atFar = ChildJvm.start(far, "udp-receive", "" + PORT, "1")) {
                atRouter2.await("listening");
                atFar.await("listening");
                try (ChildJvm send = ChildJvm.start(sender, "ttl-send",
                        "203.0.113.2:" + PORT + ":2:ttl 2 to router2",
                        "203.0.113.66:" + PORT + ":2:ttl 2 to far",
                        "203.0.113.66:" + PORT + ":3:ttl 3 to far")) {
                    for (int i = 0; i < 3; i++) {
                        assertEquals("true", send.await("sent").get("result"), send::details);
                    }
                    send.awaitSuccess();
                }
                Map<String, String> one = atRouter2.await("received");
                assertEquals("ttl 2 to router2", one.get("payload"), atRouter2::details);
                assertEquals("198.51.100.1", one.get("from"));
                // the TTL-2 datagram to far was sent first; far's first datagram is the TTL-3 one
                assertEquals("ttl 3 to far", atFar.await("received").get("payload"), atFar::details);
                atRouter2.awaitSuccess();
                atFar.awaitSuccess();
            }
            assertEquals(timeExceededBefore + 1, icmpOutTimeExceeded(router2),
                    "router2 dropped exactly one datagram for its TTL");
        }
    }

    /** A veth pair from {@code a} (named {@code aName}) to {@code b}, addressed and up. */
    private static void link(Netns a, String aName, String aAddress, Netns b, String bName, String bAddress) {
        a.ip("link", "add", aName, "type", "veth", "peer", "name", bName, "netns", b.name()).orFail();
        a.ip("addr", "add", aAddress, "dev", aName).orFail();
        b.ip("addr", "add", bAddress, "dev", bName).orFail();
        a.ip("link", "set", aName, "up").orFail();
        b.ip("link", "set", bName, "up").orFail();
    }

    /** The namespace's Icmp OutTimeExcds counter, from its /proc/net/snmp. */
    private static long icmpOutTimeExceeded(Netns ns) {
        List<String> icmp = ns.exec("cat", "/proc/net/snmp").orFail().lines()
                .filter(l -> l.startsWith("Icmp: ")).toList();
        List<String> names = List.of(icmp.get(0).split("\\s+"));
        String[] values = icmp.get(1).split("\\s+");
        int column = names.indexOf("OutTimeExcds");
        assertTrue(column > 0, "no OutTimeExcds in " + icmp);
        return Long.parseLong(values[column]);
    }
}
