package io.pinhole.device;

import io.pinhole.peer.AllowedIps.Network;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * CryptokeyRoutingTable: WireGuard's cryptokey routing for a device with N peers: IPv4 and IPv6
 * networks mapped to the peer that holds them. A packet read from the TUN device goes to the peer
 * holding the longest network that contains its destination ({@link #destination}); a packet
 * decrypted from a peer is accepted only when the longest network containing its source is held by
 * that very peer ({@link #checkSource}). {@link io.pinhole.peer.AllowedIps} is one peer's list
 * (what its configuration says); this table is the device's union of them.
 *
 * <p>Semantics as wireguard-go's {@code device/allowedips.go}: a network is held by at most one
 * peer; inserting a network another peer holds moves it to the new peer; removing a peer removes
 * all its networks. Peers are compared by identity ({@code ==}), as wireguard-go compares peer
 * pointers; {@code equals} is never called.
 *
 * <p>Structure: an immutable snapshot per change, published through one volatile field. Per
 * family, the snapshot holds the distinct prefix lengths present, longest first, and one
 * open-addressing hash table keyed by (prefix length, masked address). A lookup masks the address
 * with each present length in turn and probes the table once per length; the first hit is the
 * longest match. Its cost is the number of distinct prefix lengths in use (at most 33 for IPv4,
 * 129 for IPv6; 2 and 1 for peers that each hold a /32, a /24 and a /128), not the number of
 * peers or networks. A change rebuilds the snapshot from the owner's map: O(networks), on the
 * control side only (bench/device-tables.sh measures both); so configure many peers in one
 * {@link #update}, not one change each.
 *
 * <p>Thread safety: single writer, many readers. Changes ({@link #update} and the one-change
 * helpers) are meant for the control side's owner thread; they are also serialised by this
 * object's monitor, so a second writer is safe, only slower. Lookups ({@link #destination},
 * {@link #checkSource}, {@link #lookupIpv4}, {@link #lookupIpv6}) take no lock, allocate nothing
 * and may run on any number of data threads at once. A lookup reads the volatile snapshot field
 * once and then only that snapshot's arrays, which are never written after the snapshot is built;
 * the volatile write that publishes a snapshot happens-after every write that built it, and the
 * lookup's volatile read happens-before its array reads, so a lookup sees one snapshot whole: the
 * table before a change or after it, never a mixture (an {@link #update} of many changes is one
 * change). A lookup that starts after a change returned (in happens-before order, e.g. on the
 * owner thread, or after a volatile handoff) sees that change or a later one.
 *
 * <p>Error contract: lookups never throw: a buffer too short for the fixed header of its IP
 * version, or of another version, is {@link SourceVerdict#NOT_IP} or a {@code null} route. They
 * read with absolute gets from the buffer's position and leave position, limit and byte order
 * untouched; either byte order is read correctly. Changes throw {@link NullPointerException} for a
 * null network or peer; an exception thrown inside an {@link #update} discards all its changes.
 *
 * @param <P> the peer type (compared by identity)
 */
public final class CryptokeyRoutingTable<P> {
    private static final int IPV4_HEADER = 20;
    private static final int IPV6_HEADER = 40;
    private static final int IPV4_SOURCE = 12;
    private static final int IPV4_DESTINATION = 16;
    private static final int IPV6_SOURCE = 8;
    private static final int IPV6_DESTINATION = 24;
    private static final long EMPTY4 = -1L; // prefix length 0xffffffff never occurs
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final long MIX = 0xC2B2AE3D27D4EB4FL;

    /** What {@link #checkSource} says about a decrypted packet. */
    public enum SourceVerdict {
        /** The longest network holding the source is the peer's: accept. */
        ALLOWED,
        /** The longest network holding the source is another peer's. */
        OTHER_PEER,
        /** No network of the table holds the source. */
        UNROUTED,
        /** Not an IPv4 or IPv6 packet (another version, or shorter than its fixed header). */
        NOT_IP
    }

    /**
     * The changes of one {@link #update}, applied in order and published together. Only valid
     * inside the update that handed it over: afterwards each method throws
     * {@link IllegalStateException}.
     *
     * @param <P> the peer type
     */
    public interface Changes<P> {
        /** Maps {@code network} to {@code peer}, moving it from the peer that held it, if any. */
        void insert(Network network, P peer);

        /** Removes {@code network} if {@code peer} holds it; true if it did. */
        boolean remove(Network network, P peer);

        /** Removes every network {@code peer} holds; returns how many. */
        int removePeer(P peer);

        /**
         * Makes {@code networks} exactly the networks {@code peer} holds: its others are removed,
         * these are inserted (moved from other peers that held them).
         */
        void setPeer(P peer, Collection<Network> networks);
    }

    /** The owner's map, read and replaced only under this object's monitor; insertion order kept. */
    private Map<Network, P> routes = new LinkedHashMap<>();
    private volatile Snapshot snapshot = Snapshot.EMPTY;

    /** An empty table. */
    public CryptokeyRoutingTable() {
    }

    /**
     * Applies {@code changes} to a copy of the table and publishes the result as one change; if
     * {@code changes} throws, nothing is published and the exception propagates.
     */
    public synchronized void update(Consumer<? super Changes<P>> changes) {
        Map<Network, P> next = new LinkedHashMap<>(routes);
        Editor<P> editor = new Editor<>(next);
        try {
            changes.accept(editor);
        } finally {
            editor.closed = true;
        }
        Snapshot built = Snapshot.build(next);
        routes = next;
        snapshot = built;
    }

    /** {@link Changes#insert} as one change. */
    public void insert(Network network, P peer) {
        update(c -> c.insert(network, peer));
    }

    /** {@link Changes#remove} as one change. */
    public boolean remove(Network network, P peer) {
        boolean[] removed = new boolean[1];
        update(c -> removed[0] = c.remove(network, peer));
        return removed[0];
    }

    /** {@link Changes#removePeer} as one change. */
    public int removePeer(P peer) {
        int[] removed = new int[1];
        update(c -> removed[0] = c.removePeer(peer));
        return removed[0];
    }

    /** {@link Changes#setPeer} as one change. */
    public void setPeer(P peer, Collection<Network> networks) {
        update(c -> c.setPeer(peer, networks));
    }

    /** The networks {@code peer} holds, in table order (each network's first insertion). Control side. */
    public synchronized List<Network> networksOf(P peer) {
        List<Network> held = new ArrayList<>();
        routes.forEach((n, p) -> {
            if (p == peer) {
                held.add(n);
            }
        });
        return held;
    }

    /** Every network and its peer, in table order (an unmodifiable copy). Control side. */
    public synchronized Map<Network, P> routes() {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(routes));
    }

    /** The number of networks in the table. */
    public int size() {
        return snapshot.size;
    }

    /**
     * The peer a packet read from the TUN device goes to: the holder of the longest network
     * containing the destination of the IP packet at {@code packet}'s position; {@code null} when
     * no network holds it or the packet is not IP ({@link #ipVersion} tells which).
     */
    public P destination(ByteBuffer packet) {
        return peerFor(snapshot, packet, IPV4_DESTINATION, IPV6_DESTINATION);
    }

    /**
     * Whether a packet decrypted from {@code peer} may enter: the longest network containing the
     * source of the IP packet at {@code packet}'s position must be held by {@code peer}.
     */
    public SourceVerdict checkSource(ByteBuffer packet, P peer) {
        if (ipVersion(packet) == 0) {
            return SourceVerdict.NOT_IP;
        }
        P holder = peerFor(snapshot, packet, IPV4_SOURCE, IPV6_SOURCE);
        if (holder == null) {
            return SourceVerdict.UNROUTED;
        }
        return holder == peer ? SourceVerdict.ALLOWED : SourceVerdict.OTHER_PEER;
    }

    /** The holder of the longest network containing the IPv4 address {@code address}, or null. */
    public P lookupIpv4(int address) {
        return snapshot.lookup4(address);
    }

    /**
     * The holder of the longest network containing the IPv6 address whose first 64 bits are
     * {@code high} and last 64 bits {@code low}, or null.
     */
    public P lookupIpv6(long high, long low) {
        return snapshot.lookup6(high, low);
    }

    /**
     * 4 or 6 when the bytes from {@code packet}'s position start an IPv4 or IPv6 packet at least
     * as long as that version's fixed header (20 or 40 bytes), else 0. Never throws.
     */
    public static int ipVersion(ByteBuffer packet) {
        int length = packet.remaining();
        if (length < 1) {
            return 0;
        }
        int version = (packet.get(packet.position()) & 0xff) >>> 4;
        if (version == 4 && length >= IPV4_HEADER) {
            return 4;
        }
        if (version == 6 && length >= IPV6_HEADER) {
            return 6;
        }
        return 0;
    }

    private P peerFor(Snapshot s, ByteBuffer packet, int ipv4Offset, int ipv6Offset) {
        int version = ipVersion(packet);
        int p = packet.position();
        boolean little = packet.order() == ByteOrder.LITTLE_ENDIAN;
        if (version == 4) {
            int a = packet.getInt(p + ipv4Offset);
            return s.lookup4(little ? Integer.reverseBytes(a) : a);
        }
        if (version == 6) {
            long high = packet.getLong(p + ipv6Offset);
            long low = packet.getLong(p + ipv6Offset + 8);
            return little ? s.lookup6(Long.reverseBytes(high), Long.reverseBytes(low)) : s.lookup6(high, low);
        }
        return null;
    }

    private static final class Editor<P> implements Changes<P> {
        private final Map<Network, P> routes;
        boolean closed;

        Editor(Map<Network, P> routes) {
            this.routes = routes;
        }

        private void open() {
            if (closed) {
                throw new IllegalStateException("changes used after their update returned");
            }
        }

        @Override
        public void insert(Network network, P peer) {
            open();
            Objects.requireNonNull(network, "network");
            Objects.requireNonNull(peer, "peer");
            routes.put(network, peer);
        }

        @Override
        public boolean remove(Network network, P peer) {
            open();
            Objects.requireNonNull(network, "network");
            Objects.requireNonNull(peer, "peer");
            if (routes.get(network) == peer) {
                routes.remove(network);
                return true;
            }
            return false;
        }

        @Override
        public int removePeer(P peer) {
            open();
            Objects.requireNonNull(peer, "peer");
            int before = routes.size();
            routes.values().removeIf(p -> p == peer);
            return before - routes.size();
        }

        @Override
        public void setPeer(P peer, Collection<Network> networks) {
            open();
            List<Network> copy = List.copyOf(networks); // null-hostile: refuses null entries
            removePeer(peer);
            for (Network n : copy) {
                insert(n, peer);
            }
        }
    }

    /** One immutable state of the table; see the class comment for the structure. */
    private static final class Snapshot {
        static final Snapshot EMPTY = build(Map.of());

        final int size;
        /** IPv4: distinct prefix lengths, longest first, and their masks. */
        final int[] lengths4;
        final int[] masks4;
        /** IPv4 table: key (length << 32 | masked address), EMPTY4 where free. */
        final long[] keys4;
        final Object[] peers4;
        final int shift4;
        /** IPv6: distinct prefix lengths, longest first, and their masks (high, low). */
        final int[] lengths6;
        final long[] masksHigh6;
        final long[] masksLow6;
        /** IPv6 table: masked address (high, low) and prefix length, -1 where free. */
        final long[] high6;
        final long[] low6;
        final int[] length6;
        final Object[] peers6;
        final int shift6;

        private Snapshot(Map<Network, ?> routes) {
            List<Map.Entry<Network, ?>> v4 = new ArrayList<>();
            List<Map.Entry<Network, ?>> v6 = new ArrayList<>();
            TreeSet<Integer> set4 = new TreeSet<>((a, b) -> b - a);
            TreeSet<Integer> set6 = new TreeSet<>((a, b) -> b - a);
            for (Map.Entry<Network, ?> e : routes.entrySet()) {
                if (e.getKey().ipv6()) {
                    v6.add(e);
                    set6.add(e.getKey().prefix());
                } else {
                    v4.add(e);
                    set4.add(e.getKey().prefix());
                }
            }
            size = routes.size();
            lengths4 = set4.stream().mapToInt(Integer::intValue).toArray();
            masks4 = new int[lengths4.length];
            for (int i = 0; i < lengths4.length; i++) {
                masks4[i] = lengths4[i] == 0 ? 0 : -1 << (32 - lengths4[i]);
            }
            int capacity4 = capacity(v4.size());
            shift4 = 64 - Integer.numberOfTrailingZeros(capacity4);
            keys4 = new long[capacity4];
            peers4 = new Object[capacity4];
            java.util.Arrays.fill(keys4, EMPTY4);
            for (Map.Entry<Network, ?> e : v4) {
                long key = key4(ByteBuffer.wrap(e.getKey().address().getAddress()).getInt(), e.getKey().prefix());
                int i = slot(key, shift4);
                while (keys4[i] != EMPTY4) {
                    i = (i + 1) & (capacity4 - 1);
                }
                keys4[i] = key;
                peers4[i] = e.getValue();
            }
            lengths6 = set6.stream().mapToInt(Integer::intValue).toArray();
            masksHigh6 = new long[lengths6.length];
            masksLow6 = new long[lengths6.length];
            for (int i = 0; i < lengths6.length; i++) {
                masksHigh6[i] = mask64(lengths6[i]);
                masksLow6[i] = mask64(lengths6[i] - 64);
            }
            int capacity6 = capacity(v6.size());
            shift6 = 64 - Integer.numberOfTrailingZeros(capacity6);
            high6 = new long[capacity6];
            low6 = new long[capacity6];
            length6 = new int[capacity6];
            peers6 = new Object[capacity6];
            java.util.Arrays.fill(length6, -1);
            for (Map.Entry<Network, ?> e : v6) {
                ByteBuffer a = ByteBuffer.wrap(e.getKey().address().getAddress());
                long high = a.getLong(0);
                long low = a.getLong(8);
                int length = e.getKey().prefix();
                int i = slot(key6(high, low, length), shift6);
                while (length6[i] >= 0) {
                    i = (i + 1) & (capacity6 - 1);
                }
                high6[i] = high;
                low6[i] = low;
                length6[i] = length;
                peers6[i] = e.getValue();
            }
        }

        static Snapshot build(Map<Network, ?> routes) {
            return new Snapshot(routes);
        }

        /** A power of two at least twice {@code entries} (load factor at most 1/2), at least 2. */
        private static int capacity(int entries) {
            return Math.max(2, Integer.highestOneBit(Math.max(1, entries) * 2 - 1) << 1);
        }

        private static long mask64(int bits) {
            return bits <= 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
        }

        private static long key4(int masked, int length) {
            return (long) length << 32 | (masked & 0xffffffffL);
        }

        private static long key6(long high, long low, int length) {
            return (high * GOLDEN + low) * MIX + length;
        }

        private static int slot(long key, int shift) {
            return (int) ((key * GOLDEN) >>> shift);
        }

        @SuppressWarnings("unchecked")
        <P> P lookup4(int address) {
            int[] lengths = lengths4;
            long[] keys = keys4;
            int mask = keys.length - 1;
            for (int l = 0; l < lengths.length; l++) {
                long key = key4(address & masks4[l], lengths[l]);
                for (int i = slot(key, shift4);; i = (i + 1) & mask) {
                    long k = keys[i];
                    if (k == key) {
                        return (P) peers4[i];
                    }
                    if (k == EMPTY4) {
                        break;
                    }
                }
            }
            return null;
        }

        @SuppressWarnings("unchecked")
        <P> P lookup6(long high, long low) {
            int[] lengths = lengths6;
            int mask = length6.length - 1;
            for (int l = 0; l < lengths.length; l++) {
                long h = high & masksHigh6[l];
                long lo = low & masksLow6[l];
                int length = lengths[l];
                for (int i = slot(key6(h, lo, length), shift6);; i = (i + 1) & mask) {
                    int k = length6[i];
                    if (k == length && high6[i] == h && low6[i] == lo) {
                        return (P) peers6[i];
                    }
                    if (k < 0) {
                        break;
                    }
                }
            }
            return null;
        }
    }
}
