package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.e2e.Pinhole.Peer;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The tunnel never carries itself (issue 8's blocker). Routes through tun0 are what users add
 * (a network behind the far peer, or everything), and pinhole's own UDP must stay off them: a
 * candidate address inside a routed network is never a path, and the sockets are bound to the
 * underlay device, so no route can capture them.
 */
@ExtendWith(LabExtension.class)
class TunnelLoopIT {
    private static final String ROUTED_NET = "192.168.50.0/24";
    private static final String ROUTED_HOST = "192.168.50.1";

    @Test
    void aNetworkRoutedThroughTheTunnelSurvivesTheFarPeerBeingKilledAndRestartedWithoutAStorm(Pinhole pinhole) {
        routedNetworkAndRestart(pinhole);
    }

    @Test
    void withoutTheUnderlayBindingTheRouteCheckAloneKeepsTheTunnelOffItself(Pinhole pinhole) {
        say("Both clients with --underlay none: B offers " + ROUTED_HOST + " as a LAN candidate, and only A's route "
            + "check keeps the path out of the tunnel.");
        routedNetworkAndRestart(pinhole, "--underlay", "none");
    }

    private static void routedNetworkAndRestart(Pinhole pinhole, String... extra) {
        Lab lab = pinhole.lab();
        Lab.Proc server = pinhole.startServer();
        String[] withNet = java.util.stream.Stream.concat(java.util.Arrays.stream(extra),
            java.util.stream.Stream.of("--allowed-ips", ROUTED_NET)).toArray(String[]::new);
        Lab.Proc a = pinhole.startClient(Peer.A, withNet);
        Lab.Proc b = pinhole.startClient(Peer.B, extra);
        pinhole.awaitTunnel(Pinhole.TUNNEL_UP, "the first tunnel", a, b);
        Pinhole.Running run = new Pinhole.Running(server, a, b);

        say("A network behind B: " + ROUTED_HOST + " on a veth device in b, forwarding on; A routes " + ROUTED_NET
            + " through its tun0 (pinhole up --allowed-ips " + ROUTED_NET + " added the route).");
        sh(lab, "b", "ip link add lan0 type veth peer name lan1 && ip addr add " + ROUTED_HOST + "/24 dev lan0 "
            + "&& ip link set lan1 up && ip link set lan0 up && sysctl -q -w net.ipv4.ip_forward=1");
        Lab.Result routes = lab.exec("a", Duration.ofSeconds(5), "ip", "route", "show", ROUTED_NET);
        assertTrue(routes.output().contains("dev " + Pinhole.DEV), "A routes " + ROUTED_NET + " through tun0: " + routes);
        assertTrue(ping(lab, ROUTED_HOST, 3), "A reaches the routed network through the tunnel");

        say("Kill client B (SIGKILL) and start it again: it now has " + ROUTED_HOST + " among its addresses.");
        long before = tunPackets(lab, "a");
        lab.kill(run.b());
        assertTrue(Lab.await(Duration.ofSeconds(10), Duration.ofMillis(100), () -> !pinhole.deviceExists(Peer.B)),
            "tun0 in b outlived the killed client");
        Lab.Proc b2 = pinhole.startClient(Peer.B, extra);
        int pings = awaitBack(pinhole, lab, b2);

        say("20 pings to each of B's tunnel address and the routed host.");
        assertTrue(ping(lab, Peer.A.remote, 20));
        assertTrue(ping(lab, ROUTED_HOST, 20));
        pings += 40;
        assertNoStorm(lab, pinhole, before, pings, run.a(), b2);
    }

    @Test
    void aDefaultRouteThroughTheTunnelDoesNotCaptureThePeersOwnUdp(Pinhole pinhole) {
        say("On A, everything goes through the tunnel: default dev tun0 (metric 1), ahead of the NAT's default "
            + "route (now metric 100).");
        everythingThroughTheTunnel(pinhole, "ip route del default && ip route add default via 10.0.1.1 dev eth0 "
            + "metric 100 && ip route add default dev " + Pinhole.DEV + " metric 1");
    }

    @Test
    void twoHalfRoutesThroughTheTunnelDoNotCaptureThePeersOwnUdp(Pinhole pinhole) {
        say("On A, everything goes through the tunnel: 0.0.0.0/1 and 128.0.0.0/1 dev tun0, more specific than the "
            + "NAT's default route, which stays as it is.");
        everythingThroughTheTunnel(pinhole, "ip route add 0.0.0.0/1 dev " + Pinhole.DEV + " && ip route add "
            + "128.0.0.0/1 dev " + Pinhole.DEV);
    }

    private static void everythingThroughTheTunnel(Pinhole pinhole, String routes) {
        Lab lab = pinhole.lab();
        Pinhole.Running run = pinhole.startAll();
        assertTrue(pinhole.awaitPath("direct", Duration.ofSeconds(15)), "direct before the routes change");
        sh(lab, "a", routes);
        Lab.Result route = lab.exec("a", Duration.ofSeconds(5), "ip", "route", "get", Pinhole.RDV_IP);
        assertTrue(route.output().contains("dev " + Pinhole.DEV), "the server is now routed through tun0: " + route);
        long before = tunPackets(lab, "a");

        say("The tunnel keeps working, direct, through a far peer restart that needs the server again.");
        assertTrue(ping(lab, Peer.A.remote, 10));
        lab.kill(run.b());
        assertTrue(Lab.await(Duration.ofSeconds(10), Duration.ofMillis(100), () -> !pinhole.deviceExists(Peer.B)));
        Lab.Proc b2 = pinhole.startClient(Peer.B);
        int pings = 10 + awaitBack(pinhole, lab, b2);
        assertTrue(pinhole.awaitPath("direct", Duration.ofSeconds(15)), "direct again: " + pinhole.status(Peer.A));
        assertTrue(ping(lab, Peer.A.remote, 20));
        pings += 20;
        assertNoStorm(lab, pinhole, before, pings, run.a(), b2);
        assertTrue(run.a().logText().contains("udp socket bound to eth0"), "A says where its UDP goes");
    }

    /** Pings A -> B (1 s deadline each) until one answers, for at most 20 s; returns how many were sent. */
    private static int awaitBack(Pinhole pinhole, Lab lab, Lab.Proc b2) {
        long t0 = System.nanoTime();
        int sent = 0;
        boolean back = false;
        while (!back && System.nanoTime() - t0 < Duration.ofSeconds(20).toNanos() && b2.isAlive()) {
            sent++;
            back = pinhole.pingOnce(Peer.A);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        say("the tunnel is back " + took.toMillis() + " ms after B's restart (" + sent + " pings)");
        assertTrue(back, "the tunnel did not come back within 20 s of B's restart");
        assertTrue(took.compareTo(Duration.ofSeconds(2)) <= 0, "the tunnel took " + took.toMillis() + " ms to come back");
        return sent;
    }

    /** tun0 in A carried no more than twice the pings' packets, and neither side moved its path into the tunnel. */
    private static void assertNoStorm(Lab lab, Pinhole pinhole, long before, int pings, Lab.Proc a, Lab.Proc b) {
        long carried = tunPackets(lab, "a") - before;
        say("tun0 in a carried " + carried + " packets for " + pings + " pings (" + 2 * pings + " packets)");
        assertTrue(carried <= 4L * pings, "a storm: tun0 carried " + carried + " packets for " + pings + " pings");
        for (Peer peer : Peer.values()) {
            Map<String, String> status = pinhole.status(peer);
            String endpoint = status.getOrDefault("endpoint", "");
            assertFalse(endpoint.startsWith("10.10.") || endpoint.startsWith("192.168.50."),
                peer + "'s path leads into the tunnel: " + status);
        }
        for (Lab.Proc p : new Lab.Proc[] {a, b}) {
            String log = p.logText();
            assertFalse(log.contains("to /10.10.") || log.contains("to 10.10.") || log.contains("to /192.168.50.")
                || log.contains("to 192.168.50."), p + " moved its path into the tunnel:\n" + log);
            assertFalse(log.contains("changed more than"), p + " needed the path brake:\n" + log);
        }
        assertEquals(2, lab.processes().stream().filter(Lab.Proc::isAlive)
            .filter(p -> p.name().startsWith("client")).count(), "both clients run");
    }

    /** tun0's packet counters in {@code node}, sent plus received. */
    private static long tunPackets(Lab lab, String node) {
        Lab.Result r = lab.exec(node, Duration.ofSeconds(5), "sh", "-c",
            "cat /sys/class/net/" + Pinhole.DEV + "/statistics/tx_packets /sys/class/net/" + Pinhole.DEV
                + "/statistics/rx_packets");
        assertTrue(r.ok(), "cannot read tun0's counters in " + node + ": " + r);
        return r.output().lines().mapToLong(l -> Long.parseLong(l.strip())).sum();
    }

    private static boolean ping(Lab lab, String target, int count) {
        Lab.Result r = lab.exec("a", Duration.ofSeconds(count + 10L), "ping", "-n", "-c", String.valueOf(count),
            "-i", "0.2", "-W", "2", target);
        say("ping a->" + target + ": " + Pinhole.summary(r.output()));
        return r.ok() && r.output().contains(count + " packets transmitted, " + count + " received");
    }

    private static void sh(Lab lab, String node, String script) {
        Lab.Result r = lab.exec(node, Duration.ofSeconds(10), "sh", "-c", script);
        assertTrue(r.ok(), node + ": " + script + " failed: " + r);
    }
}
