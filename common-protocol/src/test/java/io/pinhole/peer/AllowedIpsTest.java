package io.pinhole.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.AllowedIps.Verdict;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class AllowedIpsTest {
    /** An IPv4 header of 20 bytes at {@code at} in a buffer with {@code at} bytes before it. */
    static ByteBuffer ipv4(String source, String destination, int at) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(at + 28);
        b.put(at, (byte) 0x45).putShort(at + 2, (short) 28).put(at + 9, (byte) 17);
        b.put(at + 12, InetAddress.getByName(source).getAddress());
        b.put(at + 16, InetAddress.getByName(destination).getAddress());
        return b.position(at);
    }

    static ByteBuffer ipv6(String source, String destination) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(48);
        b.put(0, (byte) 0x60).putShort(4, (short) 8).put(6, (byte) 58).put(7, (byte) 64);
        b.put(8, InetAddress.getByName(source).getAddress());
        b.put(24, InetAddress.getByName(destination).getAddress());
        return b;
    }

    private static int v4(String address) throws Exception {
        return ByteBuffer.wrap(InetAddress.getByName(address).getAddress()).getInt();
    }

    private static int v6(AllowedIps table, String address) throws Exception {
        ByteBuffer a = ByteBuffer.wrap(InetAddress.getByName(address).getAddress());
        return table.matchIpv6(a.getLong(0), a.getLong(8));
    }

    @Test
    void aHostRouteHoldsExactlyThatAddress() throws Exception {
        AllowedIps table = AllowedIps.parse("10.10.0.2/32");
        assertEquals(32, table.matchIpv4(v4("10.10.0.2")));
        assertEquals(-1, table.matchIpv4(v4("10.10.0.3")));
        assertEquals(-1, table.matchIpv4(v4("10.10.0.0")));
        assertEquals(Verdict.ALLOWED, table.source(ipv4("10.10.0.2", "10.10.0.1", 0)));
        assertEquals(Verdict.OUTSIDE, table.source(ipv4("10.99.0.5", "10.10.0.1", 0)));
        assertEquals(Verdict.ALLOWED, table.destination(ipv4("10.10.0.1", "10.10.0.2", 0)));
        assertEquals(Verdict.OUTSIDE, table.destination(ipv4("10.10.0.2", "10.10.0.1", 0)));
        assertEquals(AllowedIps.parse("10.10.0.2"), table, "a bare address is one host");
    }

    @Test
    void slashZeroHoldsEveryAddressOfItsFamilyOnly() throws Exception {
        AllowedIps v4only = AllowedIps.parse("0.0.0.0/0");
        assertEquals(0, v4only.matchIpv4(v4("255.255.255.255")));
        assertEquals(0, v4only.matchIpv4(0));
        assertFalse(v4only.hasIpv6());
        assertEquals(Verdict.NO_IPV6, v4only.source(ipv6("fd00::1", "fd00::2")));

        AllowedIps v6only = AllowedIps.parse("::/0");
        assertEquals(0, v6(v6only, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
        assertEquals(Verdict.ALLOWED, v6only.source(ipv6("fe80::1", "ff02::2")));
        assertEquals(Verdict.OUTSIDE, v6only.source(ipv4("10.0.0.1", "10.0.0.2", 0)), "no IPv4 network at all");
        assertEquals(Verdict.ALLOWED, AllowedIps.ANY.source(ipv4("10.99.0.5", "10.0.0.2", 0)));
        assertEquals(Verdict.ALLOWED, AllowedIps.ANY.destination(ipv6("fd00::1", "2001:db8::1")));
    }

    @Test
    void a128HoldsOneIpv6HostAndOnlyItsBitsCount() throws Exception {
        AllowedIps table = AllowedIps.parse("fd00::1/128");
        assertEquals(128, v6(table, "fd00::1"));
        assertEquals(-1, v6(table, "fd00::2"));
        assertEquals(-1, v6(table, "fd01::1"), "the high half counts too");
        assertEquals(Verdict.ALLOWED, table.source(ipv6("fd00::1", "fd00::99")));
        assertEquals(Verdict.OUTSIDE, table.source(ipv6("fd00::99", "fd00::1")));
        assertEquals(Verdict.ALLOWED, table.destination(ipv6("fd00::99", "fd00::1")));
        assertTrue(table.hasIpv6());
    }

    @Test
    void prefixesThatEndInsideAHalfOfTheIpv6AddressMatchBitExactly() throws Exception {
        AllowedIps table = AllowedIps.parse("2001:db8:0:8000::/49, fd00::1:0:0/96");
        assertEquals(49, v6(table, "2001:db8:0:8000::1"));
        assertEquals(49, v6(table, "2001:db8:0:ffff:1::"));
        assertEquals(-1, v6(table, "2001:db8:0:7fff::1"), "bit 49 differs");
        assertEquals(96, v6(table, "fd00::1:0:1234"));
        assertEquals(-1, v6(table, "fd00::2:0:1234"));
    }

    @Test
    void theLongestOfOverlappingPrefixesWinsWhateverTheOrderGiven() throws Exception {
        AllowedIps table = AllowedIps.parse("10.0.0.0/8,10.1.2.0/24,10.1.0.0/16,0.0.0.0/0,fd00::/8,fd00:1::/32");
        assertEquals(24, table.matchIpv4(v4("10.1.2.3")));
        assertEquals(16, table.matchIpv4(v4("10.1.3.3")));
        assertEquals(8, table.matchIpv4(v4("10.2.0.1")));
        assertEquals(0, table.matchIpv4(v4("192.0.2.1")));
        assertEquals(32, v6(table, "fd00:1::5"));
        assertEquals(8, v6(table, "fd77::5"));
        assertEquals(-1, v6(table, "fe80::1"));
        assertEquals(List.of("10.0.0.0/8", "10.1.2.0/24", "10.1.0.0/16", "0.0.0.0/0", "fd00:0:0:0:0:0:0:0/8",
                "fd00:1:0:0:0:0:0:0/32"), table.networks().stream().map(Object::toString).toList(), "kept as given");
        assertEquals(table, AllowedIps.parse(table.toString()));
    }

    @Test
    void lookupsReadAtThePositionWithAbsoluteReadsInAnyByteOrder() throws Exception {
        AllowedIps table = AllowedIps.parse("10.10.0.2/32");
        ByteBuffer packet = ipv4("10.10.0.2", "10.10.0.1", 7);
        int limit = packet.limit();
        assertEquals(Verdict.ALLOWED, table.source(packet));
        assertEquals(7, packet.position());
        assertEquals(limit, packet.limit());
        packet.order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Verdict.ALLOWED, table.source(packet));
        assertEquals(Verdict.OUTSIDE, table.destination(packet));
        ByteBuffer v6 = ipv6("fd00::1", "fd00::2").order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(Verdict.ALLOWED, AllowedIps.parse("fd00::1/128").source(v6));
    }

    @Test
    void whatIsNoIpPacketIsNotIp() throws Exception {
        AllowedIps table = AllowedIps.ANY;
        assertEquals(Verdict.NOT_IP, table.source(ByteBuffer.allocate(0)));
        assertEquals(Verdict.NOT_IP, table.source(ByteBuffer.allocate(100)), "version 0");
        assertEquals(Verdict.NOT_IP, table.source(ByteBuffer.wrap(new byte[] {0x45, 0, 0, 19}).limit(4)),
                "shorter than an IPv4 header");
        assertEquals(Verdict.NOT_IP, table.source(ipv6("fd00::1", "fd00::2").limit(39)),
                "shorter than an IPv6 header");
        ByteBuffer seven = ipv4("10.0.0.1", "10.0.0.2", 0);
        seven.put(0, (byte) 0x75);
        assertEquals(Verdict.NOT_IP, table.destination(seven));
    }

    @Test
    void badNetworksAreRefusedWithAOneLineReason() {
        assertEquals("'10.0.0.0/33' is not a network: the prefix length of an IPv4 network is 0-32",
                bad("10.0.0.0/33"));
        assertEquals("'fd00::/129' is not a network: the prefix length of an IPv6 network is 0-128",
                bad("fd00::/129"));
        assertEquals("'10.0.0.1/24' is not a network address: its host bits are set (10.0.0.0/24 is the network)",
                bad("10.0.0.1/24"));
        assertTrue(bad("fd00::1/64").startsWith("'fd00::1/64' is not a network address: its host bits are set"));
        for (String text : new String[] {"", "10.0.0", "10.0.0.256/8", "010.0.0.0/8", "10.0.0.0/", "10.0.0.0/-1",
                "10.0.0.0/08", "example.com/32", "::ffff:10.0.0.0/120", "fe80::1%eth0/128", "fd00:::1/64",
                "10.0.0.0/24/8", " 10.0.0.0/8"}) {
            String message = bad(text);
            assertTrue(message.startsWith("'" + text + "' is not a network"), message);
            assertFalse(message.contains("\n"), message);
        }
        assertEquals("'10.0.0.0/8,,fd00::/8' is not a list of networks: an entry is empty",
                assertThrows(IllegalArgumentException.class, () -> AllowedIps.parse("10.0.0.0/8,,fd00::/8"))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> AllowedIps.parse(""));
    }

    private static String bad(String text) {
        return assertThrows(IllegalArgumentException.class, () -> AllowedIps.Network.parse(text), text).getMessage();
    }
}
