package io.pinhole.device;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pinhole.peer.AllowedIps;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** DeviceLinearRoutesTest: longest prefix over all peers, IPv4 and IPv6, and what is no route or no IP. */
class DeviceLinearRoutesTest {
    private final DeviceRoutes routes = new DeviceLinearRoutes(List.of(
            AllowedIps.parse("10.9.0.0/16, fd00::/8"),
            AllowedIps.parse("10.9.0.2/32"),
            AllowedIps.parse("10.9.1.0/24, fd00:1::/32")));

    private static ByteBuffer packet(String destination) throws Exception {
        byte[] address = InetAddress.getByName(destination).getAddress();
        boolean v6 = address.length == 16;
        ByteBuffer b = ByteBuffer.allocate(v6 ? 60 : 40);
        b.put(0, (byte) (v6 ? 0x60 : 0x45));
        b.put(v6 ? 24 : 16, address);
        return b;
    }

    @Test
    void theLongestPrefixWinsAcrossPeers() throws Exception {
        assertEquals(1, routes.lookup(packet("10.9.0.2")), "/32 beats /16");
        assertEquals(0, routes.lookup(packet("10.9.0.3")));
        assertEquals(2, routes.lookup(packet("10.9.1.7")), "/24 beats /16");
        assertEquals(2, routes.lookup(packet("fd00:1::5")), "/32 beats /8");
        assertEquals(0, routes.lookup(packet("fd00:2::5")));
    }

    @Test
    void noPeerOrNoIpIsSaidAndTheBufferIsNotMoved() throws Exception {
        ByteBuffer outside = packet("192.0.2.1");
        assertEquals(DeviceRoutes.NO_PEER, routes.lookup(outside));
        assertEquals(0, outside.position());
        assertEquals(DeviceRoutes.NO_PEER, routes.lookup(packet("2001:db8::1")));
        assertEquals(DeviceRoutes.NOT_IP, routes.lookup(ByteBuffer.allocate(0)));
        assertEquals(DeviceRoutes.NOT_IP, routes.lookup(ByteBuffer.wrap(new byte[] {0x45, 0, 0})), "too short");
        assertEquals(DeviceRoutes.NOT_IP, routes.lookup(ByteBuffer.wrap(new byte[40])), "version 0");
    }

    @Test
    void aLittleEndianBufferReadsTheSameAddress() throws Exception {
        assertEquals(1, routes.lookup(packet("10.9.0.2").order(ByteOrder.LITTLE_ENDIAN)));
        assertEquals(2, routes.lookup(packet("fd00:1::5").order(ByteOrder.LITTLE_ENDIAN)));
    }
}
