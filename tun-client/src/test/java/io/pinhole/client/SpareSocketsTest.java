package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.client.tun.TtlReceiver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** SpareSocketsTest: real spare UDP sockets on the loopback: sends, receipt with the socket's id, and every descriptor closed. */
class SpareSocketsTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private record Received(int socket, InetSocketAddress from, String text) {
    }

    private final LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<Exception> failures = new LinkedBlockingQueue<>();

    private SpareSockets spares() {
        return new SpareSockets(LOOPBACK, null, (socket, from, datagram) -> received.add(
                new Received(socket, from, StandardCharsets.UTF_8.decode(datagram).toString())), failures::add);
    }

    private static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static ByteBuffer text(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void eachSpareSocketSendsFromItsOwnPortAndWhatArrivesComesWithItsId() throws Exception {
        try (SpareSockets spares = spares(); DatagramChannel partner = DatagramChannel.open()) {
            partner.bind(new InetSocketAddress(LOOPBACK, 0));
            InetSocketAddress partnerAt = (InetSocketAddress) partner.getLocalAddress();
            assertEquals(16, spares.open(16));

            Set<Integer> ports = new HashSet<>();
            for (int id = 1; id <= 16; id++) {
                ports.add(spares.localAddress(id).getPort());
            }
            assertEquals(16, ports.size(), "a local port each");

            assertTrue(spares.sendFrom(7, partnerAt, text("from 7"), 0));
            ByteBuffer buffer = ByteBuffer.allocate(100);
            InetSocketAddress source = (InetSocketAddress) partner.receive(buffer);
            assertEquals(spares.localAddress(7), source);
            try (TtlReceiver ttlPartner = TtlReceiver.open(partnerAt.getAddress())) {
                assertTrue(spares.sendFrom(7, ttlPartner.address(), text("limited"), 2));
                assertEquals(new TtlReceiver.Datagram("limited", 2), ttlPartner.receive(5_000),
                        "a birthday opener leaves its spare socket with TTL 2");
                assertTrue(spares.sendFrom(7, ttlPartner.address(), text("plain"), 0));
                assertNotEquals(2, ttlPartner.receive(5_000).ttl(), "and the TTL is put back");
            }
            assertFalse(spares.sendFrom(17, partnerAt, text("no such"), 0));

            partner.send(text("to 7"), spares.localAddress(7));
            partner.send(text("to 12"), spares.localAddress(12));
            Received first = received.poll(5, TimeUnit.SECONDS);
            Received second = received.poll(5, TimeUnit.SECONDS);
            assertNotNull(second, "both arrived: " + first);
            assertEquals(Set.of(new Received(7, partnerAt, "to 7"), new Received(12, partnerAt, "to 12")),
                    Set.of(first, second));
            assertTrue(failures.isEmpty(), failures::toString);
        }
    }

    @Test
    void closingAllButOneKeepsOnlyThatOneAndEveryDescriptorIsGoneAfterClose() throws Exception {
        long before = openDescriptors();
        SpareSockets spares = spares();
        assertEquals(256, spares.open(256));
        assertTrue(openDescriptors() >= before + 256);

        InetSocketAddress kept = spares.localAddress(42);
        spares.closeExcept(42);
        assertEquals(1, spares.openCount());
        assertEquals(kept, spares.localAddress(42));
        assertNull(spares.localAddress(41));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (openDescriptors() > before + 1 + 8 && System.nanoTime() < deadline) {
            Thread.sleep(10); // the selector lets go of closed channels on its next round
        }
        assertTrue(openDescriptors() <= before + 1 + 8, "the 255 others are closed (the selector holds a few): "
                + (openDescriptors() - before));

        assertEquals(3, spares.open(3), "a new attempt replaces what was open");
        assertEquals(3, spares.openCount());
        spares.close();
        assertEquals(0, spares.openCount());
        assertEquals(0, spares.open(5), "nothing after close");
        assertEquals(before, openDescriptors(), "every descriptor closed, the selector's too");
        assertTrue(failures.isEmpty(), failures::toString);
    }
}
