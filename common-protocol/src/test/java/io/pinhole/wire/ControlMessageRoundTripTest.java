package io.pinhole.wire;

import static io.pinhole.wire.WireSamples.V4;
import static io.pinhole.wire.WireSamples.V6;
import static io.pinhole.wire.WireSamples.bytes;
import static io.pinhole.wire.WireSamples.candidates;
import static io.pinhole.wire.WireSamples.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** ControlMessageRoundTripTest: every control message decodes to what was encoded, wherever it sits. */
class ControlMessageRoundTripTest {

    static Stream<ControlMessage> validMessages() {
        return WireSamples.validMessages().stream();
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void decodingAnEncodedMessageGivesItBack(ControlMessage message) throws Exception {
        ByteBuffer encoded = message.encode();
        assertEquals(0, encoded.position(), "flipped for reading");

        ControlMessage decoded = ControlMessage.decode(encoded);

        assertEquals(message, decoded);
        assertEquals(message.type(), decoded.type());
        assertArrayEquals(bytes(encoded), bytes(decoded.encode()), "re-encoding is byte-identical");
        assertEquals(message.type(), Header.peekType(encoded));
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void decodingLeavesTheCallersBufferUntouched(ControlMessage message) throws Exception {
        ByteBuffer encoded = message.encode();
        int limit = encoded.limit();
        ControlMessage.decode(encoded);
        assertEquals(0, encoded.position());
        assertEquals(limit, encoded.limit());
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void aMessageInsideABiggerBufferDecodesFromItsPositionToItsLimit(ControlMessage message) throws Exception {
        byte[] raw = bytes(message.encode());
        byte[] bigger = new byte[raw.length + 17];
        java.util.Arrays.fill(bigger, (byte) 0x5a);
        System.arraycopy(raw, 0, bigger, 9, raw.length);
        ByteBuffer view = ByteBuffer.wrap(bigger, 9, raw.length);

        assertEquals(message, ControlMessage.decode(view));
        assertEquals(message, ControlMessage.decode(view.slice()));
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void decodingIgnoresTheBufferKindAndByteOrder(ControlMessage message) throws Exception {
        byte[] raw = bytes(message.encode());
        ByteBuffer direct = ByteBuffer.allocateDirect(raw.length).put(raw).flip();
        ByteBuffer littleEndian = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer readOnly = ByteBuffer.wrap(raw).asReadOnlyBuffer();

        assertEquals(message, ControlMessage.decode(direct));
        assertEquals(message, ControlMessage.decode(littleEndian));
        assertEquals(message, ControlMessage.decode(readOnly));
    }

    @Test
    void registerRoundTripsWithIpv4AndIpv6CandidatesAndNone() throws Exception {
        for (List<InetSocketAddress> cands : List.of(List.<InetSocketAddress>of(), List.of(V4), List.of(V6),
                candidates(8), List.of(V6, V6, V6, V6, V6, V6, V6, V6))) {
            Register register = new Register(key(1), key(100), -5L, cands);
            ByteBuffer encoded = register.encode();
            assertEquals(Register.LENGTH, encoded.remaining(), "always padded to 256 bytes");
            Register decoded = (Register) ControlMessage.decode(encoded);
            assertEquals(cands, decoded.candidates());
            assertEquals(key(1), decoded.self());
            assertEquals(key(100), decoded.wanted());
            assertEquals(-5L, decoded.session());
        }
    }

    @Test
    void peerInfoRoundTripsItsObservedEndpointAndCandidatesInOrder() throws Exception {
        List<InetSocketAddress> cands = new ArrayList<>(candidates(8));
        java.util.Collections.reverse(cands);
        PeerInfo info = new PeerInfo(key(7), 123L, V6, cands);
        PeerInfo decoded = (PeerInfo) ControlMessage.decode(info.encode());
        assertEquals(V6, decoded.observed());
        assertEquals(cands, decoded.candidates());
    }

    @Test
    void registeredCarriesTheRefreshIntervalAsAnUnsignedShort() throws Exception {
        Registered decoded = (Registered) ControlMessage.decode(new Registered(1L, 65535, V4).encode());
        assertEquals(65535, decoded.refreshSeconds());
    }

    @Test
    void punchProbeAndAckAreTheSameSize() {
        assertEquals(Punch.LENGTH, new Punch(key(1), key(2), 1L, false).encode().remaining());
        assertEquals(Punch.LENGTH, new Punch(key(1), key(2), 1L, true).encode().remaining());
        assertEquals(80, Punch.LENGTH);
        assertEquals(44, Leave.LENGTH);
        assertEquals(44, new Leave(key(1), 1L).encode().remaining());
    }

    @Test
    void theLargestRepliesOfTheServerStillFitInARegister() {
        List<InetSocketAddress> eightV6 = List.of(V6, V6, V6, V6, V6, V6, V6, V6);
        int peerInfo = new PeerInfo(key(1), 1L, V6, eightV6).encode().remaining();
        int registered = new Registered(1L, 20, V6).encode().remaining();
        assertEquals(216, peerInfo);
        assertEquals(33, registered);
        assertTrue(peerInfo + registered <= Register.LENGTH, "both replies to one REGISTER together are smaller");
    }

    @Test
    void recordsRefuseMoreThanEightCandidates() {
        List<InetSocketAddress> nine = new ArrayList<>(candidates(8));
        nine.add(V4);
        assertThrows(IllegalArgumentException.class, () -> new Register(key(1), key(2), 1L, nine));
        assertThrows(IllegalArgumentException.class, () -> new PeerInfo(key(1), 1L, V4, nine));
    }

    @Test
    void candidateListsAreCopiedSoTheRecordStaysImmutable() {
        List<InetSocketAddress> cands = new ArrayList<>(List.of(V4));
        Register register = new Register(key(1), key(2), 1L, cands);
        cands.add(V6);
        assertEquals(List.of(V4), register.candidates());
        assertThrows(UnsupportedOperationException.class, () -> register.candidates().add(V6));
    }

    @Test
    void everyTypeByteMapsToItsTypeAndNothingElseIsKnown() {
        for (int code = 0; code < 256; code++) {
            MessageType type = MessageType.ofCode(code);
            if ((code >= 1 && code <= 4) || (code >= 0x50 && code <= 0x55)) {
                assertEquals(code, type.code());
                assertEquals(code <= 4, type.isWireGuard());
            } else {
                assertNull(type, "type byte 0x" + Integer.toHexString(code));
            }
        }
        assertEquals(MessageType.PLAIN_DATA, MessageType.ofCode((byte) 0x55));
        assertNull(MessageType.ofCode((byte) 0xd5), "negative byte values are taken as unsigned");
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
