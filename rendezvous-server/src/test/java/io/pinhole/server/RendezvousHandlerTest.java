package io.pinhole.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.Ticker;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.rendezvous.Rendezvous;
import io.pinhole.rendezvous.RendezvousConfig;
import io.pinhole.rendezvous.ServerDrop;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.Relay;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** RendezvousHandlerTest: the Netty edge around the rendezvous core, on an EmbeddedChannel. */
class RendezvousHandlerTest {
    private static final InetSocketAddress SERVER = new InetSocketAddress("203.0.113.10", 7777);
    private static final InetSocketAddress NAT_A = new InetSocketAddress("198.51.100.2", 40001);
    private static final InetSocketAddress NAT_B = new InetSocketAddress("192.0.2.2", 40002);

    /** The stats line as the lab tests (FuzzIT) parse it: the relay counters must not break it. */
    private static final Pattern STATS_AS_LAB_TESTS_READ_IT = Pattern.compile(
            "stats: (\\d+) datagrams, \\d+ registrations, \\d+ pairings, (\\d+) challenges, (\\d+) dropped"
                    + "( \\([a-z_]+ \\d+(, [a-z_]+ \\d+)*\\))?, relayed");

    private final NoisePrivateKey privateA = NoisePrivateKey.generate(new SecureRandom());
    private final NoisePrivateKey privateB = NoisePrivateKey.generate(new SecureRandom());
    private final NoisePublicKey keyA = privateA.publicKey();
    private final NoisePublicKey keyB = privateB.publicKey();
    private final NoisePrivateKey serverKey = NoisePrivateKey.generate(new SecureRandom());
    private final MockTicker ticker = Ticker.newMockTicker();
    private final RendezvousHandler handler = new RendezvousHandler(
            new Rendezvous(RendezvousConfig.defaults(), serverKey, new SecureRandom()), ticker);
    private final EmbeddedChannel channel = new EmbeddedChannel(handler);

    /** Registers {@code self} from {@code from}: REGISTER, CHALLENGE, REGISTER with cookie and MAC. */
    private void register(NoisePrivateKey self, NoisePublicKey wanted, long session, InetSocketAddress from)
            throws Exception {
        channel.writeInbound(datagram(new Register(self.publicKey(), wanted, session, 1, null, List.of())
                .encode(null), from));
        Challenge challenge = (Challenge) decode(channel.readOutbound(), from);
        assertEquals(serverKey.publicKey(), challenge.server());
        byte[] mac = ControlKeys.peerServer(self, challenge.server());
        channel.writeInbound(datagram(new Register(self.publicKey(), wanted, session, 2, challenge.cookie(),
                List.of()).encode(mac), from));
    }

    @Test
    void pairsTwoPeersAndTellsEachTheOthersObservedEndpoint() throws Exception {
        register(privateA, keyB, 11, NAT_A);
        assertInstanceOf(Registered.class, decode(channel.readOutbound(), NAT_A));
        assertNull(channel.readOutbound(), "a is alone: no PEER_INFO yet");

        register(privateB, keyA, 22, NAT_B);
        Registered registered = (Registered) decode(channel.readOutbound(), NAT_B);
        assertEquals(NAT_B, registered.observed());
        PeerInfo toB = (PeerInfo) decode(channel.readOutbound(), NAT_B);
        PeerInfo toA = (PeerInfo) decode(channel.readOutbound(), NAT_A);
        assertEquals(NAT_A, toB.observed());
        assertEquals(keyA, toB.peer());
        assertEquals(NAT_B, toA.observed());
        assertEquals(22, toA.peerSession());
        assertFalse(channel.finish());
    }

