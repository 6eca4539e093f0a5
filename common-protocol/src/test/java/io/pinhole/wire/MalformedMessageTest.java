package io.pinhole.wire;

import static io.pinhole.wire.WireSamples.V4;
import static io.pinhole.wire.WireSamples.V6;
import static io.pinhole.wire.WireSamples.bytes;
import static io.pinhole.wire.WireSamples.candidates;
import static io.pinhole.wire.WireSamples.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.MalformedMessageException.Reason;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** MalformedMessageTest: every way a datagram can be wrong ends in MalformedMessageException with the right reason. */
class MalformedMessageTest {

    static Stream<ControlMessage> validMessages() {
        return WireSamples.validMessages().stream();
    }

    /** Decodes {@code raw}, expecting a MalformedMessageException; returns its reason. */
    private static Reason rejectionOf(byte[] raw) {
        try {
            ControlMessage decoded = ControlMessage.decode(ByteBuffer.wrap(raw));
            return fail("decoded " + decoded + " from " + java.util.HexFormat.of().formatHex(raw));
        } catch (MalformedMessageException e) {
            return e.reason();
        }
    }

    private static byte[] with(ControlMessage message, int offset, int value) {
        byte[] raw = bytes(message.encode());
        raw[offset] = (byte) value;
        return raw;
    }

    // ---------------------------------------------------------------- truncation and bit flips

