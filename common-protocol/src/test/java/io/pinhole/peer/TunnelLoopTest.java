package io.pinhole.peer;

import static io.pinhole.wire.WireSamples.endpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class TunnelLoopTest {
    private static final InetSocketAddress PATH = endpoint("192.0.2.2", 40002);

    private static ByteBuffer ipv4Udp(byte[] dst, int port, int fragmentWord, int prefix) {
        ByteBuffer b = ByteBuffer.allocate(prefix + 32);
        b.position(prefix);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 32).putInt(0);
        b.putShort(prefix + 6, (short) fragmentWord);
        b.put(prefix + 8, (byte) 64).put(prefix + 9, (byte) 17);
        b.position(prefix + 16);
        b.put(dst).putShort((short) 5000).putShort((short) port).putShort((short) 12);
        b.position(prefix);
        return b;
    }

    @Test
    void recognisesAnIpv4UdpDatagramToTheWatchedEndpointOnly() {
        TunnelLoop loop = new TunnelLoop();
        byte[] dst = {(byte) 192, 0, 2, 2};
        assertFalse(loop.matches(ipv4Udp(dst, 40002, 0, 0)), "nothing watched yet");
        loop.watch(PATH);
        assertEquals(PATH, loop.watched());
        assertTrue(loop.matches(ipv4Udp(dst, 40002, 0, 0)));
        assertTrue(loop.matches(ipv4Udp(dst, 40002, 0x4000, 3)), "don't-fragment set, at an offset in the buffer");
        assertFalse(loop.matches(ipv4Udp(dst, 40003, 0, 0)), "another port");
        assertFalse(loop.matches(ipv4Udp(new byte[] {(byte) 192, 0, 2, 3}, 40002, 0, 0)), "another host");
        assertFalse(loop.matches(ipv4Udp(dst, 40002, 0x0010, 0)), "a later fragment has no UDP header");
        ByteBuffer tcp = ipv4Udp(dst, 40002, 0, 0);
        tcp.put(9, (byte) 6);
        assertFalse(loop.matches(tcp), "not UDP");
        assertFalse(loop.matches(ByteBuffer.wrap(new byte[] {0x45, 0, 0})), "truncated");
        assertFalse(loop.matches(ByteBuffer.allocate(0)));
        ByteBuffer b = ipv4Udp(dst, 40002, 0, 0);
        int position = b.position();
        loop.matches(b);
        assertEquals(position, b.position(), "reads in place");

        loop.watch(null);
        assertNull(loop.watched());
        assertFalse(loop.matches(ipv4Udp(dst, 40002, 0, 0)));
    }

    @Test
    void recognisesAnIpv6UdpDatagram() throws Exception {
        InetSocketAddress v6 = new InetSocketAddress(java.net.InetAddress.getByName("2001:db8::2"), 51820);
        TunnelLoop loop = new TunnelLoop();
        loop.watch(v6);
        ByteBuffer b = ByteBuffer.allocate(48);
        b.put(0, (byte) 0x60).put(6, (byte) 17);
        b.position(24);
        b.put(v6.getAddress().getAddress());
        b.putShort(42, (short) 51820);
        b.position(0);
        assertTrue(loop.matches(b));
        b.put(6, (byte) 0); // a hop-by-hop header first: not recognised
        assertFalse(loop.matches(b));
        loop.watch(PATH);
        b.put(6, (byte) 17);
        assertFalse(loop.matches(b), "an IPv6 packet never matches an IPv4 endpoint");
    }
}
