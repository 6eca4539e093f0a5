package io.pinhole.wireguard;

import static io.pinhole.wireguard.SessionPair.bytes;
import static io.pinhole.wireguard.SessionPair.drops;
import static io.pinhole.wireguard.SessionPair.ipv4;
import static io.pinhole.wireguard.SessionPair.totalDrops;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pinhole.crypto.Blake2s;
import io.pinhole.crypto.ChaCha20Poly1305;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.crypto.WireGuardKdf;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TamperingTest: every single-bit flip of every message type is rejected (never delivered, never
 * a completed handshake, never an exception, always counted), wrongly sized datagrams are
 * MALFORMED, initiations from other keys are UNKNOWN_PEER, and low-order points are refused.
 *
 * <p>mac2 is only checked under load (as in WireGuard), so flips of mac2 are tested against a
 * session under load, whose messages carry a real mac2.
 */
class TamperingTest {
    private static final SessionTimers ALWAYS_LOADED = new SessionTimers(1420, 128, 0, 4096);

    private static SessionPair pair(long seed, SessionTimers a, SessionTimers b) {
        return new SessionPair(seed, 1_000_000_000_000L, a, b, null);
    }

    /**
     * Feeds every single-bit flip of {@code original} (outside [skipFrom, skipTo)) to {@code to}
     * and checks each is rejected and counted once with one of {@code allowed}, with no effect.
     */
    private static void everyFlipRejected(SessionPair pair, WireGuardSession to, ByteBuffer original, int skipFrom,
                                          int skipTo, Set<SessionDrop> allowed) {
        byte[] msg = bytes(original);
        SessionPair.Side side = pair.side(to);
        long handshakes = to.handshakesCompleted();
        int delivered = side.delivered.size();
        int authenticated = side.authenticatedFrom.size();
        int flips = 0;
        for (int bit = 0; bit < msg.length * 8; bit++) {
            int i = bit >>> 3;
            if (i >= skipFrom && i < skipTo) {
                continue;
            }
            byte[] m = msg.clone();
            m[i] ^= (byte) (1 << (bit & 7));
            long before = totalDrops(to);
            var dropsBefore = to.drops();
            boolean ok;
            try {
                ok = pair.receive(to, ByteBuffer.wrap(m));
            } catch (RuntimeException e) {
                throw new AssertionError("flip of bit " + bit + " (byte " + i + ") threw", e);
            }
            assertFalse(ok, "flip of bit " + bit + " (byte " + i + ") accepted");
            assertEquals(before + 1, totalDrops(to), "flip of bit " + bit + " counted once");
            var dropsAfter = to.drops();
            for (SessionDrop d : SessionDrop.values()) {
                if (!dropsAfter.getOrDefault(d, 0L).equals(dropsBefore.getOrDefault(d, 0L)) && !allowed.contains(d)) {
                    fail("flip of bit " + bit + " (byte " + i + ") counted as " + d);
                }
            }
            assertTrue(side.toPeer.isEmpty(), "flip of bit " + bit + " made the session answer");
            flips++;
        }
        assertEquals(handshakes, to.handshakesCompleted(), "no handshake completed");
        assertEquals(delivered, side.delivered.size(), "nothing delivered");
        assertEquals(authenticated, side.authenticatedFrom.size(), "nothing authenticated");
        assertTrue(flips > 0);
    }

    // ------------------------------------------------------------------ handshake initiation