    @ParameterizedTest
    @MethodSource("validMessages")
    void everyTruncationIsRejectedAsTruncated(ControlMessage message) {
        byte[] raw = bytes(message.encode());
        for (int length = 0; length < raw.length; length++) {
            byte[] prefix = Arrays.copyOf(raw, length);
            assertEquals(Reason.TRUNCATED, rejectionOf(prefix), "prefix of " + length + " bytes of " + message);
        }
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void everySingleBitFlipDecodesCleanlyOrIsRejected(ControlMessage message) {
        byte[] raw = bytes(message.encode());
        int decodedCount = 0;
        for (int bit = 0; bit < raw.length * 8; bit++) {
            byte[] flipped = raw.clone();
            flipped[bit / 8] ^= (byte) (1 << (bit % 8));
            try {
                ControlMessage decoded = ControlMessage.decode(ByteBuffer.wrap(flipped));
                decodedCount++;
                // what is accepted is canonical: it encodes back to exactly the bytes received
                assertArrayEquals(flipped, bytes(decoded.encode()), "bit " + bit + " of " + message);
            } catch (MalformedMessageException expected) {
                // dropped: fine
            } catch (RuntimeException e) {
                throw new AssertionError("bit " + bit + " of " + message + " threw " + e, e);
            }
        }
        assertTrue(decodedCount > 0, "flips of keys and sessions still decode");
    }

    // ---------------------------------------------------------------- type, version, reserved

    @ParameterizedTest
    @ValueSource(ints = {0x00, 0x05, 0x4f, 0x56, 0x5f, 0x80, 0xff})
    void anUnknownTypeByteIsUnknownType(int type) {
        byte[] raw = bytes(new ControlMessage.Leave(key(1), 1L).encode());
        raw[0] = (byte) type;

        assertEquals(Reason.UNKNOWN_TYPE, rejectionOf(raw));
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> Header.peekType(ByteBuffer.wrap(raw)));
        assertEquals(Reason.UNKNOWN_TYPE, e.reason());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 0x55})
    void wireGuardAndDataMessagesAreKnownButAreNotControlMessages(int type) throws Exception {
        byte[] raw = new byte[148];
        raw[0] = (byte) type;
        raw[1] = 1;
        assertEquals(MessageType.ofCode(type), Header.peekType(ByteBuffer.wrap(raw)));
        assertThrows(MalformedMessageException.class, () -> ControlMessage.decode(ByteBuffer.wrap(raw)));
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void anotherVersionIsBadVersion(ControlMessage message) {
        for (int version : new int[] {0, 2, 0x81, 0xff}) {
            assertEquals(Reason.BAD_VERSION, rejectionOf(with(message, 1, version)), "version " + version);
        }
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void nonZeroReservedHeaderBytesAreBadField(ControlMessage message) {
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(message, 2, 1)));
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(message, 3, 0x80)));
    }

    @Test
    void peekTypeNeedsAWholeHeaderAndDoesNotConsumeIt() throws Exception {
        for (int length = 0; length < Header.LENGTH; length++) {
            byte[] raw = new byte[length];
            if (length > 0) {
                raw[0] = 0x50;
            }
            MalformedMessageException e = assertThrows(MalformedMessageException.class,
                    () -> Header.peekType(ByteBuffer.wrap(raw)));
            assertEquals(Reason.TRUNCATED, e.reason());
        }
        ByteBuffer punch = new Punch(key(1), key(2), 3L, false).encode();
        assertEquals(MessageType.PUNCH, Header.peekType(punch));
        assertEquals(0, punch.position());
    }

    // ---------------------------------------------------------------- fields

    @ParameterizedTest
    @ValueSource(ints = {0, 5, 7, 0x44, 0xff})
    void aBadAddressFamilyIsBadFieldWherever(int family) {
        Register register = new Register(key(1), key(2), 1L, List.of(V4));
        Registered registered = new Registered(1L, 20, V6);
        PeerInfo info = new PeerInfo(key(1), 1L, V4, List.of(V6));

        assertEquals(Reason.BAD_FIELD, rejectionOf(with(register, 77, family)), "REGISTER candidate");
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(registered, 14, family)), "REGISTERED observed");
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(info, 44, family)), "PEER_INFO observed");
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(info, 52, family)), "PEER_INFO candidate");
    }

    @ParameterizedTest
    @ValueSource(ints = {9, 10, 0x80, 0xff})
    void moreThanEightCandidatesIsBadField(int count) {
        Register register = new Register(key(1), key(2), 1L, List.of());
        PeerInfo info = new PeerInfo(key(1), 1L, V4, List.of());

        assertEquals(Reason.BAD_FIELD, rejectionOf(with(register, 76, count)));
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(info, 51, count)));
    }

    @Test
    void aCandidateCountBeyondTheDataIsTruncatedOrBadField() {
        // REGISTER: the claimed candidates run into the zero padding, whose family 0 is invalid
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(new Register(key(1), key(2), 1L, List.of()), 76, 8)));
        // PEER_INFO has no padding: the claimed candidates are simply missing
        assertEquals(Reason.TRUNCATED, rejectionOf(with(new PeerInfo(key(1), 1L, V4, List.of()), 51, 1)));
    }

    @Test
    void nonZeroRegisterPaddingIsBadField() {
        Register register = new Register(key(1), key(2), 1L, candidates(8));
        int paddingStart = 77 + 4 * 7 + 4 * 19; // four IPv4 and four IPv6 candidates end at 181
        for (int offset : new int[] {paddingStart, 200, 255}) {
            assertEquals(Reason.BAD_FIELD, rejectionOf(with(register, offset, 1)), "padding byte " + offset);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0x02, 0x03, 0x80, 0xfe})
    void punchFlagsOtherThanAckAreBadField(int flags) {
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(new Punch(key(1), key(2), 1L, false), 76, flags)));
    }

    @ParameterizedTest
    @ValueSource(ints = {77, 78, 79})
    void punchReservedBytesMustBeZero(int offset) {
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(new Punch(key(1), key(2), 1L, true), offset, 1)));
    }

    // ---------------------------------------------------------------- length

    @ParameterizedTest
    @MethodSource("validMessages")
    void trailingBytesAreOversized(ControlMessage message) {
        byte[] raw = bytes(message.encode());
        for (int extra : new int[] {1, 2, 19, 1000}) {
            assertEquals(Reason.OVERSIZED, rejectionOf(Arrays.copyOf(raw, raw.length + extra)), "zeros: " + extra);
            byte[] longer = Arrays.copyOf(raw, raw.length + extra);
            Arrays.fill(longer, raw.length, longer.length, (byte) 0x42);
            assertEquals(Reason.OVERSIZED, rejectionOf(longer), "bytes: " + extra);
        }
    }

    // ---------------------------------------------------------------- PLAIN_DATA

    @Test
    void plainDataShorterThanHeaderAndSessionIsTruncated() {
        byte[] raw = bytes(PlainData.encode(5L, ByteBuffer.allocate(0)));
        for (int length = 0; length < raw.length; length++) {
            byte[] prefix = Arrays.copyOf(raw, length);
            MalformedMessageException e = assertThrows(MalformedMessageException.class,
                    () -> PlainData.senderSession(ByteBuffer.wrap(prefix)));
            assertEquals(Reason.TRUNCATED, e.reason(), "length " + length);
        }
    }

    @Test
    void plainDataWithAWrongHeaderIsRejectedForTheRightReason() {
        byte[] raw = bytes(PlainData.encode(5L, ByteBuffer.wrap(new byte[] {1, 2, 3})));
        assertEquals(Reason.BAD_VERSION, plainDataRejection(raw, 1, 2));
        assertEquals(Reason.BAD_FIELD, plainDataRejection(raw, 2, 1));
        assertEquals(Reason.BAD_FIELD, plainDataRejection(raw, 3, 1));
        assertEquals(Reason.UNKNOWN_TYPE, plainDataRejection(raw, 0, 0x53));
    }

    private static Reason plainDataRejection(byte[] valid, int offset, int value) {
        byte[] raw = valid.clone();
        raw[offset] = (byte) value;
        return assertThrows(MalformedMessageException.class, () -> PlainData.senderSession(ByteBuffer.wrap(raw)))
                .reason();
    }
}
