package io.pinhole.wireguard;

import static io.pinhole.wireguard.SessionPair.drops;
import static io.pinhole.wireguard.SessionPair.ipv4;
import static io.pinhole.wireguard.SessionPair.ipv6;
import static io.pinhole.wireguard.SessionPair.typeOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * InnerPacketTest: transport payloads are padded to a multiple of 16 (up to the MTU) and the
 * padding is stripped on receipt using the IPv4/IPv6 length; payloads that are not IP packets
 * of a consistent length are dropped but still count as authenticated, as in WireGuard.
 */
class InnerPacketTest {
    private static final long S = 1_000_000_000L;

    @Test
    void paddingIsAddedToMultiplesOf16UpToTheMtuAndStrippedOnReceipt() {
        SessionPair pair = new SessionPair(101);
        pair.handshake();
        int mtu = SessionTimers.defaults().mtu();
        int expected = 0;
        for (int size = 20; size <= mtu; size += size < 200 ? 1 : 97) {
            byte[] p = ipv4(size, size);
            p[size - 1] = (byte) 0xAB; // a last byte that is not padding
            pair.a.send(pair.now, ByteBuffer.wrap(p), pair.sideA);
            ByteBuffer m = pair.take(pair.a).get(0);
            int padded = Math.min((size + 15) / 16 * 16, mtu);
            assertEquals(Messages.TRANSPORT_HEADER_LENGTH + padded + 16, m.remaining(), "size " + size);
            assertTrue(pair.receive(pair.b, m));
            assertArrayEquals(p, pair.sideB.delivered.get(expected++), "size " + size);
        }
        for (int payload = 0; payload <= 300; payload += 7) {
            byte[] p = ipv6(payload, payload);
            pair.b.send(pair.now, ByteBuffer.wrap(p), pair.sideB);
            ByteBuffer m = pair.take(pair.b).get(0);
            assertEquals(0, (m.remaining() - Messages.TRANSPORT_MIN_LENGTH) % 16);
            assertTrue(pair.receive(pair.a, m));
            assertArrayEquals(p, pair.sideA.delivered.get(pair.sideA.delivered.size() - 1));
        }
        // at the MTU (and above it) nothing is added
        byte[] big = ipv4(1, mtu);
        pair.a.send(pair.now, ByteBuffer.wrap(big), pair.sideA);
        assertEquals(Messages.TRANSPORT_MIN_LENGTH + mtu, pair.take(pair.a).get(0).remaining());
        byte[] bigger = ipv4(2, mtu + 3);
        pair.a.send(pair.now, ByteBuffer.wrap(bigger), pair.sideA);
        ByteBuffer m = pair.take(pair.a).get(0);
        assertEquals(Messages.TRANSPORT_MIN_LENGTH + mtu + 3, m.remaining());
        assertTrue(pair.receive(pair.b, m));
        assertArrayEquals(bigger, pair.sideB.delivered.get(pair.sideB.delivered.size() - 1));
    }

    @Test
    void aSmallerMtuCapsThePadding() {
        SessionPair pair = new SessionPair(102, 0, SessionTimers.defaults().withMtu(1278), SessionTimers.defaults(), null);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 1275)), pair.sideA);
        assertEquals(Messages.TRANSPORT_MIN_LENGTH + 1278, pair.take(pair.a).get(0).remaining());
    }

    @Test
    void aTrailerBeyondTheIpLengthIsStripped() {
        SessionPair pair = new SessionPair(103);
        pair.handshake();
        byte[] p = ipv4(5, 40);
        byte[] withTrailer = Arrays.copyOf(p, 64);
        Arrays.fill(withTrailer, 40, 64, (byte) 0x77);
        assertTrue(pair.receive(pair.b, SessionPair.transport(pair.a.currentKeypair(), withTrailer)));
        assertArrayEquals(p, pair.sideB.delivered.get(0));
        byte[] q = ipv6(6, 10);
        assertTrue(pair.receive(pair.b, SessionPair.transport(pair.a.currentKeypair(), Arrays.copyOf(q, 80))));
        assertArrayEquals(q, pair.sideB.delivered.get(1));
    }

    static List<byte[]> badPayloads() {
        byte[] v4TooLong = ipv4(1, 60);
        v4TooLong[3] = 61; // says 61 bytes, has 60
        byte[] v4TooShortField = ipv4(1, 60);
        v4TooShortField[2] = 0;
        v4TooShortField[3] = 19; // less than a header
        byte[] v4Truncated = Arrays.copyOf(ipv4(1, 20), 19);
        v4Truncated[3] = 19;
        byte[] v6TooLong = ipv6(1, 20);
        v6TooLong[5] = 21;
        byte[] v6Truncated = Arrays.copyOf(ipv6(1, 0), 39);
        byte[] v5 = ipv4(1, 60);
        v5[0] = 0x55;
        byte[] zeros = new byte[64];
        byte[] one = {0x45};
        return List.of(v4TooLong, v4TooShortField, v4Truncated, v6TooLong, v6Truncated, v5, zeros, one);
    }

    @Test
    void aPayloadThatIsNotAnIpPacketIsDroppedButStillCountsAsAuthenticated() {
        SessionPair pair = new SessionPair(104);
        pair.handshake();
        int alive = pair.sideB.authenticatedFrom.size();
        int n = 0;
        for (byte[] bad : badPayloads()) {
            assertTrue(pair.receive(pair.b, SessionPair.transport(pair.a.currentKeypair(), bad)),
                    "payload " + n + " authenticated");
            n++;
        }
        assertEquals(n, drops(pair.b, SessionDrop.BAD_INNER_PACKET));
        assertTrue(pair.sideB.delivered.isEmpty());
        assertEquals(alive + n, pair.sideB.authenticatedFrom.size(), "each one shows the peer is alive");
    }

    @Test
    void aBadInnerPacketStillAnswersOurDataForTheNewHandshakeTimer() {
        SessionPair pair = new SessionPair(105);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.deliverAll();
        pair.advanceSeconds(10);
        assertTrue(pair.receive(pair.a, SessionPair.transport(pair.b.currentKeypair(), new byte[32])));
        assertEquals(1L, drops(pair.a, SessionDrop.BAD_INNER_PACKET));
        for (int i = 0; i < 200; i++) {
            pair.now += S / 10;
            pair.a.tick(pair.now, pair.sideA);
        }
        assertTrue(pair.sideA.toPeer.isEmpty(), "no new handshake: the peer answered");
    }

    @Test
    void aBadInnerPacketOnTheNextKeypairConfirmsIt() {
        SessionPair pair = new SessionPair(106);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        pair.receive(pair.a, pair.take(pair.b).get(0));
        pair.dropAll(); // the staged packet is lost
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideB);
        pair.dropAll(); // (B's own initiation for it, too)
        assertFalse(pair.b.canSend(pair.now));
        assertTrue(pair.receive(pair.b, SessionPair.transport(pair.a.currentKeypair(), new byte[] {1, 2, 3})));
        assertEquals(1L, drops(pair.b, SessionDrop.BAD_INNER_PACKET));
        assertTrue(pair.b.canSend(pair.now));
        List<ByteBuffer> flushed = pair.take(pair.b);
        assertEquals(Messages.TYPE_TRANSPORT, typeOf(flushed.get(0)));
        assertTrue(pair.receive(pair.a, flushed.get(0)));
        assertArrayEquals(ipv4(2, 60), pair.sideA.delivered.get(0));
    }
}
