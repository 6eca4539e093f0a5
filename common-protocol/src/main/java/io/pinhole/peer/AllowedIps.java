package io.pinhole.peer;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * AllowedIps: the networks a peer may send from and we may send to through its tunnel,
 * WireGuard's cryptokey routing table for one peer. An inner packet decrypted from the peer is
 * accepted only when its source address lies in one of the networks ({@link #source}); a packet
 * read from the TUN device goes to the peer only when its destination does ({@link #destination}).
 *
 * <p>Lookups are longest-prefix matches over IPv4 and IPv6 networks (each family sorted by prefix
 * length, longest first, so the first match is the longest; tables are a handful of networks),
 * read the address straight from the packet in a {@link ByteBuffer} with absolute reads (from its
 * position; position, limit and byte order untouched) and allocate nothing.
 *
 * <p>Networks are written as CIDRs, {@code 10.0.0.0/24} or {@code fd00::/64}; a bare address is
 * one host ({@code /32} or {@code /128}). Host bits must be zero ({@code 10.0.0.1/24} is refused,
 * as the kernel refuses such a route). IPv4-mapped IPv6 addresses and zone ids are refused.
 *
 * <p>Immutable and thread-safe.
 *
 * <p>Error contract: {@link #parse} and {@link Network#parse} throw
 * {@link IllegalArgumentException} with a one-line message that starts with the offending text in
 * quotes and says what is wrong, ready to be prefixed with an option name; lookups never throw:
 * a packet too short for its header or of another IP version is {@link Verdict#NOT_IP}.
 */
public final class AllowedIps {
    private static final int IPV4_HEADER = 20;
    private static final int IPV6_HEADER = 40;
    private static final int IPV4_SOURCE = 12;
    private static final int IPV4_DESTINATION = 16;
    private static final int IPV6_SOURCE = 8;
    private static final int IPV6_DESTINATION = 24;
    private static final Pattern IPV4 = Pattern.compile("(0|[1-9]\\d{0,2})(\\.(0|[1-9]\\d{0,2})){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:][0-9a-fA-F:.]*");
    private static final Pattern PREFIX = Pattern.compile("0|[1-9]\\d{0,2}");

    /** Every IPv4 and IPv6 address, as a WireGuard peer with {@code AllowedIPs = 0.0.0.0/0, ::/0}. */
    public static final AllowedIps ANY = of(List.of(Network.parse("0.0.0.0/0"), Network.parse("::/0"))); // after the patterns it is parsed with

    /** What a lookup says about one packet. */
    public enum Verdict {
        /** The address lies in one of the networks. */
        ALLOWED,
        /** An IPv4 or IPv6 packet whose address lies in none of the networks of its family. */
        OUTSIDE,
        /** An IPv6 packet, and the table has no IPv6 network at all. */
        NO_IPV6,
        /** Not an IPv4 or IPv6 packet (another version, or shorter than its fixed header). */
        NOT_IP
    }

    /**
     * One network: its address (host bits zero) and prefix length.
     *
     * @param address the network address, 4 or 16 bytes (the record keeps its own copy)
     * @param prefix the prefix length, 0-32 for IPv4, 0-128 for IPv6
     */
    public record Network(InetAddress address, int prefix) {
        public Network {
            int bits = address.getAddress().length * 8;
            if (prefix < 0 || prefix > bits) {
                throw new IllegalArgumentException("prefix length " + prefix + " is out of range 0-" + bits);
            }
            byte[] a = address.getAddress();
            for (int bit = prefix; bit < bits; bit++) {
                if ((a[bit / 8] & (0x80 >>> (bit % 8))) != 0) {
                    throw new IllegalArgumentException("host bits of " + address.getHostAddress() + "/" + prefix
                            + " are set");
                }
            }
        }

        /** True for an IPv6 network. */
        public boolean ipv6() {
            return address instanceof Inet6Address;
        }

        /**
         * Parses {@code ADDRESS/PREFIX} or a bare {@code ADDRESS} (one host); never resolves a name.
         *
         * @throws IllegalArgumentException with a message {@code 'TEXT' is not ...} or
         *     {@code 'TEXT' has host bits set ...}
         */
        public static Network parse(String text) {
            int slash = text.indexOf('/');
            String host = slash < 0 ? text : text.substring(0, slash);
            InetAddress address = literal(text, host);
            int bits = address.getAddress().length * 8;
            int prefix = bits;
            if (slash >= 0) {
                String length = text.substring(slash + 1);
                if (!PREFIX.matcher(length).matches() || Integer.parseInt(length) > bits) {
                    throw new IllegalArgumentException("'" + text + "' is not a network: the prefix length of an "
                            + (bits == 32 ? "IPv4" : "IPv6") + " network is 0-" + bits);
                }
                prefix = Integer.parseInt(length);
            }
            InetAddress network = masked(address, prefix);
            if (!network.equals(address)) {
                throw new IllegalArgumentException("'" + text + "' is not a network address: its host bits are set ("
                        + network.getHostAddress() + "/" + prefix + " is the network)");
            }
            return new Network(address, prefix);
        }

        private static InetAddress literal(String text, String host) {
            if (IPV4.matcher(host).matches()) {
                byte[] b = new byte[4];
                String[] parts = host.split("\\.");
                for (int i = 0; i < 4; i++) {
                    int v = Integer.parseInt(parts[i]);
                    if (v > 255) {
                        throw notAnAddress(text);
                    }
                    b[i] = (byte) v;
                }
                return byAddress(b);
            }
            if (host.indexOf(':') >= 0 && IPV6.matcher(host).matches()) {
                try {
                    InetAddress a = InetAddress.getByName(host); // a literal with ':' is never looked up
                    if (a instanceof Inet6Address) {
                        return byAddress(a.getAddress());
                    }
                } catch (UnknownHostException e) {
                    throw notAnAddress(text);
                }
            }
            throw notAnAddress(text);
        }

        private static IllegalArgumentException notAnAddress(String text) {
            return new IllegalArgumentException("'" + text + "' is not a network: give an IPv4 or IPv6 address "
                    + "with an optional prefix length, as 10.0.0.0/24 or fd00::/64");
        }

        private static InetAddress masked(InetAddress address, int prefix) {
            byte[] a = address.getAddress();
            for (int bit = prefix; bit < a.length * 8; bit++) {
                a[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
            }
            return byAddress(a);
        }

        @Override
        public String toString() {
            return address.getHostAddress() + "/" + prefix;
        }
    }

    private final List<Network> networks;
    /** IPv4, longest prefix first: network and mask as ints. */
    private final int[] v4Network;
    private final int[] v4Mask;
    private final int[] v4Prefix;
    /** IPv6, longest prefix first: network and mask as two longs each (high, low). */
    private final long[] v6High;
    private final long[] v6Low;
    private final long[] v6MaskHigh;
    private final long[] v6MaskLow;
    private final int[] v6Prefix;

    private AllowedIps(List<Network> networks) {
        List<Network> sorted = new ArrayList<>(networks);
        sorted.sort(Comparator.comparingInt(Network::prefix).reversed());
        this.networks = List.copyOf(networks);
        List<Network> v4 = sorted.stream().filter(n -> !n.ipv6()).toList();
        List<Network> v6 = sorted.stream().filter(Network::ipv6).toList();
        v4Network = new int[v4.size()];
        v4Mask = new int[v4.size()];
        v4Prefix = new int[v4.size()];
        for (int i = 0; i < v4.size(); i++) {
            Network n = v4.get(i);
            v4Network[i] = ByteBuffer.wrap(n.address().getAddress()).getInt();
            v4Mask[i] = n.prefix() == 0 ? 0 : -1 << (32 - n.prefix());
            v4Prefix[i] = n.prefix();
        }
        v6High = new long[v6.size()];
        v6Low = new long[v6.size()];
        v6MaskHigh = new long[v6.size()];
        v6MaskLow = new long[v6.size()];
        v6Prefix = new int[v6.size()];
        for (int i = 0; i < v6.size(); i++) {
            Network n = v6.get(i);
            ByteBuffer a = ByteBuffer.wrap(n.address().getAddress());
            v6High[i] = a.getLong(0);
            v6Low[i] = a.getLong(8);
            v6MaskHigh[i] = mask64(n.prefix());
            v6MaskLow[i] = mask64(n.prefix() - 64);
            v6Prefix[i] = n.prefix();
        }
    }

    /** The first {@code bits} bits of a long set (none for 0 or less, all for 64 or more). */
    private static long mask64(int bits) {
        return bits <= 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
    }

    /** A table of these networks (duplicates and overlaps allowed; the longest match wins). */
    public static AllowedIps of(Collection<Network> networks) {
        return new AllowedIps(List.copyOf(networks));
    }

    /**
     * Parses a comma-separated list of networks ({@code 10.0.0.0/24,fd00::/64}; spaces around
     * commas allowed).
     *
     * @throws IllegalArgumentException for an empty list or entry, or a bad network (see
     *     {@link Network#parse})
     */
    public static AllowedIps parse(String list) {
        List<Network> parsed = new ArrayList<>();
        for (String part : list.split(",", -1)) {
            String text = part.strip();
            if (text.isEmpty()) {
                throw new IllegalArgumentException("'" + list + "' is not a list of networks: an entry is empty");
            }
            parsed.add(Network.parse(text));
        }
        return of(parsed);
    }

    /** A table with the networks of this one and {@code more}. */
    public AllowedIps with(Collection<Network> more) {
        List<Network> all = new ArrayList<>(networks);
        all.addAll(more);
        return of(all);
    }

    /** The networks, in the order given. */
    public List<Network> networks() {
        return networks;
    }

    /** True when at least one IPv6 network is in the table. */
    public boolean hasIpv6() {
        return v6Prefix.length > 0;
    }

    /** Whether the source address of the IP packet at {@code packet}'s position is allowed. */
    public Verdict source(ByteBuffer packet) {
        return verdict(packet, IPV4_SOURCE, IPV6_SOURCE);
    }

    /** Whether the destination address of the IP packet at {@code packet}'s position is allowed. */
    public Verdict destination(ByteBuffer packet) {
        return verdict(packet, IPV4_DESTINATION, IPV6_DESTINATION);
    }

    /**
     * The prefix length of the longest network holding the IPv4 address {@code address}, or -1.
     */
    public int matchIpv4(int address) {
        for (int i = 0; i < v4Prefix.length; i++) {
            if ((address & v4Mask[i]) == v4Network[i]) {
                return v4Prefix[i];
            }
        }
        return -1;
    }

    /**
     * The prefix length of the longest network holding the IPv6 address whose first 64 bits are
     * {@code high} and last 64 bits {@code low}, or -1.
     */
    public int matchIpv6(long high, long low) {
        for (int i = 0; i < v6Prefix.length; i++) {
            if ((high & v6MaskHigh[i]) == v6High[i] && (low & v6MaskLow[i]) == v6Low[i]) {
                return v6Prefix[i];
            }
        }
        return -1;
    }

    private Verdict verdict(ByteBuffer packet, int ipv4Offset, int ipv6Offset) {
        int p = packet.position();
        int length = packet.remaining();
        if (length < 1) {
            return Verdict.NOT_IP;
        }
        int version = (packet.get(p) & 0xff) >>> 4;
        boolean little = packet.order() == ByteOrder.LITTLE_ENDIAN;
        if (version == 4) {
            if (length < IPV4_HEADER) {
                return Verdict.NOT_IP;
            }
            int a = packet.getInt(p + ipv4Offset);
            return matchIpv4(little ? Integer.reverseBytes(a) : a) >= 0 ? Verdict.ALLOWED : Verdict.OUTSIDE;
        }
        if (version == 6) {
            if (length < IPV6_HEADER) {
                return Verdict.NOT_IP;
            }
            if (!hasIpv6()) {
                return Verdict.NO_IPV6;
            }
            long high = packet.getLong(p + ipv6Offset);
            long low = packet.getLong(p + ipv6Offset + 8);
            if (little) {
                high = Long.reverseBytes(high);
                low = Long.reverseBytes(low);
            }
            return matchIpv6(high, low) >= 0 ? Verdict.ALLOWED : Verdict.OUTSIDE;
        }
        return Verdict.NOT_IP;
    }

    private static InetAddress byAddress(byte[] address) {
        try {
            return InetAddress.getByAddress(address);
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // 4 or 16 bytes
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AllowedIps other && networks.equals(other.networks);
    }

    @Override
    public int hashCode() {
        return networks.hashCode();
    }

    /** The networks, comma-separated, as {@link #parse} reads them. */
    @Override
    public String toString() {
        return String.join(",", networks.stream().map(Network::toString).toList());
    }
}