    @Test
    void everyBitFlipOfAnInitiationOutsideMac2IsRejected() {
        SessionPair pair = new SessionPair(81);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        ByteBuffer initiation = pair.take(pair.a).get(0);
        everyFlipRejected(pair, pair.b, initiation, Messages.INITIATION_MAC2, Messages.INITIATION_LENGTH,
                EnumSet.of(SessionDrop.MALFORMED, SessionDrop.BAD_MAC1));
        // the original still works: no flip moved the replay state
        pair.sideA.toPeer.add(initiation);
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size());
    }

    @Test
    void everyBitFlipOfAnInitiationIsRejectedUnderLoad() {
        SessionPair pair = pair(82, SessionTimers.defaults(), ALWAYS_LOADED);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        pair.receive(pair.a, pair.sideB.sentTo.remove(0)); // a cookie
        pair.advanceSeconds(1);
        pair.a.initiate(pair.now, pair.sideA, true);
        ByteBuffer initiation = pair.take(pair.a).get(0);
        everyFlipRejected(pair, pair.b, initiation, 0, 0,
                EnumSet.of(SessionDrop.MALFORMED, SessionDrop.BAD_MAC1, SessionDrop.COOKIE_DEMANDED));
        assertEquals(1 + 16 * 8, drops(pair.b, SessionDrop.COOKIE_DEMANDED), "mac2 flips: cookie replies");
        pair.sideB.sentTo.clear();
        pair.sideA.toPeer.add(initiation);
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size());
    }

    // ------------------------------------------------------------------ handshake response

    @Test
    void everyBitFlipOfAResponseOutsideMac2IsRejected() {
        SessionPair pair = new SessionPair(83);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        ByteBuffer response = pair.take(pair.b).get(0);
        everyFlipRejected(pair, pair.a, response, Messages.RESPONSE_MAC2, Messages.RESPONSE_LENGTH,
                EnumSet.of(SessionDrop.MALFORMED, SessionDrop.BAD_MAC1, SessionDrop.HANDSHAKE_FAILED));
        assertFalse(pair.a.canSend(pair.now));
        pair.sideB.toPeer.add(response);
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size(), "the genuine response still completes the handshake");
    }

    @Test
    void everyBitFlipOfAResponseIsRejectedUnderLoad() {
        SessionPair pair = pair(84, ALWAYS_LOADED, SessionTimers.defaults());
        // B gets a cookie from A by initiating once ...
        pair.b.initiate(pair.now, pair.sideB, true);
        pair.receive(pair.a, pair.take(pair.b).get(0));
        pair.receive(pair.b, pair.sideA.sentTo.remove(0));
        assertTrue(pair.b.drops().isEmpty());
        // ... so its response to A's initiation carries mac2.
        pair.advanceSeconds(1);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        ByteBuffer response = pair.take(pair.b).get(0);
        everyFlipRejected(pair, pair.a, response, 0, 0, EnumSet.of(SessionDrop.MALFORMED, SessionDrop.BAD_MAC1,
                SessionDrop.COOKIE_DEMANDED, SessionDrop.HANDSHAKE_FAILED));
        pair.sideA.sentTo.clear();
        assertTrue(pair.receive(pair.a, response));
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size());
    }

    // ------------------------------------------------------------------ cookie reply

    @Test
    void everyBitFlipOfACookieReplyIsRejected() {
        SessionPair pair = pair(85, SessionTimers.defaults(), ALWAYS_LOADED);
        pair.a.initiate(pair.now, pair.sideA, true);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        ByteBuffer reply = pair.sideB.sentTo.remove(0);
        everyFlipRejected(pair, pair.a, reply, 0, 0, EnumSet.of(SessionDrop.MALFORMED, SessionDrop.BAD_COOKIE_REPLY));
        long before = totalDrops(pair.a);
        pair.receive(pair.a, reply);
        assertEquals(before, totalDrops(pair.a), "the genuine reply is taken");
    }

    // ------------------------------------------------------------------ transport

    @Test
    void everyBitFlipOfTransportMessagesAndKeepalivesIsRejected() {
        SessionPair pair = new SessionPair(86);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 84)), pair.sideA);
        ByteBuffer data = pair.take(pair.a).get(0);
        pair.b.sendKeepalive(pair.now, pair.sideB);
        ByteBuffer keepalive = pair.take(pair.b).get(0);
        pair.b.send(pair.now, ByteBuffer.wrap(SessionPair.ipv6(2, 100)), pair.sideB);
        ByteBuffer data6 = pair.take(pair.b).get(0);
        Set<SessionDrop> allowed = EnumSet.of(SessionDrop.MALFORMED, SessionDrop.UNKNOWN_INDEX,
                SessionDrop.DECRYPT_FAILED);
        everyFlipRejected(pair, pair.b, data, 0, 0, allowed);
        everyFlipRejected(pair, pair.a, keepalive, 0, 0, allowed);
        everyFlipRejected(pair, pair.a, data6, 0, 0, allowed);
        assertTrue(pair.receive(pair.b, data));
        assertTrue(pair.receive(pair.a, keepalive));
        assertTrue(pair.receive(pair.a, data6));
        assertArrayEquals(ipv4(1, 84), pair.sideB.delivered.get(0));
        assertArrayEquals(SessionPair.ipv6(2, 100), pair.sideA.delivered.get(0));
    }

    // ------------------------------------------------------------------ sizes and types

    @Test
    void wronglySizedHandshakeMessagesAndUnknownTypesAreMalformed() {
        SessionPair pair = pair(87, SessionTimers.defaults(), ALWAYS_LOADED);
        pair.a.initiate(pair.now, pair.sideA, true);
        byte[] initiation = bytes(pair.sideA.toPeer.get(0));
        pair.receive(pair.b, ByteBuffer.wrap(initiation));
        byte[] reply = bytes(pair.sideB.sentTo.remove(0));
        SessionPair plain = new SessionPair(88);
        plain.a.initiate(plain.now, plain.sideA, true);
        plain.receive(plain.b, plain.take(plain.a).get(0));
        byte[] response = bytes(plain.take(plain.b).get(0));

        long expected = 0;
        for (byte[] m : List.of(initiation, response, reply)) {
            for (int n = 0; n <= m.length + 64; n++) {
                if (n == m.length) {
                    continue;
                }
                byte[] resized = Arrays.copyOf(m, n);
                assertFalse(pair.receive(pair.a, ByteBuffer.wrap(resized)));
                assertFalse(pair.receive(pair.b, ByteBuffer.wrap(resized)));
                expected += 2;
            }
        }
        for (int type : new int[] {0, 5, 6, 0x80, 0xff}) {
            byte[] m = initiation.clone();
            m[0] = (byte) type;
            assertFalse(pair.receive(pair.b, ByteBuffer.wrap(m)));
            expected++;
        }
        for (int reserved = 1; reserved <= 3; reserved++) {
            byte[] m = initiation.clone();
            m[reserved] = 1;
            assertFalse(pair.receive(pair.b, ByteBuffer.wrap(m)));
            expected++;
        }
        assertFalse(pair.receive(pair.b, ByteBuffer.allocate(0)));
        expected++;
        assertEquals(expected, drops(pair.a, SessionDrop.MALFORMED) + drops(pair.b, SessionDrop.MALFORMED));
        assertTrue(pair.sideB.sentTo.isEmpty() && pair.sideB.toPeer.isEmpty() && pair.sideA.toPeer.size() == 1);
    }

    @Test
    void shortTransportMessagesAreMalformedLongerOrShorterOnesFailAuthentication() {
        SessionPair pair = new SessionPair(89);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 84)), pair.sideA);
        byte[] m = bytes(pair.take(pair.a).get(0));
        for (int n = 0; n < Messages.TRANSPORT_MIN_LENGTH; n++) {
            assertFalse(pair.receive(pair.b, ByteBuffer.wrap(Arrays.copyOf(m, n))));
        }
        assertEquals(Messages.TRANSPORT_MIN_LENGTH, drops(pair.b, SessionDrop.MALFORMED));
        int others = 0;
        for (int n = Messages.TRANSPORT_MIN_LENGTH; n <= m.length + 2000; n++) {
            if (n != m.length) {
                assertFalse(pair.receive(pair.b, ByteBuffer.wrap(Arrays.copyOf(m, n))));
                others++;
            }
        }
        assertEquals(others, drops(pair.b, SessionDrop.DECRYPT_FAILED));
        assertTrue(pair.sideB.delivered.isEmpty());
        assertTrue(pair.receive(pair.b, ByteBuffer.wrap(m)));
    }

    @Test
    void datagramsAreReadFromTheirPositionToTheirLimit() {
        SessionPair pair = new SessionPair(90);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 84)), pair.sideA);
        byte[] m = bytes(pair.take(pair.a).get(0));
        byte[] framed = new byte[m.length + 20];
        Arrays.fill(framed, (byte) 0x55);
        System.arraycopy(m, 0, framed, 7, m.length);
        ByteBuffer view = ByteBuffer.wrap(framed, 7, m.length);
        assertFalse(pair.b.receive(pair.now, SessionPair.A_ADDR, ByteBuffer.wrap(framed, 7, m.length - 1), pair.sideB));
        assertTrue(pair.b.receive(pair.now, SessionPair.A_ADDR, view, pair.sideB));
        assertEquals(7, view.position(), "the caller's buffer is not consumed");
        assertArrayEquals(ipv4(1, 84), pair.sideB.delivered.get(0));

        pair.advanceSeconds(1);
        pair.a.initiate(pair.now, pair.sideA, true);
        byte[] init = bytes(pair.take(pair.a).get(0));
        byte[] framedInit = new byte[init.length + 9];
        System.arraycopy(init, 0, framedInit, 9, init.length);
        assertTrue(pair.b.receive(pair.now, SessionPair.A_ADDR, ByteBuffer.wrap(framedInit, 9, init.length), pair.sideB));
    }

    // ------------------------------------------------------------------ other keys

    @Test
    void anInitiationFromAKeyOtherThanThePeersIsUnknownPeer() {
        SessionPair pair = new SessionPair(91);
        NoisePrivateKey stranger = NoisePrivateKey.generate(SessionPair.seeded(910));
        WireGuardSession impostor = new WireGuardSession(new Identity(stranger, pair.keyB.publicKey(), null),
                SessionPair.seeded(911), pair.wall, SessionTimers.defaults());
        SessionPair.Side out = pair.new Side("impostor");
        impostor.initiate(pair.now, out, true);
        assertFalse(pair.receive(pair.b, out.toPeer.get(0)));
        assertEquals(1L, drops(pair.b, SessionDrop.UNKNOWN_PEER));
        assertTrue(pair.sideB.toPeer.isEmpty());
        assertTrue(pair.sideB.authenticatedFrom.isEmpty());
        assertEquals(0, pair.b.handshakesCompleted());
        // and it does not disturb the real peer
        pair.handshake();
    }

    // ------------------------------------------------------------------ low-order points

    static Stream<byte[]> lowOrderPoints() {
        BigInteger p = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
        List<BigInteger> u = List.of(BigInteger.ZERO, BigInteger.ONE,
                new BigInteger("325606250916557431795983626356110631294008115727848805560023387167927233504"),
                new BigInteger("39382357235489614581723060781553021112529911719440698176882885853963445705823"),
                p.subtract(BigInteger.ONE), p, p.add(BigInteger.ONE));
        List<byte[]> out = new ArrayList<>();
        for (BigInteger v : u) {
            byte[] le = littleEndian(v);
            out.add(le);
            byte[] high = le.clone();
            high[31] |= (byte) 0x80; // the top bit is ignored
            out.add(high);
        }
        return out.stream();
    }

    private static byte[] littleEndian(BigInteger v) {
        byte[] be = v.toByteArray();
        byte[] le = new byte[32];
        for (int i = 0; i < 32 && i < be.length; i++) {
            le[i] = be[be.length - 1 - i];
        }
        return le;
    }

    private static void setMac1(byte[] msg, int mac1Offset, NoisePublicKey receiver) {
        byte[] key = Blake2s.hash(32, Protocol.LABEL_MAC1, receiver.toBytes());
        byte[] mac1 = Blake2s.mac(16, key, Arrays.copyOfRange(msg, 0, mac1Offset));
        System.arraycopy(mac1, 0, msg, mac1Offset, 16);
    }

    @ParameterizedTest
    @MethodSource("lowOrderPoints")
    void aLowOrderEphemeralInAnInitiationIsRejected(byte[] point) {
        SessionPair pair = new SessionPair(92);
        pair.a.initiate(pair.now, pair.sideA, true);
        byte[] m = bytes(pair.take(pair.a).get(0));
        System.arraycopy(point, 0, m, Messages.INITIATION_EPHEMERAL, 32);
        setMac1(m, Messages.INITIATION_MAC1, pair.keyB.publicKey());
        assertFalse(pair.receive(pair.b, ByteBuffer.wrap(m)));
        assertEquals(1L, drops(pair.b, SessionDrop.HANDSHAKE_FAILED));
        assertTrue(pair.sideB.toPeer.isEmpty());
    }

    @ParameterizedTest
    @MethodSource("lowOrderPoints")
    void aLowOrderEphemeralInAResponseIsRejected(byte[] point) {
        SessionPair pair = new SessionPair(93);
        pair.a.initiate(pair.now, pair.sideA, true);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        ByteBuffer genuine = pair.take(pair.b).get(0);
        byte[] m = bytes(genuine);
        System.arraycopy(point, 0, m, Messages.RESPONSE_EPHEMERAL, 32);
        setMac1(m, Messages.RESPONSE_MAC1, pair.keyA.publicKey());
        assertFalse(pair.receive(pair.a, ByteBuffer.wrap(m)));
        assertEquals(1L, drops(pair.a, SessionDrop.HANDSHAKE_FAILED));
        assertTrue(pair.sideA.toPeer.isEmpty());
        assertTrue(pair.receive(pair.a, genuine), "the handshake in progress is untouched");
    }

    /** A well-formed initiation whose (encrypted) static key is a low-order point. */
    @ParameterizedTest
    @MethodSource("lowOrderPoints")
    void aLowOrderStaticKeyInAnInitiationIsRejected(byte[] point) {
        SessionPair pair = new SessionPair(94);
        NoisePublicKey responder = pair.keyB.publicKey();
        byte[] msg = new byte[Messages.INITIATION_LENGTH];
        msg[0] = Messages.TYPE_INITIATION;
        Messages.writeIntLe(msg, Messages.INITIATION_SENDER, 1234);
        byte[] c = Protocol.INITIAL_CHAIN_KEY.clone();
        byte[] h = Blake2s.hash(32, Protocol.INITIAL_HASH, responder.toBytes());
        NoisePrivateKey ephemeral = NoisePrivateKey.generate(SessionPair.seeded(940));
        byte[] e = ephemeral.publicKey().toBytes();
        System.arraycopy(e, 0, msg, Messages.INITIATION_EPHEMERAL, 32);
        c = WireGuardKdf.kdf1(c, e);
        h = Blake2s.hash(32, h, e);
        byte[][] ck = WireGuardKdf.kdf2(c, ephemeral.sharedSecret(responder));
        new ChaCha20Poly1305().seal(ck[1], 0, point, 0, 32, h, msg, Messages.INITIATION_STATIC);
        Arrays.fill(msg, Messages.INITIATION_TIMESTAMP, Messages.INITIATION_MAC1, (byte) 7);
        setMac1(msg, Messages.INITIATION_MAC1, responder);
        assertFalse(pair.receive(pair.b, ByteBuffer.wrap(msg)));
        assertEquals(1L, drops(pair.b, SessionDrop.HANDSHAKE_FAILED));
        assertTrue(pair.sideB.toPeer.isEmpty());
    }
}
