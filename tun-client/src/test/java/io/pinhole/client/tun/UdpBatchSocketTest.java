package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The batched UDP socket on loopback only: batches both ways, GSO, GRO, close, refusals. */
@Timeout(60)
class UdpBatchSocketTest {
    private static final int BUFFER = 4 << 20;

    /** 127.0.0.1 or ::1. */
    private static InetAddress loopback(boolean v4) {
        try {
            return InetAddress.getByName(v4 ? "127.0.0.1" : "::1");
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static UdpBatchSocket open(boolean v4) throws SocketOptionException {
        return UdpBatchSocket.open(new InetSocketAddress(loopback(v4), 0), BUFFER);
    }

    private static DatagramChannel jdkSocket(boolean v4) throws IOException {
        DatagramChannel channel = DatagramChannel.open(v4 ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6);
        channel.bind(new InetSocketAddress(loopback(v4), 0));
        return channel;
    }

    private static void fill(ByteBuffer buffer, int message, int length) {
        for (int i = 0; i < length; i++) {
            buffer.put(i, (byte) (message * 31 + i));
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void oneSendCarriesABatchOfDatagrams_inOrder_byteForByte(boolean v4) throws IOException {
        try (UdpBatchSocket socket = open(v4); DatagramChannel receiver = jdkSocket(v4)) {
            InetSocketAddress to = (InetSocketAddress) receiver.getLocalAddress();
            DatagramBatch batch = new DatagramBatch(32, 1500);
            for (int m = 0; m < 32; m++) {
                int length = 100 + m * 40;
                fill(batch.buffer(m), m, length);
                assertEquals(m, batch.add(to, length, 0));
            }
            assertEquals(32, socket.send(batch));
            ByteBuffer got = ByteBuffer.allocate(2000);
            for (int m = 0; m < 32; m++) {
                got.clear();
                InetSocketAddress from = (InetSocketAddress) receiver.receive(got);
                got.flip();
                assertEquals(socket.localAddress().getPort(), from.getPort());
                assertEquals(100 + m * 40, got.remaining(), "message " + m);
                for (int i = 0; i < got.remaining(); i++) {
                    assertEquals((byte) (m * 31 + i), got.get(i), "message " + m + " byte " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void oneReceiveTakesWhatIsQueued_withEachSender(boolean v4) throws IOException {
        try (UdpBatchSocket socket = open(v4); DatagramChannel a = jdkSocket(v4); DatagramChannel b = jdkSocket(v4)) {
            InetSocketAddress to = socket.localAddress();
            for (int m = 0; m < 20; m++) {
                (m < 10 ? a : b).send(ByteBuffer.wrap(new byte[] {(byte) m, 1, 2, 3}), to);
            }
            DatagramBatch batch = new DatagramBatch(64, 2048);
            List<Integer> firsts = new ArrayList<>();
            List<InetSocketAddress> senders = new ArrayList<>();
            int calls = 0;
            while (firsts.size() < 20) {
                int n = socket.receive(batch, 2_000);
                assertTrue(n > 0, "received " + n + " after " + firsts.size());
                calls++;
                for (int i = 0; i < n; i++) {
                    assertEquals(4, batch.length(i));
                    assertFalse(batch.truncated(i));
                    assertEquals(0, batch.segmentSize(i), "GRO is off");
                    firsts.add((int) batch.buffer(i).get(0));
                    senders.add(batch.address(i));
                }
            }
            assertTrue(calls <= 3, "20 queued datagrams in " + calls + " calls");
            for (int m = 0; m < 20; m++) {
                assertEquals(m, firsts.get(m));
                assertEquals((m < 10 ? a : b).getLocalAddress(), senders.get(m));
            }
            assertSame(senders.get(0), senders.get(9), "one sender in a row: one address object, decoded once");
        }
    }

    @Test
    void aTimeoutReturnsZero_andCloseWakesABlockedReceiverAtOnce() throws Exception {
        UdpBatchSocket socket = open(true);
        DatagramBatch batch = new DatagramBatch(8, 1500);
        assertEquals(0, socket.receive(batch, 50));
        assertEquals(0, socket.receive(batch, 0));
        CompletableFuture<Integer> blocked = CompletableFuture.supplyAsync(() -> {
            try {
                return socket.receive(new DatagramBatch(8, 1500), -1);
            } catch (SocketOptionException e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.sleep(200);
        assertFalse(blocked.isDone());
        long t0 = System.nanoTime();
        socket.close();
        assertEquals(-1, blocked.get(5, TimeUnit.SECONDS));
        assertTrue(System.nanoTime() - t0 < 400_000_000L, "woken at once, not after a poll slice");
        assertEquals(-1, socket.receive(batch, 0), "closed");
        assertEquals(0, socket.send(batch));
        socket.close(); // idempotent
    }

    @Test
    void gsoCutsOneMessageIntoDatagramsOfTheSegmentSize() throws IOException {
        try (UdpBatchSocket socket = open(true); DatagramChannel receiver = jdkSocket(true)) {
            assertTrue(socket.gsoSupported(), "this kernel has UDP_SEGMENT (Linux 4.18+)");
            DatagramBatch batch = new DatagramBatch(4, 65_000);
            int length = 10 * 1200 + 500;
            fill(batch.buffer(0), 7, length);
            batch.add((InetSocketAddress) receiver.getLocalAddress(), length, 1200);
            assertEquals(1, socket.send(batch));
            ByteBuffer got = ByteBuffer.allocate(2000);
            for (int d = 0; d < 11; d++) {
                got.clear();
                receiver.receive(got);
                got.flip();
                assertEquals(d < 10 ? 1200 : 500, got.remaining(), "datagram " + d);
                assertEquals((byte) (7 * 31 + d * 1200), got.get(0), "datagram " + d + " starts where it should");
            }
        }
    }

    @Test
    void groJoinsAGsoSendBackIntoOneMessage_withItsSegmentSize() throws IOException {
        try (UdpBatchSocket sender = open(true); UdpBatchSocket receiver = open(true)) {
            assertTrue(receiver.enableGro(), "this kernel has UDP_GRO (Linux 5.0+)");
            DatagramBatch out = new DatagramBatch(1, 65_000);
            int length = 20 * 1400;
            fill(out.buffer(0), 3, length);
            out.add(receiver.localAddress(), length, 1400);
            assertEquals(1, sender.send(out));
            DatagramBatch in = new DatagramBatch(8, 65_507);
            int bytes = 0;
            int messages = 0;
            int segmented = 0;
            while (bytes < length) {
                int n = receiver.receive(in, 2_000);
                assertTrue(n > 0);
                for (int i = 0; i < n; i++) {
                    for (int b = 0; b < in.length(i); b++) {
                        assertEquals((byte) (3 * 31 + bytes + b), in.buffer(i).get(b), "byte " + (bytes + b));
                    }
                    bytes += in.length(i);
                    segmented += in.segmentSize(i) == 1400 ? 1 : 0;
                    messages++;
                }
            }
            assertEquals(length, bytes);
            assertTrue(messages < 20 && segmented > 0, messages + " messages, " + segmented + " with segment size 1400");
        }
    }

    @Test
    void queueJoinsSameSizeDatagramsToOneDestinationIntoGsoMessages_andTheyArriveAsSent() throws IOException {
        try (UdpBatchSocket socket = open(true); DatagramChannel a = jdkSocket(true); DatagramChannel b = jdkSocket(true)) {
            InetSocketAddress toA = (InetSocketAddress) a.getLocalAddress();
            InetSocketAddress toB = (InetSocketAddress) b.getLocalAddress();
            DatagramBatch batch = new DatagramBatch(8, DatagramBatch.MAX_DATAGRAM);
            ByteBuffer datagram = ByteBuffer.allocateDirect(1500);
            int[] lengths = {1400, 1400, 1400, 700, 1400, 1400};
            for (int d = 0; d < lengths.length; d++) {
                datagram.clear();
                fill(datagram, d, lengths[d]);
                datagram.limit(lengths[d]);
                assertTrue(batch.queue(toA, datagram, true));
                assertEquals(0, datagram.position(), "the caller's buffer is left as it was");
            }
            datagram.clear().limit(100);
            fill(datagram, 9, 100);
            batch.queue(toB, datagram, true);
            assertEquals(3, batch.count(), "1400 x3 + 700 (a shorter one ends a message); 1400 x2; B's own");
            assertEquals(3 * 1400 + 700, batch.length(0));
            assertEquals(2800, batch.length(1));
            assertEquals(3, socket.send(batch));
            ByteBuffer got = ByteBuffer.allocate(2000);
            for (int d = 0; d < lengths.length; d++) {
                got.clear();
                a.receive(got);
                got.flip();
                assertEquals(lengths[d], got.remaining(), "datagram " + d);
                assertEquals((byte) (d * 31 + 5), got.get(5), "datagram " + d + " is the one queued " + d + "th");
            }
            got.clear();
            b.receive(got);
            assertEquals(100, got.position());
        }
    }

    @Test
    void queueWithoutGsoKeepsOneDatagramPerMessage_andSaysWhenTheBatchIsFull() {
        DatagramBatch batch = new DatagramBatch(2, 1500);
        InetSocketAddress to = new InetSocketAddress(loopback(true), 9);
        ByteBuffer datagram = ByteBuffer.allocate(1000);
        assertTrue(batch.queue(to, datagram, false));
        assertTrue(batch.queue(to, datagram, false));
        assertFalse(batch.queue(to, datagram, false), "full");
        assertEquals(2, batch.count());
        assertThrows(IllegalArgumentException.class, () -> batch.queue(to, ByteBuffer.allocate(1501), false));
    }

    @Test
    void aRefusedDatagramIsCountedAndTheRestOfTheBatchStillGoes() throws IOException {
        try (UdpBatchSocket socket = open(true); DatagramChannel receiver = jdkSocket(true)) {
            DatagramBatch batch = new DatagramBatch(3, 1500);
            InetSocketAddress to = (InetSocketAddress) receiver.getLocalAddress();
            batch.add(to, 10, 0);
            batch.add(new InetSocketAddress(InetAddress.getByName("::1"), 9), 10, 0); // IPv6 on an IPv4 socket
            batch.add(to, 20, 0);
            assertEquals(2, socket.send(batch));
            assertEquals(1, socket.sendFailures(97), "EAFNOSUPPORT counted");
            ByteBuffer got = ByteBuffer.allocate(100);
            receiver.receive(got);
            assertEquals(10, got.position());
            got.clear();
            receiver.receive(got);
            assertEquals(20, got.position());
        }
    }

    @Test
    void aPortInUseIsANamedFailure() throws IOException {
        try (DatagramChannel taken = jdkSocket(true)) {
            InetSocketAddress address = (InetSocketAddress) taken.getLocalAddress();
            SocketOptionException e = assertThrows(SocketOptionException.class,
                    () -> UdpBatchSocket.open(address, BUFFER));
            assertEquals("UDP socket " + "127.0.0.1:" + address.getPort() + ": bind failed: EADDRINUSE (Address already "
                    + "in use)", e.getMessage());
            assertEquals(98, e.errno());
        }
    }

    @Test
    void buffersAreForcedPastTheSystemLimitAsRoot() throws SocketOptionException {
        try (UdpBatchSocket socket = open(true)) {
            boolean root = "root".equals(System.getProperty("user.name"));
            assertTrue(!root || socket.receiveBufferBytes() >= BUFFER, "as root, SO_RCVBUFFORCE gives at least "
                    + BUFFER + ": " + socket.receiveBufferBytes());
            assertTrue(socket.sendBufferBytes() > 0);
        }
    }

    @Test
    void badBatchArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new DatagramBatch(0, 1500));
        assertThrows(IllegalArgumentException.class, () -> new DatagramBatch(8, 70_000));
        DatagramBatch batch = new DatagramBatch(1, 100);
        InetSocketAddress to = new InetSocketAddress(loopback(true), 9);
        assertThrows(IllegalArgumentException.class, () -> batch.add(to, 101, 0));
        assertThrows(IllegalArgumentException.class, () -> batch.add(InetSocketAddress.createUnresolved("x", 9), 1, 0));
        batch.add(to, 100, 0);
        assertThrows(IllegalStateException.class, () -> batch.add(to, 1, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> batch.length(1));
    }
}
