package io.pinhole.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * NatBehaviourSimTest: the simulated NATs themselves, with bare datagrams and no protocol: the
 * mapping and filtering properties (RFC 4787 terms) of each lab mode, double NAT, one NAT with
 * hairpinning and client isolation on and off, UDP blocked except to the rendezvous host, and
 * an impaired WAN link. These are the properties the namespace lab's modes have (lab/lab.sh,
 * checked there by hand with UDP probes and conntrack), so that what the simulated matrix says
 * is what the lab would say.
 */
class NatBehaviourSimTest {
    private static final String RDV = "203.0.113.10";

    /** What a host received. */
    private record Got(InetSocketAddress from, InetSocketAddress to, String text) {
    }

    /** A network with a rendezvous-like echo host, recording what every host receives. */
    private static final class World {
        final SimNetwork net = new SimNetwork(7, 123_456_789L);
        final SimNetwork.Host rdv = net.addHost("rdv", RDV, null);
        final SimNetwork.Host other = net.addHost("other", "203.0.113.20", null);

        World() {
            // rdv answers every datagram with "seen ADDR:PORT", from the port it came to
            net.attach(rdv, (now, from, to, d) -> net.send(rdv, to.getPort(), from, text("seen " + str(from))));
        }

        List<Got> record(SimNetwork.Host host) {
            List<Got> got = new ArrayList<>();
            net.attach(host, (now, from, to, d) -> got.add(new Got(from, to, StandardText.of(d))));
            return got;
        }

        /** Sends from host:port to dst and runs 1 s; returns the endpoint rdv saw, or null. */
        InetSocketAddress observed(SimNetwork.Host host, int port, List<Got> got, int rdvPort) {
            int before = got.size();
            net.send(host, port, ep(RDV, rdvPort), text("hello"));
            net.runFor(Duration.ofSeconds(1));
            for (int i = before; i < got.size(); i++) {
                if (got.get(i).text.startsWith("seen ")) {
                    String[] hp = got.get(i).text.substring(5).split(":");
                    return ep(hp[0], Integer.parseInt(hp[1]));
                }
            }
            return null;
        }
    }

