package io.pinhole.bench;

import io.pinhole.device.CryptokeyRoutingTable;
import io.pinhole.device.CryptokeyRoutingTable.SourceVerdict;
import io.pinhole.device.IndexTable;
import io.pinhole.peer.AllowedIps;
import io.pinhole.peer.AllowedIps.Network;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * DeviceTablesBench: the cost of the device's two lookup tables (issue 10, "a device with N peers
 * at its core") with 1 and 1,000 configured peers, one thread, in memory. A benchmark, not a test:
 * bench/device-tables.sh runs it on each JDK.
 *
 * <p>Each peer {@code i} holds {@code 10.250.(i/256).(i%256)/32}, {@code 10.(i/256).(i%256).0/24}
 * and {@code fd00::(i+1)/128}, and three receiver indices (a keypair's current, previous and next).
 * 4,096 packets are spread over the peers (half to a peer's /32, half into its /24; IPv6 to its
 * /128), in random order, so the tables are hit all over rather than in one place.
 *
 * <p>Cases, per peer count:
 * <ul>
 *   <li>{@code route-v4}, {@code route-v6}: {@link CryptokeyRoutingTable#destination} of a packet
 *       read from TUN: which peer gets it.
 *   <li>{@code source-v4}: {@link CryptokeyRoutingTable#checkSource} of a decrypted packet against
 *       the peer it came from.
 *   <li>{@code linear-route-v4}: the same answer from N per-peer {@link AllowedIps} lists scanned in
 *       turn (each its own longest match, the longest over all peers wins): what the device would
 *       cost without a device-level table. The baseline the table is chosen against.
 *   <li>{@code trie-route-v4}: the same answer from an IPv4 multibit trie (stride 8, prefixes
 *       expanded into the slots they cover, at most 4 steps; {@link Stride8Trie}, written for this
 *       benchmark only): the other structure the table could have been.
 *   <li>{@code index}: {@link IndexTable#get} of a receiver index.
 *   <li>{@code hashmap-index}: the same from a {@code HashMap<Integer, ...>} (boxing on the way in;
 *       the baseline the brief rules out).
 *   <li>{@code update}: one control-side change ({@link CryptokeyRoutingTable#insert} or
 *       {@link CryptokeyRoutingTable#remove} of one /32, alternately): the snapshot rebuild.
 * </ul>
 *
 * <p>Method: each case warms up, then {@code rounds} rounds run every case once, the order rotated
 * each round, for {@code seconds} each; every measurement is printed as
 * {@code RESULT <java.version> <peers> <case> <ns per operation>}. Arguments: [rounds=5]
 * [seconds=0.3] [warm-up seconds=1].
 */
public final class DeviceTablesBench {
    private static final int PACKETS = 4096;

    private DeviceTablesBench() {
    }

    /** One case: one operation on the {@code i}-th packet or index; returns something to keep. */
    interface Case {
        int run(int i);
    }

    /** One configured device: its tables, baselines and packets. */
    static final class Device {
        final Object[] peers;
        final CryptokeyRoutingTable<Object> routes = new CryptokeyRoutingTable<>();
        final AllowedIps[] perPeer;
        final Stride8Trie trie = new Stride8Trie();
        final IndexTable<Object> indices = new IndexTable<>(new SplittableRandom(1));
        final Map<Integer, Object> boxed = new HashMap<>();
        final ByteBuffer[] v4 = new ByteBuffer[PACKETS];
        final ByteBuffer[] v6 = new ByteBuffer[PACKETS];
        final Object[] senders = new Object[PACKETS];
        final int[] receiverIndex = new int[PACKETS];

        Device(int count) {
            peers = new Object[count];
            perPeer = new AllowedIps[count];
            List<Integer> allIndices = new ArrayList<>();
            routes.update(c -> {
                for (int i = 0; i < count; i++) {
                    Object peer = "peer " + i;
                    peers[i] = peer;
                    List<Network> nets = List.of(Network.parse(host(i)), Network.parse(lan(i) + "/24"),
                            Network.parse("fd00::" + Integer.toHexString(i + 1) + "/128"));
                    c.setPeer(peer, nets);
                    perPeer[i] = AllowedIps.of(nets);
                    for (int k = 0; k < 3; k++) {
                        int index = indices.allocate(peer);
                        boxed.put(index, peer);
                        allIndices.add(index);
                    }
                }
            });
            List<Map.Entry<Network, Object>> v4Routes = new ArrayList<>();
            routes.routes().forEach((n, peer) -> {
                if (!n.ipv6()) {
                    v4Routes.add(Map.entry(n, peer));
                }
            });
            v4Routes.sort(java.util.Comparator.comparingInt(e -> e.getKey().prefix()));
            for (Map.Entry<Network, Object> e : v4Routes) {
                trie.insert(ByteBuffer.wrap(e.getKey().address().getAddress()).getInt(), e.getKey().prefix(), e.getValue());
            }
            SplittableRandom r = new SplittableRandom(2);
            for (int n = 0; n < PACKETS; n++) {
                int i = r.nextInt(count);
                senders[n] = peers[i];
                String v4Address = n % 2 == 0 ? host(i).substring(0, host(i).length() - 3)
                        : lan(i).substring(0, lan(i).length() - 1) + (1 + r.nextInt(254));
                v4[n] = packet(v4Address, false);
                v6[n] = packet("fd00::" + Integer.toHexString(i + 1), true);
                receiverIndex[n] = allIndices.get(r.nextInt(allIndices.size()));
            }
        }

        private static String host(int i) {
            return "10.250." + (i >> 8) + "." + (i & 255) + "/32";
        }

        private static String lan(int i) {
            return "10." + (i >> 8) + "." + (i & 255) + ".0";
        }

        /** A packet with {@code address} as both source and destination. */
        private static ByteBuffer packet(String address, boolean v6) {
            byte[] a = Network.parse(address).address().getAddress();
            ByteBuffer b = ByteBuffer.allocateDirect(v6 ? 48 : 28);
            b.put(0, (byte) (v6 ? 0x60 : 0x45));
            b.put(v6 ? 8 : 12, a).put(v6 ? 24 : 16, a);
            return b;
        }

        /** The longest match over every peer's own list, in turn. */
        Object linearRoute(ByteBuffer packet) {
            int address = packet.getInt(packet.position() + 16);
            Object best = null;
            int bestPrefix = -1;
            for (int i = 0; i < perPeer.length; i++) {
                int m = perPeer[i].matchIpv4(address);
                if (m > bestPrefix) {
                    bestPrefix = m;
                    best = peers[i];
                }
            }
            return best;
        }
    }

    /**
     * An IPv4 multibit trie, stride 8: node {@code n}'s slot {@code b} holds the longest network
     * ending in that step and covering byte {@code b} (its peer) and the child node for {@code b}.
     * Networks must be inserted shortest first, so that longer ones overwrite the slots they share.
     */
    static final class Stride8Trie {
        private int[] child = new int[256];
        private Object[] peer = new Object[256];
        private int nodes = 1;
        private Object any;

        Stride8Trie() {
            java.util.Arrays.fill(child, -1);
        }

        void insert(int address, int prefix, Object value) {
            if (prefix == 0) {
                any = value;
                return;
            }
            int node = 0;
            int level = 0;
            for (; (level + 1) * 8 < prefix; level++) {
                int slot = node * 256 + ((address >>> (24 - 8 * level)) & 255);
                if (child[slot] < 0) {
                    int fresh = newNode(); // may replace the arrays: not inline in the assignment
                    child[slot] = fresh;
                }
                node = child[slot];
            }
            int bits = prefix - 8 * level;
            int first = (address >>> (24 - 8 * level)) & 255 & (0xff << (8 - bits));
            for (int b = first; b < first + (1 << (8 - bits)); b++) {
                peer[node * 256 + b] = value;
            }
        }

        private int newNode() {
            if ((nodes + 1) * 256 > child.length) {
                int old = child.length;
                child = java.util.Arrays.copyOf(child, old * 2);
                peer = java.util.Arrays.copyOf(peer, old * 2);
                java.util.Arrays.fill(child, old, old * 2, -1);
            }
            return nodes++;
        }

        Object lookup(int address) {
            Object best = any;
            int node = 0;
            for (int shift = 24; shift >= 0; shift -= 8) {
                int slot = node * 256 + ((address >>> shift) & 255);
                Object p = peer[slot];
                if (p != null) {
                    best = p;
                }
                node = child[slot];
                if (node < 0) {
                    break;
                }
            }
            return best;
        }
    }

    /** The trie route of an IPv4 packet, read as the table reads it (version and length checked). */
    static Object trieRoute(Stride8Trie trie, ByteBuffer packet) {
        if (CryptokeyRoutingTable.ipVersion(packet) != 4) {
            return null;
        }
        return trie.lookup(packet.getInt(packet.position() + 16));
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 0.3;
        double warmUp = args.length > 2 ? Double.parseDouble(args[2]) : 1;
        List<String> names = new ArrayList<>();
        List<Case> cases = new ArrayList<>();
        for (int count : new int[] {1, 1000}) {
            Device d = new Device(count);
            check(d);
            String p = count + "\t";
            names.add(p + "route-v4");
            cases.add(i -> d.routes.destination(d.v4[i & (PACKETS - 1)]).hashCode());
            names.add(p + "route-v6");
            cases.add(i -> d.routes.destination(d.v6[i & (PACKETS - 1)]).hashCode());
            names.add(p + "source-v4");
            cases.add(i -> d.routes.checkSource(d.v4[i & (PACKETS - 1)], d.senders[i & (PACKETS - 1)]).ordinal());
            names.add(p + "linear-route-v4");
            cases.add(i -> d.linearRoute(d.v4[i & (PACKETS - 1)]).hashCode());
            names.add(p + "trie-route-v4");
            cases.add(i -> trieRoute(d.trie, d.v4[i & (PACKETS - 1)]).hashCode());
            names.add(p + "index");
            cases.add(i -> d.indices.get(d.receiverIndex[i & (PACKETS - 1)]).hashCode());
            names.add(p + "hashmap-index");
            cases.add(i -> d.boxed.get(d.receiverIndex[i & (PACKETS - 1)]).hashCode());
            names.add(p + "update");
            Network extra = Network.parse("192.0.2.1/32");
            cases.add(i -> {
                if ((i & 1) == 0) {
                    d.routes.insert(extra, d.peers[0]);
                    return 1;
                }
                return d.routes.remove(extra, d.peers[0]) ? 1 : 0;
            });
        }
        String version = System.getProperty("java.version");
        System.out.println("# java " + version + " (" + System.getProperty("java.vm.name") + "), "
                + Runtime.getRuntime().availableProcessors() + " cpus");
        long sink = 0;
        for (Case c : cases) {
            sink += (long) time(c, warmUp)[1];
        }
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < cases.size(); k++) {
                int i = (k + r) % cases.size();
                double[] m = time(cases.get(i), seconds);
                sink += (long) m[1];
                System.out.printf("RESULT %s\t%s\t%.2f%n", version, names.get(i), m[0]);
            }
        }
        System.out.println("# sink " + (sink & 1));
    }

    /** Every table must give the answers the packets were built for before anything is timed. */
    private static void check(Device d) {
        for (int n = 0; n < PACKETS; n++) {
            Object sender = d.senders[n];
            if (d.routes.destination(d.v4[n]) != sender || d.routes.destination(d.v6[n]) != sender
                    || d.linearRoute(d.v4[n]) != sender || trieRoute(d.trie, d.v4[n]) != sender
                    || d.routes.checkSource(d.v4[n], sender) != SourceVerdict.ALLOWED
                    || d.indices.get(d.receiverIndex[n]) != d.boxed.get(d.receiverIndex[n])) {
                throw new IllegalStateException("packet " + n + " is not routed to the peer it was made for");
            }
        }
    }

    /** Runs {@code c} for {@code seconds}; returns ns per operation and a checksum. */
    private static double[] time(Case c, double seconds) {
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long n = 0;
        long sum = 0;
        long t;
        int i = 0;
        do {
            for (int k = 0; k < 64; k++) {
                sum += c.run(i++);
            }
            n += 64;
            t = System.nanoTime();
        } while (t < end);
        return new double[] {(t - start) / (double) n, sum};
    }
}
