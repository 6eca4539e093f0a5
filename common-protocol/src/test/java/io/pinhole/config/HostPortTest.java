package io.pinhole.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** HostPortTest: addresses formatted as users read and type them, never with Java's slash. */
class HostPortTest {

    private static InetSocketAddress at(String literal, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(literal), port); // a literal: no lookup
    }

    @Test
    void anIpv4AddressIsDottedQuadColonPort() throws Exception {
        InetSocketAddress address = at("203.0.113.10", 7777);
        assertEquals("/203.0.113.10:7777", address.toString(), "what Java prints");
        assertEquals("203.0.113.10:7777", HostPort.format(address));
        assertEquals("0.0.0.0:0", HostPort.format(new InetSocketAddress(0)));
    }

    @Test
    void aNameResolvedToAnAddressPrintsTheAddressOnly() throws Exception {
        InetSocketAddress address = new InetSocketAddress(
                InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1}), 7777);
        assertEquals("localhost/127.0.0.1:7777", address.toString(), "what Java prints");
        assertEquals("127.0.0.1:7777", HostPort.format(address));
    }

    @Test
    void anUnresolvedAddressIsHostColonPort() {
        InetSocketAddress address = InetSocketAddress.createUnresolved("rdv.example.net", 7777);
        assertEquals("rdv.example.net/<unresolved>:7777", address.toString(), "what Java prints");
        assertEquals("rdv.example.net:7777", HostPort.format(address));
        assertEquals("rdv.example.net:7777", HostPort.format(HostPort.parse("rdv.example.net:7777", false)));
    }

    @Test
    void anUnresolvedIpv6LiteralKeepsItsBrackets() {
        assertEquals("[2001:db8::1]:7777", HostPort.format(HostPort.parse("[2001:db8::1]:7777", false)));
    }

    @ParameterizedTest
    @CsvSource({
        "2001:db8::1,               [2001:db8::1]:7777",
        "2001:0DB8:0000:0000:0000:0000:0000:0001, [2001:db8::1]:7777",
        "::1,                       [::1]:7777",
        "::,                        [::]:7777",
        "1::,                       [1::]:7777",
        "2001:db8:0:1:1:1:1:1,      [2001:db8:0:1:1:1:1:1]:7777",
        "2001:db8:0:0:1:0:0:1,      [2001:db8::1:0:0:1]:7777",
        "2001:0:0:1:0:0:0:1,        [2001:0:0:1::1]:7777",
        "fe80:0:0:0:abcd:ef01:2:3,  [fe80::abcd:ef01:2:3]:7777",
    })
    void anIpv6AddressIsInBracketsInItsShortestForm(String literal, String expected) throws Exception {
        InetSocketAddress address = at(literal, 7777);
        assertEquals(expected, HostPort.format(address), "Java prints " + address);
    }

    @Test
    void anIpv6ZoneIsKept() throws Exception {
        byte[] linkLocal = InetAddress.getByName("fe80::1").getAddress();
        InetSocketAddress address = new InetSocketAddress(Inet6Address.getByAddress(null, linkLocal, 3), 51820);
        assertEquals("[fe80::1%3]:51820", HostPort.format(address));
    }

    @ParameterizedTest
    @CsvSource({"203.0.113.10:7777", "[2001:db8::1]:7777", "[::]:1", "rdv.example.net:65535"})
    void whatIsFormattedParsesBackToTheSameText(String text) throws Exception {
        InetSocketAddress parsed = HostPort.parse(text, false);
        assertEquals(text, HostPort.format(parsed));
        InetSocketAddress resolved = text.startsWith("rdv") ? parsed : at(parsed.getHostString(), parsed.getPort());
        assertEquals(text, HostPort.format(resolved));
    }

    @Test
    void noAddressIsNone() {
        assertEquals("none", HostPort.format(null));
        assertEquals("none", HostPort.formatAll(List.of()));
        assertEquals("none", HostPort.formatAll(null));
    }

    @Test
    void aListIsItsAddressesJoinedByCommas() throws Exception {
        List<InetSocketAddress> targets = List.of(at("10.0.2.2", 5000), at("192.0.2.2", 5000), at("2001:db8::2", 5000));
        assertEquals("[/10.0.2.2:5000, /192.0.2.2:5000, /[2001:db8:0:0:0:0:0:2]:5000]", targets.toString(),
                "what Java prints");
        assertEquals("10.0.2.2:5000, 192.0.2.2:5000, [2001:db8::2]:5000", HostPort.formatAll(targets));
    }
}
