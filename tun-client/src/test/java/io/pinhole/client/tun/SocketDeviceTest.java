package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import org.junit.jupiter.api.Test;

/** SO_BINDTODEVICE on the loopback: a socket bound to lo still talks on it; a missing device is a clear error. */
class SocketDeviceTest {
    @Test
    void aSocketBoundToLoStillTalksOverIt() throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (DatagramChannel receiver = DatagramChannel.open().bind(new InetSocketAddress(loopback, 0));
             DatagramChannel sender = DatagramChannel.open()) {
            SocketDevice.bind(sender, "lo");
            sender.bind(new InetSocketAddress(loopback, 0));
            sender.send(ByteBuffer.wrap(new byte[] {1, 2, 3}), receiver.getLocalAddress());
            ByteBuffer got = ByteBuffer.allocate(16);
            receiver.receive(got);
            assertEquals(3, got.flip().remaining());
        }
    }

    @Test
    void aDeviceThatDoesNotExistIsNamedWithItsErrno() throws Exception {
        try (DatagramChannel channel = DatagramChannel.open()) {
            SocketOptionException e = assertThrows(SocketOptionException.class,
                    () -> SocketDevice.bind(channel, "nosuchdev0"));
            assertEquals(Errno.ENODEV, e.errno());
            assertTrue(e.getMessage().contains("SO_BINDTODEVICE") && e.getMessage().contains("nosuchdev0")
                    && e.getMessage().contains("ENODEV"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> SocketDevice.bind(channel, "bad/name"));
        }
    }
}
