package io.pinhole.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.device.CryptokeyRoutingTable.SourceVerdict;
import io.pinhole.peer.AllowedIps.Network;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class CryptokeyRoutingTableTest {
    /** A peer compared by identity, named for failure messages. */
    static final class Peer {
        final String name;

        Peer(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Network net(String cidr) {
        return Network.parse(cidr);
    }

    /** An IP packet of {@code version} with the given 4- or 16-byte source and destination. */
    static ByteBuffer packet(byte[] source, byte[] destination) {
        boolean v6 = source.length == 16;
        ByteBuffer b = ByteBuffer.allocate(v6 ? 48 : 28);
        if (v6) {
            b.put(0, (byte) 0x60).put(8, source).put(24, destination);
        } else {
            b.put(0, (byte) 0x45).put(12, source).put(16, destination);
        }
        return b;
    }

    static byte[] ip(String address) {
        try {
            return InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    static ByteBuffer to(String destination) {
        byte[] d = ip(destination);
        return packet(new byte[d.length], d);
    }

    static ByteBuffer from(String source) {
        byte[] s = ip(source);
        return packet(s, new byte[s.length]);
    }

    /** The brute-force oracle: the holder of the longest network containing {@code address}. */
    static <P> P oracle(Map<Network, P> routes, byte[] address) {
        P best = null;
        int bestPrefix = -1;
        for (Map.Entry<Network, P> e : routes.entrySet()) {
            byte[] n = e.getKey().address().getAddress();
            int prefix = e.getKey().prefix();
            if (n.length == address.length && prefix > bestPrefix && contains(n, prefix, address)) {
                best = e.getValue();
                bestPrefix = prefix;
            }
        }
        return best;
    }

    private static boolean contains(byte[] network, int prefix, byte[] address) {
        for (int bit = 0; bit < prefix; bit++) {
            int m = 0x80 >>> (bit % 8);
            if ((network[bit / 8] & m) != (address[bit / 8] & m)) {
                return false;
            }
        }
        return true;
    }

    /** Addresses near a few bases, so that random networks nest and overlap. */
    static byte[] address(SplittableRandom r, boolean v6) {
        byte[] a = new byte[v6 ? 16 : 4];
        r.nextBytes(a);
        int base = r.nextInt(4);
        a[0] = (byte) (v6 ? 0xfd : 10);
        a[1] = (byte) base;
        if (r.nextInt(3) == 0) {
            a[2] = 0;
        }
        if (r.nextInt(8) == 0) {
            a[0] = (byte) r.nextInt(256); // now and then anywhere
        }
        return a;
    }

    static Network randomNetwork(SplittableRandom r, boolean v6) {
        int bits = v6 ? 128 : 32;
        int[] edges = {0, 1, bits, bits, bits - 1, 8, 16, 24, 64};
        int prefix = r.nextInt(3) == 0 ? Math.min(bits, edges[r.nextInt(edges.length)]) : r.nextInt(bits + 1);
        byte[] a = address(r, v6);
        for (int bit = prefix; bit < bits; bit++) {
            a[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        try {
            return new Network(InetAddress.getByAddress(a), prefix);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Checks destination and source lookups of random addresses against the oracle. */
    static void agree(CryptokeyRoutingTable<Peer> table, Map<Network, Peer> oracle, List<Peer> peers,
            SplittableRandom r, int probes) {
        assertEquals(oracle.size(), table.size());
        for (int n = 0; n < probes; n++) {
            boolean v6 = r.nextBoolean();
            byte[] a = address(r, v6);
            if (r.nextInt(4) == 0 && !oracle.isEmpty()) { // exactly a network's address, or its last one
                List<Network> nets = new ArrayList<>(oracle.keySet());
                Network pick = nets.get(r.nextInt(nets.size()));
                a = pick.address().getAddress();
                if (r.nextBoolean()) {
                    for (int bit = pick.prefix(); bit < a.length * 8; bit++) {
                        a[bit / 8] |= (byte) (0x80 >>> (bit % 8));
                    }
                }
            }
            byte[] addr = a;
            Peer expected = oracle(oracle, a);
            byte[] zero = new byte[a.length];
            assertSame(expected, table.destination(packet(zero, a)), () -> "destination " + hex(addr));
            Peer claimed = peers.get(r.nextInt(peers.size()));
            SourceVerdict want = expected == null ? SourceVerdict.UNROUTED
                    : expected == claimed ? SourceVerdict.ALLOWED : SourceVerdict.OTHER_PEER;
            assertEquals(want, table.checkSource(packet(a, zero), claimed), () -> "source " + hex(addr));
            if (expected != null) {
                assertEquals(SourceVerdict.ALLOWED, table.checkSource(packet(a, zero), expected));
            }
        }
    }

    private static String hex(byte[] a) {
        try {
            return InetAddress.getByAddress(a).getHostAddress();
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static void randomized(int peerCount, int operations, int probes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Peer> peers = new ArrayList<>();
        for (int i = 0; i < peerCount; i++) {
            peers.add(new Peer("p" + i));
        }
        CryptokeyRoutingTable<Peer> table = new CryptokeyRoutingTable<>();
        Map<Network, Peer> oracle = new LinkedHashMap<>();
        for (int op = 0; op < operations; op++) {
            Peer peer = peers.get(r.nextInt(peerCount));
            int kind = r.nextInt(10);
            if (kind < 6) {
                Network n = randomNetwork(r, r.nextBoolean());
                table.insert(n, peer);
                oracle.put(n, peer);
            } else if (kind < 8 && !oracle.isEmpty()) {
                List<Network> nets = new ArrayList<>(oracle.keySet());
                Network n = nets.get(r.nextInt(nets.size()));
                Peer claimed = r.nextBoolean() ? oracle.get(n) : peer;
                boolean held = oracle.get(n) == claimed;
                assertEquals(held, table.remove(n, claimed));
                if (held) {
                    oracle.remove(n);
                }
            } else if (kind < 9) {
                long held = oracle.values().stream().filter(p -> p == peer).count();
                assertEquals(held, table.removePeer(peer));
                oracle.values().removeIf(p -> p == peer);
            } else {
                List<Network> nets = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    nets.add(randomNetwork(r, r.nextBoolean()));
                }
                table.setPeer(peer, nets);
                oracle.values().removeIf(p -> p == peer);
                nets.forEach(n -> oracle.put(n, peer));
            }
            agree(table, oracle, peers, r, probes);
        }
        assertEquals(oracle, table.routes());
        for (Peer p : peers) {
            assertEquals(oracle.entrySet().stream().filter(e -> e.getValue() == p).map(Map.Entry::getKey).toList(),
                    table.networksOf(p));
        }
    }

    @Test
    void onePeerAgreesWithTheOracle() {
        randomized(1, 400, 50, 1);
    }

    @Test
    void tenPeersAgreeWithTheOracle() {
        randomized(10, 1500, 40, 2);
    }

    @Test
    void aThousandPeersAgreeWithTheOracle() {
        SplittableRandom r = new SplittableRandom(3);
        List<Peer> peers = new ArrayList<>();
        CryptokeyRoutingTable<Peer> table = new CryptokeyRoutingTable<>();
        Map<Network, Peer> oracle = new LinkedHashMap<>();
        table.update(c -> {
            for (int i = 0; i < 1000; i++) {
                Peer p = new Peer("p" + i);
                peers.add(p);
                List<Network> nets = List.of(randomNetwork(r, false), randomNetwork(r, false), randomNetwork(r, true));
                c.setPeer(p, nets);
                oracle.values().removeIf(q -> q == p);
                nets.forEach(n -> oracle.put(n, p));
            }
        });
        agree(table, oracle, peers, r, 5000);
        for (int op = 0; op < 200; op++) { // then moves and removals among the 1,000
            Peer p = peers.get(r.nextInt(1000));
            if (r.nextBoolean()) {
                Network n = new ArrayList<>(oracle.keySet()).get(r.nextInt(oracle.size()));
                table.insert(n, p);
                oracle.put(n, p);
            } else {
                table.removePeer(p);
                oracle.values().removeIf(q -> q == p);
            }
            agree(table, oracle, peers, r, 50);
        }
    }

    @Test
    void aThousandPeersWithAHostAndANetworkEachRouteToTheirOwn() {
        CryptokeyRoutingTable<Peer> table = new CryptokeyRoutingTable<>();
        List<Peer> peers = new ArrayList<>();
        table.update(c -> {
            for (int i = 0; i < 1000; i++) {
                Peer p = new Peer("p" + i);
                peers.add(p);
                c.setPeer(p, List.of(net("10.250." + (i >> 8) + "." + (i & 255) + "/32"),
                        net("10." + (i >> 8) + "." + (i & 255) + ".0/24"), net("fd00::" + Integer.toHexString(i + 1) + "/128")));
            }
        });
        assertEquals(3000, table.size());
        for (int i = 0; i < 1000; i++) {
            Peer p = peers.get(i);
            Peer other = peers.get((i + 1) % 1000);
            assertSame(p, table.destination(to("10.250." + (i >> 8) + "." + (i & 255))));
            assertSame(p, table.destination(to("10." + (i >> 8) + "." + (i & 255) + "." + (i % 256))));
            assertSame(p, table.destination(to("fd00::" + Integer.toHexString(i + 1))));
            assertEquals(SourceVerdict.ALLOWED, table.checkSource(from("10." + (i >> 8) + "." + (i & 255) + ".77"), p));
            assertEquals(SourceVerdict.OTHER_PEER, table.checkSource(from("fd00::" + Integer.toHexString(i + 1)), other));
        }
        assertNull(table.destination(to("10.251.0.1")));
        assertNull(table.destination(to("fd00::ffff")));
        assertEquals(SourceVerdict.UNROUTED, table.checkSource(from("192.0.2.1"), peers.get(0)));
    }

    @Test
    void edgePrefixes() {
        Peer any = new Peer("any");
        Peer half = new Peer("half");
        Peer host = new Peer("host");
        CryptokeyRoutingTable<Peer> table = new CryptokeyRoutingTable<>();
        assertNull(table.destination(to("10.0.0.1")));
        assertNull(table.destination(to("::1")));
        table.insert(net("0.0.0.0/0"), any);
        table.insert(net("128.0.0.0/1"), half);
        table.insert(net("203.0.113.7/32"), host);
        table.insert(net("::/0"), any);
        table.insert(net("8000::/1"), half);
        table.insert(net("2001:db8::7/128"), host);
        assertSame(any, table.destination(to("0.0.0.0")));
        assertSame(any, table.destination(to("127.255.255.255")));
        assertSame(half, table.destination(to("128.0.0.0")));
        assertSame(half, table.destination(to("255.255.255.255")));
        assertSame(host, table.destination(to("203.0.113.7")));
        assertSame(half, table.destination(to("203.0.113.6")));
        assertSame(half, table.destination(to("203.0.113.8")));
        assertSame(any, table.destination(to("::")));
        assertSame(any, table.destination(to("7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assertSame(half, table.destination(to("8000::")));
        assertSame(half, table.destination(to("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
        assertSame(host, table.destination(to("2001:db8::7")));
        assertSame(any, table.destination(to("2001:db8::6"))); // 2001:: has its first bit clear
        table.insert(net("2001:db8::/32"), half);
        assertSame(host, table.destination(to("2001:db8::7")));
        assertSame(half, table.destination(to("2001:db8::6")));
        assertSame(half, table.destination(to("2001:db8:0:0:8000::7"))); // differs in the low 64 bits
        table.removePeer(any);
        assertNull(table.destination(to("10.0.0.1")));
        assertNull(table.destination(to("::1")));
        assertSame(half, table.lookupIpv4(0xffffffff));
        assertSame(host, table.lookupIpv6(0x20010db800000000L, 7));
    }

    @Test
    void insertingAnotherPeersNetworkMovesIt() {
        Peer a = new Peer("a");
        Peer b = new Peer("b");
        CryptokeyRoutingTable<Peer> table = new CryptokeyRoutingTable<>();
        table.setPeer(a, List.of(net("10.0.0.0/24"), net("10.0.1.0/24"), net("fd00::/64")));
        table.insert(net("10.0.1.0/24"), b);
        assertSame(b, table.destination(to("10.0.1.9")));
        assertSame(a, table.destination(to("10.0.0.9")));
        assertEquals(List.of(net("10.0.0.0/24"), net("fd00::/64")), table.networksOf(a));
        assertEquals(List.of(net("10.0.1.0/24")), table.networksOf(b));
        assertFalse(table.remove(net("10.0.1.0/24"), a), "a no longer holds it");
        assertSame(b, table.destination(to("10.0.1.9")));
        assertEquals(SourceVerdict.OTHER_PEER, table.checkSource(from("10.0.1.9"), a));
        table.setPeer(b, List.of(net("fd00::/64"))); // b's /24 goes, a's /64 moves to b
        assertNull(table.destination(to("10.0.1.9")));
        assertSame(b, table.destination(to("fd00::1")));
        assertEquals(List.of(net("10.0.0.0/24")), table.networksOf(a));
        assertEquals(2, table.size());
    }

    @Test
    void removingAPeerRemovesAllItsNetworksAndOnlyThose() {
        Peer a = new Peer("a");
        Peer b = new Peer("b");
        CryptokeyRoutingTable<Peer> table = new CryptokeyRoutingTable<>();
        table.setPeer(a, List.of(net("10.0.0.0/8"), net("10.1.0.0/16"), net("fd00::/8")));
        table.setPeer(b, List.of(net("10.1.2.0/24"), net("fd00::/16")));
        assertEquals(3, table.removePeer(a));
        assertEquals(0, table.removePeer(a));
        assertNull(table.destination(to("10.9.9.9")));
        assertNull(table.destination(to("10.1.9.9")));
        assertSame(b, table.destination(to("10.1.2.3")));
        assertSame(b, table.destination(to("fd00::1")));
        assertNull(table.destination(to("fd01::1")));
        assertEquals(List.of(), table.networksOf(a));
        assertTrue(table.remove(net("10.1.2.0/24"), b));
        assertFalse(table.remove(net("10.1.2.0/24"), b));
        assertEquals(1, table.size());
    }

    @Test
    void anUpdateThatThrowsChangesNothing() {
        Peer a = new Peer("a");
        CryptokeyRoutingTable<Peer> table = new CryptokeyRoutingTable<>();
        table.insert(net("10.0.0.0/24"), a);
        assertThrows(IllegalStateException.class, () -> table.update(c -> {
            c.removePeer(a);
            c.insert(net("10.9.0.0/16"), a);
            throw new IllegalStateException("half way");
        }));
        assertSame(a, table.destination(to("10.0.0.1")));
        assertNull(table.destination(to("10.9.0.1")));
        assertEquals(Map.of(net("10.0.0.0/24"), a), table.routes());
        assertThrows(NullPointerException.class, () -> table.insert(net("10.0.0.0/24"), null));
        assertThrows(NullPointerException.class, () -> table.setPeer(a, java.util.Arrays.asList((Network) null)));
        assertSame(a, table.destination(to("10.0.0.1")));
        List<CryptokeyRoutingTable.Changes<Peer>> leaked = new ArrayList<>();
        table.update(leaked::add);
        assertThrows(IllegalStateException.class, () -> leaked.get(0).insert(net("10.9.0.0/16"), a));
        assertNull(table.destination(to("10.9.0.1")));
    }

    @Test
    void malformedPacketsAreNotIpAndNeverThrow() {
        Peer any = new Peer("any");
        CryptokeyRoutingTable<Peer> table = new CryptokeyRoutingTable<>();
        table.setPeer(any, List.of(net("0.0.0.0/0"), net("::/0")));
        ByteBuffer v4 = to("10.0.0.1");
        ByteBuffer v6 = to("fd00::1");
        assertEquals(SourceVerdict.NOT_IP, table.checkSource(ByteBuffer.allocate(0), any));
        assertNull(table.destination(ByteBuffer.allocate(0)));
        assertNull(table.destination(v4.duplicate().limit(19)));
        assertEquals(SourceVerdict.NOT_IP, table.checkSource(v4.duplicate().limit(19), any));
        assertSame(any, table.destination(v4.duplicate().limit(20)));
        assertNull(table.destination(v6.duplicate().limit(39)));
        assertSame(any, table.destination(v6.duplicate().limit(40)));
        assertEquals(SourceVerdict.ALLOWED, table.checkSource(v6.duplicate().limit(40), any));
        for (int version : new int[] {0, 1, 5, 7, 15}) {
            ByteBuffer b = to("10.0.0.1");
            b.put(0, (byte) (version << 4 | 5));
            assertNull(table.destination(b));
            assertEquals(SourceVerdict.NOT_IP, table.checkSource(b, any));
            assertEquals(0, CryptokeyRoutingTable.ipVersion(b));
        }
        SplittableRandom r = new SplittableRandom(4);
        for (int n = 0; n < 20_000; n++) { // garbage of every short length, at odd positions, either order
            byte[] junk = new byte[r.nextInt(64)];
            r.nextBytes(junk);
            int at = junk.length == 0 ? 0 : r.nextInt(junk.length + 1);
            ByteBuffer b = ByteBuffer.wrap(junk).position(at).order(r.nextBoolean() ? ByteOrder.BIG_ENDIAN
                    : ByteOrder.LITTLE_ENDIAN);
            int version = CryptokeyRoutingTable.ipVersion(b);
            Peer route = table.destination(b);
            SourceVerdict verdict = table.checkSource(b, any);
            assertEquals(version == 0 ? null : any, route);
            assertEquals(version == 0 ? SourceVerdict.NOT_IP : SourceVerdict.ALLOWED, verdict);
            assertEquals(at, b.position());
            assertEquals(junk.length, b.limit());
        }
    }

    @Test
    void readsFromThePositionInEitherByteOrderAndLeavesTheBufferAlone() {
        Peer a = new Peer("a");
        Peer b = new Peer("b");
        CryptokeyRoutingTable<Peer> table = new CryptokeyRoutingTable<>();
        table.insert(net("198.51.100.0/24"), a);
        table.insert(net("203.0.113.0/24"), b);
        table.insert(net("2001:db8:1::/48"), a);
        table.insert(net("2001:db8:2::/48"), b);
        for (ByteOrder order : new ByteOrder[] {ByteOrder.BIG_ENDIAN, ByteOrder.LITTLE_ENDIAN}) {
            for (boolean direct : new boolean[] {false, true}) {
                for (String[] pair : new String[][] {{"198.51.100.1", "203.0.113.1"}, {"2001:db8:1::1", "2001:db8:2::1"}}) {
                    ByteBuffer p = packet(ip(pair[0]), ip(pair[1]));
                    ByteBuffer buf = (direct ? ByteBuffer.allocateDirect(p.capacity() + 7) : ByteBuffer.allocate(p.capacity() + 7));
                    buf.position(7);
                    buf.put(p);
                    buf.position(7).limit(7 + p.capacity());
                    buf.order(order);
                    ByteBuffer ro = buf.asReadOnlyBuffer().order(order);
                    assertSame(b, table.destination(ro));
                    assertEquals(SourceVerdict.ALLOWED, table.checkSource(ro, a));
                    assertEquals(SourceVerdict.OTHER_PEER, table.checkSource(ro, b));
                    assertEquals(7, ro.position());
                    assertEquals(order, ro.order());
                }
            }
        }
    }

    /**
     * One writer swaps two whole states over and over (each an update of several changes, some of
     * which alone would leave addresses unrouted or routed to a third peer) while readers look
     * up: every answer must be the one state A or state B gives.
     */
    @Test
    void readersSeeTheOldOrTheNewTableNeverAMixture() throws Exception {
        Peer x = new Peer("x");
        Peer y = new Peer("y");
        Peer z = new Peer("z");
        CryptokeyRoutingTable<Peer> table = new CryptokeyRoutingTable<>();
        // A: x has 10.1.0.0/16 and fd00::/16, y has 10.1.2.0/24 and fd00:1::/32.
        // B: swapped, via z: a change at a time would pass states where z or nobody answers.
        Map<Network, Peer> stateA = Map.of(net("10.1.0.0/16"), x, net("10.1.2.0/24"), y,
                net("fd00::/16"), x, net("fd00:1::/32"), y);
        Map<Network, Peer> stateB = Map.of(net("10.1.0.0/16"), y, net("10.1.2.0/24"), x,
                net("fd00::/16"), y, net("fd00:1::/32"), x);
        table.update(c -> stateA.forEach(c::insert));
        table.insert(net("192.0.2.0/24"), z); // never changes
        String[] probes = {"10.1.2.3", "10.1.9.9", "fd00:1::5", "fd00:9::5", "192.0.2.9"};
        Peer[][] allowed = new Peer[probes.length][];
        Map<Network, Peer> a = new LinkedHashMap<>(stateA);
        Map<Network, Peer> b = new LinkedHashMap<>(stateB);
        a.put(net("192.0.2.0/24"), z);
        b.put(net("192.0.2.0/24"), z);
        for (int i = 0; i < probes.length; i++) {
            allowed[i] = new Peer[] {oracle(a, ip(probes[i])), oracle(b, ip(probes[i]))};
        }
        ByteBuffer[] packets = new ByteBuffer[probes.length];
        for (int i = 0; i < probes.length; i++) {
            packets[i] = to(probes[i]);
        }
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<String> failure = new AtomicReference<>();
        long[] lookups = new long[2];
        List<Thread> readers = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int id = t;
            Thread reader = new Thread(() -> {
                int i = id;
                long n = 0;
                while (!stop.get() && failure.get() == null) {
                    int k = i++ % probes.length;
                    Peer got = table.destination(packets[k]);
                    if (got != allowed[k][0] && got != allowed[k][1]) {
                        failure.set(probes[k] + " routed to " + got);
                    }
                    n++;
                }
                lookups[id] = n;
            });
            readers.add(reader);
            reader.start();
        }
        for (int round = 0; round < 4000 && failure.get() == null; round++) {
            Map<Network, Peer> next = round % 2 == 0 ? stateB : stateA;
            table.update(c -> {
                c.removePeer(x);
                c.removePeer(y);
                next.keySet().forEach(n -> c.insert(n, z));
                next.forEach(c::insert);
            });
        }
        stop.set(true);
        for (Thread reader : readers) {
            reader.join();
        }
        assertNull(failure.get());
        assertTrue(lookups[0] > 0 && lookups[1] > 0);
    }
}
