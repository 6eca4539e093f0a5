package io.pinhole.wire;

import static io.pinhole.wire.WireSamples.COOKIE;
import static io.pinhole.wire.WireSamples.MAC_KEY;
import static io.pinhole.wire.WireSamples.V4;
import static io.pinhole.wire.WireSamples.V6;
import static io.pinhole.wire.WireSamples.bytes;
import static io.pinhole.wire.WireSamples.candidates;
import static io.pinhole.wire.WireSamples.key;
import static io.pinhole.wire.WireSamples.sealed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** ControlMessageRoundTripTest: every control message decodes to what was encoded, wherever it sits. */
class ControlMessageRoundTripTest {
    private static final byte[] NONCE = WireSamples.sequence(0x40, 16);

    static Stream<ControlMessage> validMessages() {
        return WireSamples.validMessages().stream();
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void decodingAnEncodedMessageGivesItBack(ControlMessage message) throws Exception {
        ByteBuffer encoded = message.encode(MAC_KEY);
        assertEquals(0, encoded.position(), "flipped for reading");

        ControlMessage decoded = ControlMessage.decode(encoded);

        assertEquals(message, decoded);
        assertEquals(message.hashCode(), decoded.hashCode());
        assertEquals(message.type(), decoded.type());
        assertArrayEquals(bytes(encoded), bytes(decoded.encode(MAC_KEY)), "re-encoding is byte-identical");
        assertEquals(message.type(), Header.peekType(encoded));
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void anAuthenticatedMessageCarriesAValidMacUnderItsKeyOnly(ControlMessage message) {
        ByteBuffer encoded = message.encode(MAC_KEY);
        if (WireSamples.authenticated(message)) {
            assertTrue(ControlMessage.macValid(encoded, MAC_KEY));
            assertTrue(!ControlMessage.macValid(encoded, WireSamples.sequence(0xa1, 32)), "another key");
            assertTrue(!ControlMessage.macValid(message.encode(null), MAC_KEY), "sealed without a key");
        } else {
            assertArrayEquals(bytes(encoded), bytes(message.encode(null)), "CHALLENGE has no MAC: the key is ignored");
            assertArrayEquals(bytes(encoded), bytes(message.encode(WireSamples.sequence(7, 32))));
        }
        assertEquals(0, encoded.position(), "macValid does not consume the datagram");
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void sealingWithoutAKeyWritesAZeroMacAndTheSameBody(ControlMessage message) throws Exception {
        if (!WireSamples.authenticated(message)) {
            return;
        }
        byte[] withKey = sealed(message);
        byte[] withoutKey = bytes(message.encode(null));
        int body = withKey.length - ControlMessage.MAC_LENGTH;

        assertEquals(withKey.length, withoutKey.length);
        assertArrayEquals(Arrays.copyOf(withKey, body), Arrays.copyOf(withoutKey, body));
        assertArrayEquals(new byte[ControlMessage.MAC_LENGTH], Arrays.copyOfRange(withoutKey, body, withoutKey.length));
        assertEquals(message, ControlMessage.decode(ByteBuffer.wrap(withoutKey)), "decoding checks form, not the MAC");
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void decodingLeavesTheCallersBufferUntouched(ControlMessage message) throws Exception {
        ByteBuffer encoded = message.encode(MAC_KEY);
        int limit = encoded.limit();
        ControlMessage.decode(encoded);
        assertEquals(0, encoded.position());
        assertEquals(limit, encoded.limit());
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void aMessageInsideABiggerBufferDecodesFromItsPositionToItsLimit(ControlMessage message) throws Exception {
        byte[] raw = sealed(message);
        byte[] bigger = new byte[raw.length + 17];
        Arrays.fill(bigger, (byte) 0x5a);
        System.arraycopy(raw, 0, bigger, 9, raw.length);
        ByteBuffer view = ByteBuffer.wrap(bigger, 9, raw.length);

        assertEquals(message, ControlMessage.decode(view));
        assertEquals(message, ControlMessage.decode(view.slice()));
        if (WireSamples.authenticated(message)) {
            assertTrue(ControlMessage.macValid(view, MAC_KEY), "the MAC is checked over position..limit");
            assertTrue(ControlMessage.macValid(view.slice(), MAC_KEY));
        }
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void decodingIgnoresTheBufferKindAndByteOrder(ControlMessage message) throws Exception {
        byte[] raw = sealed(message);
        ByteBuffer direct = ByteBuffer.allocateDirect(raw.length).put(raw).flip();
        ByteBuffer littleEndian = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer readOnly = ByteBuffer.wrap(raw).asReadOnlyBuffer();

        assertEquals(message, ControlMessage.decode(direct));
        assertEquals(message, ControlMessage.decode(littleEndian));
        assertEquals(message, ControlMessage.decode(readOnly));
        if (WireSamples.authenticated(message)) {
            assertTrue(ControlMessage.macValid(direct, MAC_KEY));
            assertTrue(ControlMessage.macValid(littleEndian, MAC_KEY));
            assertTrue(ControlMessage.macValid(readOnly, MAC_KEY));
        }
    }

    @Test
    void registerRoundTripsWithIpv4AndIpv6CandidatesAndNone() throws Exception {
        for (List<InetSocketAddress> cands : List.of(List.<InetSocketAddress>of(), List.of(V4), List.of(V6),
                candidates(8), List.of(V6, V6, V6, V6, V6, V6, V6, V6))) {
            Register register = new Register(key(1), key(100), -5L, 1_234_567L, COOKIE, cands, NONCE);
            ByteBuffer encoded = register.encode(MAC_KEY);
            assertEquals(Register.LENGTH, encoded.remaining(), "always padded to 320 bytes");
            Register decoded = (Register) ControlMessage.decode(encoded);
            assertEquals(cands, decoded.candidates());
            assertEquals(key(1), decoded.self());
            assertEquals(key(100), decoded.wanted());
            assertEquals(-5L, decoded.session());
            assertEquals(1_234_567L, decoded.timestamp());
            assertArrayEquals(COOKIE, decoded.cookie());
            assertArrayEquals(NONCE, decoded.nonce());
        }
        assertEquals(320, Register.LENGTH);
    }

    @Test
    void aRegisterWithoutACookieCarriesSixteenZeroBytes() throws Exception {
        Register register = new Register(key(1), key(2), 1L, 2L, null, List.of());
        assertArrayEquals(new byte[Register.COOKIE_LENGTH], register.cookie());
        assertEquals(register, new Register(key(1), key(2), 1L, 2L, new byte[16], List.of()));
        assertArrayEquals(new byte[16], ((Register) ControlMessage.decode(register.encode(null))).cookie());
        assertArrayEquals(new byte[16], register.nonce(), "and a zero nonce, unless given one");
    }

    @Test
    void cookiesMustBeSixteenBytes() {
        for (int n : new int[] {0, 15, 17, 32}) {
            assertThrows(IllegalArgumentException.class,
                    () -> new Register(key(1), key(2), 1L, 2L, new byte[n], List.of()), n + " bytes");
            assertThrows(IllegalArgumentException.class, () -> new Challenge(key(1), new byte[n], NONCE), n + " bytes");
            assertThrows(IllegalArgumentException.class, () -> new Challenge(key(1), COOKIE, new byte[n]),
                    n + " bytes of nonce");
            assertThrows(IllegalArgumentException.class,
                    () -> new Register(key(1), key(2), 1L, 2L, COOKIE, List.of(), new byte[n]), n + " bytes of nonce");
        }
    }

    @Test
    void cookiesAreCopiedInAndOutSoTheRecordsStayImmutable() {
        byte[] cookie = COOKIE.clone();
        Register register = new Register(key(1), key(2), 1L, 2L, cookie, List.of());
        Challenge challenge = new Challenge(key(3), cookie, cookie);
        cookie[0] ^= 1;
        register.cookie()[1] ^= 1;
        challenge.cookie()[1] ^= 1;
        challenge.nonce()[1] ^= 1;

        assertArrayEquals(COOKIE, register.cookie());
        assertArrayEquals(COOKIE, challenge.cookie());
        assertArrayEquals(COOKIE, challenge.nonce());
    }

    @Test
    void recordsWithDifferentCookiesOrTimestampsDiffer() {
        Register register = new Register(key(1), key(2), 1L, 2L, COOKIE, List.of());
        assertNotEquals(register, new Register(key(1), key(2), 1L, 2L, new byte[16], List.of()));
        assertNotEquals(register, new Register(key(1), key(2), 1L, 3L, COOKIE, List.of()));
        assertNotEquals(register, new Register(key(1), key(2), 1L, 2L, COOKIE, List.of(), NONCE));
        assertNotEquals(new Challenge(key(3), COOKIE, NONCE), new Challenge(key(3), new byte[16], NONCE));
        assertNotEquals(new Challenge(key(3), COOKIE, NONCE), new Challenge(key(4), COOKIE, NONCE));
        assertNotEquals(new Challenge(key(3), COOKIE, NONCE), new Challenge(key(3), COOKIE, new byte[16]));
        assertNotEquals(new Leave(key(1), 1L, 2L), new Leave(key(1), 1L, 3L));
    }

    @Test
    void challengeRoundTripsTheServerKeyAndCookie() throws Exception {
        Challenge challenge = new Challenge(key(0x41), COOKIE, NONCE);
        Challenge decoded = (Challenge) ControlMessage.decode(challenge.encode(null));
        assertEquals(key(0x41), decoded.server());
        assertArrayEquals(COOKIE, decoded.cookie());
        assertArrayEquals(NONCE, decoded.nonce());
        assertEquals(68, Challenge.LENGTH);
    }

    @Test
    void peerInfoRoundTripsItsObservedEndpointAndCandidatesInOrder() throws Exception {
        List<InetSocketAddress> cands = new ArrayList<>(candidates(8));
        java.util.Collections.reverse(cands);
        PeerInfo info = new PeerInfo(-9L, 1_234_567L, key(7), 123L, 7_654_321L, V6, cands);
        PeerInfo decoded = (PeerInfo) ControlMessage.decode(info.encode(MAC_KEY));
        assertEquals(V6, decoded.observed());
        assertEquals(cands, decoded.candidates());
        assertEquals(123L, decoded.peerSession());
        assertEquals(List.of(-9L, 1_234_567L, 7_654_321L), List.of(decoded.session(), decoded.timestamp(),
                decoded.peerTimestamp()), "what it answers, and the partner's timestamp");
        assertEquals(info, decoded);
    }

    @Test
    void registeredCarriesTheRefreshIntervalAsAnUnsignedShort() throws Exception {
        Registered decoded = (Registered) ControlMessage.decode(new Registered(1L, 2L, 65535, V4).encode(MAC_KEY));
        assertEquals(65535, decoded.refreshSeconds());
        assertEquals(new Registered(1L, 2L, 65535, V4), decoded, "with the session and timestamp it answers");
    }

    @Test
    void punchRoundTripsBothSessionsTheCounterAndTheAckFlag() throws Exception {
        Punch punch = new Punch(key(1), key(2), -3L, 0x0102030405060708L, Long.MIN_VALUE, true);
        assertEquals(punch, ControlMessage.decode(punch.encode(MAC_KEY)));
        Punch probe = new Punch(key(1), key(2), -3L, 0L, 1L, false);
        assertEquals(probe, ControlMessage.decode(probe.encode(MAC_KEY)));
    }

    @Test
    void punchProbeAndAckAreTheSameSize() {
        assertEquals(Punch.LENGTH, new Punch(key(1), key(2), 1L, 2L, 3L, false).encode(MAC_KEY).remaining());
        assertEquals(Punch.LENGTH, new Punch(key(1), key(2), 1L, 2L, 3L, true).encode(MAC_KEY).remaining());
        assertEquals(112, Punch.LENGTH);
        assertEquals(68, Leave.LENGTH);
        assertEquals(68, new Leave(key(1), 1L, 2L).encode(MAC_KEY).remaining());
    }

    @Test
    void theLargestRepliesOfTheServerStillFitInARegister() {
        List<InetSocketAddress> eightV6 = List.of(V6, V6, V6, V6, V6, V6, V6, V6);
        int peerInfo = new PeerInfo(1L, 2L, key(1), 1L, 3L, V6, eightV6).encode(MAC_KEY).remaining();
        int registered = new Registered(1L, 2L, 20, V6).encode(MAC_KEY).remaining();
        int challenge = new Challenge(key(1), COOKIE, NONCE).encode(null).remaining();
        assertEquals(256, peerInfo);
        assertEquals(57, registered);
        assertEquals(68, challenge);
        assertTrue(peerInfo + registered <= Register.LENGTH, "both replies to one REGISTER together are smaller");
    }

    @Test
    void recordsRefuseMoreThanEightCandidates() {
        List<InetSocketAddress> nine = new ArrayList<>(candidates(8));
        nine.add(V4);
        assertThrows(IllegalArgumentException.class, () -> new Register(key(1), key(2), 1L, 1L, COOKIE, nine));
        assertThrows(IllegalArgumentException.class, () -> new PeerInfo(1L, 2L, key(1), 1L, 3L, V4, nine));
    }

    @Test
    void candidateListsAreCopiedSoTheRecordStaysImmutable() {
        List<InetSocketAddress> cands = new ArrayList<>(List.of(V4));
        Register register = new Register(key(1), key(2), 1L, 1L, COOKIE, cands);
        PeerInfo info = new PeerInfo(1L, 2L, key(1), 1L, 3L, V4, cands);
        cands.add(V6);
        assertEquals(List.of(V4), register.candidates());
        assertEquals(List.of(V4), info.candidates());
        assertThrows(UnsupportedOperationException.class, () -> register.candidates().add(V6));
        assertThrows(UnsupportedOperationException.class, () -> info.candidates().add(V6));
    }

    @Test
    void everyTypeByteMapsToItsTypeAndNothingElseIsKnown() {
        for (int code = 0; code < 256; code++) {
            MessageType type = MessageType.ofCode(code);
            if ((code >= 1 && code <= 4) || (code >= 0x50 && code <= 0x54) || code == 0x56 || code == 0x57) {
                assertEquals(code, type.code());
                assertEquals(code <= 4, type.isWireGuard());
            } else {
                assertNull(type, "type byte 0x" + Integer.toHexString(code));
            }
        }
        assertNull(MessageType.ofCode((byte) 0x55), "PLAIN_DATA is gone: 0x55 is unknown");
        assertEquals(MessageType.CHALLENGE, MessageType.ofCode((byte) 0x56));
        assertEquals(MessageType.RELAY, MessageType.ofCode((byte) 0x57));
        assertNull(MessageType.ofCode((byte) 0xd6), "negative byte values are taken as unsigned");
    }

    @Test
    void endpointsHaveTheirDocumentedLengths() {
        assertEquals(7, Endpoints.length(V4));
        assertEquals(19, Endpoints.length(V6));
        assertEquals(19, Endpoints.MAX_LENGTH);
    }

    @Test
    void endpointsAtTheEdgesOfThePortRangeRoundTrip() throws Exception {
        for (InetSocketAddress e : List.of(WireSamples.endpoint("1.2.3.4", 0), WireSamples.endpoint("::", 65535),
                WireSamples.endpoint("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1))) {
            ByteBuffer out = ByteBuffer.allocate(Endpoints.MAX_LENGTH);
            Endpoints.write(out, e);
            assertEquals(Endpoints.length(e), out.position());
            assertEquals(e, Endpoints.read(out.flip()));
            assertTrue(!out.hasRemaining());
        }
    }

    @Test
    void anUnresolvedEndpointCannotBeWritten() {
        InetSocketAddress unresolved = InetSocketAddress.createUnresolved("example.org", 80);
        assertThrows(IllegalArgumentException.class, () -> Endpoints.write(ByteBuffer.allocate(32), unresolved));
    }
}