    private static final class StandardText {
        static String of(ByteBuffer d) {
            byte[] b = new byte[d.remaining()];
            d.duplicate().get(b);
            return new String(b, java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    private static ByteBuffer text(String s) {
        return ByteBuffer.wrap(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    private static InetSocketAddress ep(String ip, int port) {
        return new InetSocketAddress(SimNetwork.ip(ip), port);
    }

    private static String str(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    @Test
    void homeMapsEndpointIndependentlyKeepsThePortAndFiltersByAddressAndPort() {
        World w = new World();
        SimNat nat = w.net.addNat("nat", "198.51.100.2", SimNat.Behaviour.HOME);
        SimNetwork.Host a = w.net.addHost("a", "10.0.1.2", nat);
        List<Got> got = w.record(a);

        InetSocketAddress seen1 = w.observed(a, 5000, got, 3478);
        InetSocketAddress seen2 = w.observed(a, 5000, got, 3479);
        assertEquals(ep("198.51.100.2", 5000), seen1, "the port is kept");
        assertEquals(seen1, seen2, "one public endpoint whatever the destination");

        int before = got.size();
        w.net.send(w.rdv, 3480, seen1, text("from another port")); // never contacted from a
        w.net.send(w.other, 3478, seen1, text("from another host"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(before, got.size(), "unsolicited inbound is dropped");
        assertEquals(2, nat.dropped());

        w.net.send(w.rdv, 3478, seen1, text("from a contacted endpoint"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(before + 1, got.size());
    }

    @Test
    void openRemapsThePortWhenThePartnersPacketArrivedFirst() {
        World w = new World();
        SimNat nat = w.net.addNat("nat", "198.51.100.2", SimNat.Behaviour.OPEN);
        SimNetwork.Host a = w.net.addHost("a", "10.0.1.2", nat);
        List<Got> got = w.record(a);
        assertEquals(ep("198.51.100.2", 5000), w.observed(a, 5000, got, 3478));

        // the partner's early punch lands on the NAT itself, which keeps the tuple
        w.net.send(w.other, 6000, ep("198.51.100.2", 5000), text("early punch"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(1, nat.dropped());
        // a's own punch to that partner now clashes and goes out from another port
        w.net.send(a, 5000, ep("203.0.113.20", 6000), text("punch"));
        int port = nat.publicPort(ep("10.0.1.2", 5000), ep("203.0.113.20", 6000));
        assertNotEquals(5000, port, "masquerade gave another port");
        assertEquals(5000, nat.publicPort(ep("10.0.1.2", 5000), ep(RDV, 3478)), "the old mapping stays");
    }

    @Test
    void symmetricGivesANewRandomPortPerDestinationAndOnlyThatDestinationGetsIn() {
        World w = new World();
        SimNat nat = w.net.addNat("nat", "198.51.100.2", SimNat.Behaviour.SYMMETRIC);
        SimNetwork.Host a = w.net.addHost("a", "10.0.1.2", nat);
        List<Got> got = w.record(a);

        Set<Integer> ports = new HashSet<>();
        for (int rdvPort = 3478; rdvPort < 3488; rdvPort++) {
            ports.add(w.observed(a, 5000, got, rdvPort).getPort());
        }
        assertEquals(10, ports.size(), "ten destinations, ten public ports");
        assertEquals(ports.size(), nat.mappings());
        InetSocketAddress seen = w.observed(a, 5000, got, 3478);
        assertEquals(seen, w.observed(a, 5000, got, 3478), "the same destination keeps its mapping");

        int before = got.size();
        w.net.send(w.rdv, 3479, seen, text("another destination's port"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(before, got.size(), "a mapping only lets in the destination it was made for");
    }

    @Test
    void doubleNatShowsTheCarriersAddressAndTranslatesBothWaysThroughBothLayers() {
        World w = new World();
        SimNat carrier = w.net.addNat("cgn", "198.51.100.2", SimNat.Behaviour.HOME);
        SimNat home = w.net.addNat("home", "100.64.1.2", SimNat.Behaviour.HOME, carrier);
        SimNetwork.Host a = w.net.addHost("a", "10.0.1.2", home);
        List<Got> got = w.record(a);

        InetSocketAddress seen = w.observed(a, 5000, got, 3478);
        assertEquals(ep("198.51.100.2", 5000), seen, "the server sees the carrier's address");
        assertEquals(5000, home.publicPort(ep("10.0.1.2", 5000), ep(RDV, 3478)));
        assertEquals(5000, carrier.publicPort(ep("100.64.1.2", 5000), ep(RDV, 3478)));
        assertEquals(ep(RDV, 3478), got.get(got.size() - 1).from(), "the reply crossed both layers");

        int before = got.size();
        w.net.send(w.other, 7000, seen, text("unsolicited, at the carrier"));
        w.net.send(w.other, 7000, ep("100.64.1.2", 5000), text("to the home NAT's WAN: not on the internet"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(before, got.size());
        assertEquals(1, carrier.dropped());
        assertEquals(0, home.dropped(), "the shared address space is not reachable from outside");

        // a punch out through both layers opens both
        w.net.send(a, 5000, ep("203.0.113.20", 7000), text("punch"));
        w.net.runFor(Duration.ofSeconds(1));
        w.net.send(w.other, 7000, seen, text("answer"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(before + 1, got.size());
        assertEquals(ep("203.0.113.20", 7000), got.get(got.size() - 1).from());
    }

    @Test
    void hairpinOnTranslatesLanTrafficToThePublicAddressBackIntoTheLan() {
        World w = new World();
        SimNat nat = w.net.addNat("nat", "198.51.100.2", SimNat.Behaviour.HOME).hairpin(true);
        SimNetwork.Host a = w.net.addHost("a", "10.0.1.2", nat);
        SimNetwork.Host b = w.net.addHost("b", "10.0.1.3", nat);
        List<Got> gotA = w.record(a);
        List<Got> gotB = w.record(b);
        InetSocketAddress pubB = w.observed(b, 5000, gotB, 3478);
        InetSocketAddress pubA = w.observed(a, 5000, gotA, 3478);
        assertEquals(5000, pubB.getPort());
        assertNotEquals(5000, pubA.getPort(), "port 5000 towards the server was taken by b");

        w.net.send(a, 5000, pubB, text("hairpin"));
        w.net.runFor(Duration.ofSeconds(1));
        Got last = gotB.get(gotB.size() - 1);
        assertEquals("hairpin", last.text());
        assertEquals(pubA, last.from(), "b sees a's public mapping, not its private address");

        w.net.send(b, 5000, last.from(), text("back"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(new Got(pubB, ep("10.0.1.2", 5000), "back"), gotA.get(gotA.size() - 1));
    }

    @Test
    void hairpinOffDropsLanTrafficToThePublicAddress() {
        World w = new World();
        SimNat nat = w.net.addNat("nat", "198.51.100.2", SimNat.Behaviour.HOME);
        SimNetwork.Host a = w.net.addHost("a", "10.0.1.2", nat);
        SimNetwork.Host b = w.net.addHost("b", "10.0.1.3", nat);
        w.record(a);
        List<Got> gotB = w.record(b);
        InetSocketAddress pubB = w.observed(b, 5000, gotB, 3478);
        int before = gotB.size();

        w.net.send(a, 5000, pubB, text("hairpin?"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(before, gotB.size());
        assertEquals(1, nat.filtered());

        w.net.send(a, 5000, ep("10.0.1.3", 5000), text("over the LAN"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(new Got(ep("10.0.1.2", 5000), ep("10.0.1.3", 5000), "over the LAN"), gotB.get(before));
    }

    @Test
    void clientIsolationLeavesOnlyTheRouterAndItsHairpin() {
        World w = new World();
        SimNat nat = w.net.addNat("nat", "198.51.100.2", SimNat.Behaviour.HOME).isolateLan(true).hairpin(true);
        SimNetwork.Host a = w.net.addHost("a", "10.0.1.2", nat);
        SimNetwork.Host b = w.net.addHost("b", "10.0.1.3", nat);
        List<Got> gotA = w.record(a);
        List<Got> gotB = w.record(b);
        InetSocketAddress pubB = w.observed(b, 5000, gotB, 3478);
        assertEquals(ep("198.51.100.2", 5000), pubB, "the internet is reachable");
        w.observed(a, 5000, gotA, 3478);
        int before = gotB.size();

        w.net.send(a, 5000, ep("10.0.1.3", 5000), text("over the LAN?"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(before, gotB.size(), "isolated: no direct LAN path");
        assertEquals(1, nat.filtered());

        w.net.send(a, 5000, pubB, text("hairpin"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals("hairpin", gotB.get(before).text());
    }

    @Test
    void blockedLetsUdpOutOnlyToTheRendezvousHost() {
        World w = new World();
        SimNat nat = w.net.addNat("nat", "198.51.100.2", SimNat.Behaviour.HOME).udpOnlyTo(SimNetwork.ip(RDV));
        SimNetwork.Host a = w.net.addHost("a", "10.0.1.2", nat);
        List<Got> gotA = w.record(a);
        List<Got> gotOther = w.record(w.other);

        assertEquals(ep("198.51.100.2", 5000), w.observed(a, 5000, gotA, 3478), "the rendezvous host, any port");
        assertEquals(ep("198.51.100.2", 5000), w.observed(a, 5000, gotA, 9999));
        w.net.send(a, 5000, ep("203.0.113.20", 7000), text("punch"));
        w.net.runFor(Duration.ofSeconds(1));
        assertTrue(gotOther.isEmpty());
        assertEquals(1, nat.filtered());
        assertEquals(-1, nat.publicPort(ep("10.0.1.2", 5000), ep("203.0.113.20", 7000)), "no mapping was made");

        int before = gotA.size();
        w.net.send(w.other, 7000, ep("198.51.100.2", 5000), text("the partner's punch"));
        w.net.runFor(Duration.ofSeconds(1));
        assertEquals(before, gotA.size(), "and nothing gets in");
    }

    @Test
    void anImpairedWanLinkLosesAndDelaysBothWays() {
        World w = new World();
        SimNat nat = w.net.addNat("nat", "198.51.100.2", SimNat.Behaviour.HOME)
                .impairWan(0.2, Duration.ofMillis(100));
        SimNetwork.Host a = w.net.addHost("a", "10.0.1.2", nat);
        List<Got> got = new ArrayList<>();
        List<Long> at = new ArrayList<>();
        w.net.attach(a, (now, from, to, d) -> {
            got.add(new Got(from, to, StandardText.of(d)));
            at.add(now);
        });

        int n = 2000;
        long sentAt = w.net.now();
        for (int i = 0; i < n; i++) {
            w.net.send(a, 5000, ep(RDV, 3478), text("probe"));
        }
        w.net.runFor(Duration.ofSeconds(2));
        // out and back over the impaired link: 0.8 * 0.8 survive
        double survived = got.size() / (double) n;
        assertTrue(survived > 0.60 && survived < 0.68, "round trips survived: " + survived);
        // 2 hops out (LAN, NAT) at 5 ms + 100 ms, the reply 1 hop + 100 ms (inbound translation is instant)
        assertEquals(Duration.ofMillis(215).toNanos(), at.get(0) - sentAt);
    }
}