    @Test
    void garbageIsCountedNeverAnsweredAndBuffersAreReleased() {
        Random random = new Random(7);
        for (int i = 0; i < 10_000; i++) {
            byte[] junk = new byte[random.nextInt(1500)];
            random.nextBytes(junk);
            // a real buffer even when empty (the shared empty buffer is never released)
            DatagramPacket packet = new DatagramPacket(Unpooled.buffer(junk.length).writeBytes(junk), SERVER, NAT_A);
            channel.writeInbound(packet);
            assertEquals(0, packet.refCnt(), "released");
        }
        assertNull(channel.readOutbound());
        assertEquals(10_000, handler.core().droppedTotal());
        assertTrue(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void theStatsLineSaysNothingWasDroppedWithoutBracesOrPlaceholders() throws Exception {
        register(privateA, keyB, 11, NAT_A);
        assertEquals("stats: 2 datagrams, 1 registrations, 0 pairings, 1 challenges, 0 dropped, "
                + "relayed 0 packets (0 bytes)", handler.statsLine());
        assertTrue(STATS_AS_LAB_TESTS_READ_IT.matcher(handler.statsLine()).find(), handler.statsLine());
        channel.writeInbound(datagram(ByteBuffer.wrap(new byte[] {1}), NAT_A));
        assertTrue(handler.statsLine().contains(", 1 dropped (truncated 1), relayed"), handler.statsLine());
        assertTrue(STATS_AS_LAB_TESTS_READ_IT.matcher(handler.statsLine()).find(), handler.statsLine());
    }

    @Test
    void anExceptionInThePipelineDoesNotCloseTheSocket() {
        channel.pipeline().fireExceptionCaught(new IllegalStateException("boom"));
        assertTrue(channel.isOpen());
        assertFalse(channel.finish());
    }

    @Test
    void registrationsExpireOnTheTickersTime() throws Exception {
        register(privateA, keyB, 11, NAT_A);
        ((DatagramPacket) channel.readOutbound()).release();
        assertEquals(1, handler.core().registrations());
        ticker.advance(59, TimeUnit.SECONDS);
        handler.expire();
        assertEquals(1, handler.core().registrations());
        ticker.advance(1, TimeUnit.SECONDS);
        handler.expire();
        assertEquals(0, handler.core().registrations());
        assertEquals(0L, handler.core().drops().getOrDefault(ServerDrop.TABLE_FULL, 0L));
        assertFalse(channel.finish());
    }

    @Test
    void relaysTheIdenticalFrameToThePartnerBothWaysAfterTheRequestIsReleased() throws Exception {
        register(privateA, keyB, 11, NAT_A);
        assertEquals(1, drainOutbound(), "REGISTERED");
        register(privateB, keyA, 22, NAT_B);
        assertEquals(3, drainOutbound(), "REGISTERED, PEER_INFO to each");
        byte[] fromA = relayFrame(1420, 0x11);
        byte[] fromB = relayFrame(0, 0x22);

        byte[] receiveBuffer = fromA.clone();
        DatagramPacket request = datagram(ByteBuffer.wrap(receiveBuffer), NAT_A);
        channel.writeInbound(request);
        assertEquals(0, request.refCnt(), "the request is released");
        Arrays.fill(receiveBuffer, (byte) 0); // as a pooled receive buffer is reused once released
        assertArrayEquals(fromA, relayedTo(channel.readOutbound(), NAT_B), "the relayed bytes are a copy");
        channel.writeInbound(datagram(ByteBuffer.wrap(fromB), NAT_B));
        assertArrayEquals(fromB, relayedTo(channel.readOutbound(), NAT_A));
        assertNull(channel.readOutbound());

        assertEquals(2, handler.core().relayedPackets());
        assertEquals(fromA.length + fromB.length, handler.core().relayedBytes());
        assertTrue(handler.statsLine().contains("relayed 2 packets (" + (fromA.length + fromB.length) + " bytes)"),
                handler.statsLine());
        assertFalse(channel.finish());
    }

    @Test
    void aRelayFromAStrangerOrToNobodyIsDroppedUnanswered() throws Exception {
        register(privateA, keyB, 11, NAT_A);
        drainOutbound();

        channel.writeInbound(datagram(ByteBuffer.wrap(relayFrame(64, 1)), new InetSocketAddress("203.0.113.66", 6666)));
        channel.writeInbound(datagram(ByteBuffer.wrap(relayFrame(64, 2)), NAT_A)); // B is not registered

        assertNull(channel.readOutbound());
        assertEquals(1L, handler.core().drops().get(ServerDrop.RELAY_UNKNOWN_SENDER));
        assertEquals(1L, handler.core().drops().get(ServerDrop.RELAY_UNPAIRED));
        assertTrue(handler.statsLine().endsWith(" challenges, 2 dropped (relay_unknown_sender 1, relay_unpaired 1), "
                + "relayed 0 packets (0 bytes)"), handler.statsLine());
        assertTrue(STATS_AS_LAB_TESTS_READ_IT.matcher(handler.statsLine()).find(), handler.statsLine());
        assertFalse(channel.finish());
    }

    /** A RELAY frame around a WireGuard transport message of {@code n} bytes of ciphertext, filled with {@code fill}. */
    private static byte[] relayFrame(int n, int fill) {
        byte[] transport = new byte[32 + n];
        Arrays.fill(transport, (byte) fill);
        transport[0] = 4;
        transport[1] = 0;
        transport[2] = 0;
        transport[3] = 0;
        ByteBuffer frame = Relay.wrap(ByteBuffer.wrap(transport));
        byte[] bytes = new byte[frame.remaining()];
        frame.get(bytes);
        return bytes;
    }

    /** The bytes of an outbound datagram, checked to go to {@code expectedRecipient}; releases it. */
    private static byte[] relayedTo(Object outbound, InetSocketAddress expectedRecipient) {
        DatagramPacket packet = (DatagramPacket) outbound;
        try {
            assertEquals(expectedRecipient, packet.recipient());
            return ByteBufUtil.getBytes(packet.content());
        } finally {
            packet.release();
        }
    }

    /** Releases every outbound datagram; returns how many there were. */
    private int drainOutbound() {
        int n = 0;
        for (Object o = channel.readOutbound(); o != null; o = channel.readOutbound()) {
            ((DatagramPacket) o).release();
            n++;
        }
        return n;
    }

    private static DatagramPacket datagram(ByteBuffer bytes, InetSocketAddress from) {
        return new DatagramPacket(Unpooled.wrappedBuffer(bytes), SERVER, from);
    }

    private static ControlMessage decode(Object outbound, InetSocketAddress expectedRecipient) throws Exception {
        DatagramPacket packet = (DatagramPacket) outbound;
        try {
            assertEquals(expectedRecipient, packet.recipient());
            return ControlMessage.decode(packet.content().nioBuffer());
        } finally {
            packet.release();
        }
    }
}
