package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * SocketTtl on loopback, observed from the receiving side: the receiver asks the kernel for each
 * datagram's TTL ({@code IP_RECVTTL}), so these tests see what was really on the wire, not what
 * SocketTtl believes it set. Loopback delivers any TTL, 1 included.
 */
class SocketTtlTest {
    private static final InetAddress V4 = InetAddress.getLoopbackAddress();

    private static ByteBuffer text(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aTtlOneDatagramArrivesWithTtlOne_andTheNextPlainSendHasThePreviousTtlAgain() throws IOException {
        try (TtlReceiver receiver = TtlReceiver.open(V4);
             DatagramChannel sender = TtlReceiver.bound(V4)) {
            TtlReceiver.presetTtl(sender, false, 77); // not the system default: restore must bring back 77
            SocketTtl ttl = SocketTtl.of(sender);

            assertTrue(ttl.send(receiver.address(), text("opener"), 1));
            sender.send(text("plain"), receiver.address());
            assertTrue(ttl.send(receiver.address(), text("opener 2"), 2));
            sender.send(text("plain 2"), receiver.address());

            assertEquals(new TtlReceiver.Datagram("opener", 1), receiver.receive(2000));
            assertEquals(new TtlReceiver.Datagram("plain", 77), receiver.receive(2000));
            assertEquals(new TtlReceiver.Datagram("opener 2", 2), receiver.receive(2000));
            assertEquals(new TtlReceiver.Datagram("plain 2", 77), receiver.receive(2000));
            assertEquals(77, TtlReceiver.currentTtl(sender, false), "getsockopt shows the previous TTL restored");
            assertFalse(ttl.restorePending());
        }
    }

    @Test
    void anIpv4DestinationOnADualStackSocketIsLimitedToo() throws IOException {
        try (TtlReceiver receiver = TtlReceiver.open(V4);
             DatagramChannel sender = DatagramChannel.open(StandardProtocolFamily.INET6)) {
            sender.bind(new InetSocketAddress(0)); // [::]:port, IPv4 leaves IPv4-mapped
            int before = TtlReceiver.currentTtl(sender, false);

            assertTrue(SocketTtl.of(sender).send(receiver.address(), text("mapped"), 3));
            sender.send(text("plain"), receiver.address());

            assertEquals(new TtlReceiver.Datagram("mapped", 3), receiver.receive(2000));
            assertEquals(new TtlReceiver.Datagram("plain", before), receiver.receive(2000));
        }
    }

    @Test
    void anIpv6DestinationGetsAHopLimit() throws IOException {
        InetAddress v6 = InetAddress.getByName("::1");
        TtlReceiver receiver;
        try {
            receiver = TtlReceiver.open(v6);
        } catch (IOException e) {
            Assumptions.abort("no IPv6 loopback here (" + e + "): the hop-limit test needs ::1");
            return;
        }
        try (receiver; DatagramChannel sender = TtlReceiver.bound(v6)) {
            TtlReceiver.presetTtl(sender, true, 99);

            assertTrue(SocketTtl.of(sender).send(receiver.address(), text("hop"), 2));
            sender.send(text("plain"), receiver.address());

            assertEquals(new TtlReceiver.Datagram("hop", 2), receiver.receive(2000));
            assertEquals(new TtlReceiver.Datagram("plain", 99), receiver.receive(2000));
        }
    }

    @Test
    void aDescriptorThatIsNoSocketFailsWithErrnoAndSocketNamed_andNothingIsSent() throws IOException {
        int devNull = TtlReceiver.openNonSocket();
        try (TtlReceiver receiver = TtlReceiver.open(V4);
             DatagramChannel sender = TtlReceiver.bound(V4)) {
            int port = ((InetSocketAddress) sender.getLocalAddress()).getPort();
            SocketTtl ttl = TtlReceiver.socketTtlOnDescriptor(sender, devNull);

            SocketOptionException e = assertThrows(SocketOptionException.class,
                    () -> ttl.send(receiver.address(), text("must not leave"), 2));

            assertEquals("cannot read the TTL of UDP socket 127.0.0.1:" + port + " (fd " + devNull
                    + "): getsockopt(IPPROTO_IP, IP_TTL) failed: ENOTSOCK (Socket operation on non-socket)",
                    e.getMessage());
            assertEquals("ENOTSOCK", e.errnoName());
            assertFalse(e.sent());
            assertFalse(ttl.restorePending());
            assertNull(receiver.receive(300), "nothing was sent, not even at full TTL");
        } finally {
            TtlReceiver.closeDescriptor(devNull);
        }
    }

    @Test
    void aTtlOutsideOneTo255IsRefusedBeforeAnythingHappens() throws IOException {
        try (TtlReceiver receiver = TtlReceiver.open(V4);
             DatagramChannel sender = TtlReceiver.bound(V4)) {
            SocketTtl ttl = SocketTtl.of(sender);
            for (int bad : new int[] {0, -1, 256}) {
                assertThrows(IllegalArgumentException.class, () -> ttl.send(receiver.address(), text("x"), bad));
            }
            assertNull(receiver.receive(200));
        }
    }

    @Test
    void aClosedChannelIsNotTouched() throws IOException {
        DatagramChannel sender = DatagramChannel.open(StandardProtocolFamily.INET);
        SocketTtl ttl = SocketTtl.of(sender);
        sender.close();
        assertThrows(ClosedChannelException.class,
                () -> ttl.send(new InetSocketAddress(V4, 9), text("x"), 2));
    }
}
