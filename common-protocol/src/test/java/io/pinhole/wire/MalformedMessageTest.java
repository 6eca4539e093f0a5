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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Leave;
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
        byte[] raw = sealed(message);
        raw[offset] = (byte) value;
        return raw;
    }

    // ---------------------------------------------------------------- truncation and bit flips

    @ParameterizedTest
    @MethodSource("validMessages")
    void everyTruncationIsRejectedAsTruncated(ControlMessage message) {
        byte[] raw = sealed(message);
        for (int length = 0; length < raw.length; length++) {
            byte[] prefix = Arrays.copyOf(raw, length);
            assertEquals(Reason.TRUNCATED, rejectionOf(prefix), "prefix of " + length + " bytes of " + message);
            assertTrue(!ControlMessage.macValid(ByteBuffer.wrap(prefix), MAC_KEY), "a prefix has no valid MAC");
        }
    }

    @ParameterizedTest
    @MethodSource("validMessages")
    void everySingleBitFlipDecodesCleanlyOrIsRejectedAndNeverKeepsAValidMac(ControlMessage message) {
        byte[] raw = sealed(message);
        int decodedCount = 0;
        for (int bit = 0; bit < raw.length * 8; bit++) {
            byte[] flipped = raw.clone();
            flipped[bit / 8] ^= (byte) (1 << (bit % 8));
            String what = "bit " + bit + " of " + message;
            try {
                ControlMessage decoded = ControlMessage.decode(ByteBuffer.wrap(flipped));
                decodedCount++;
                // what is accepted is canonical: it encodes back to exactly the bytes received (MAC aside;
                // a flipped type bit can make a CHALLENGE a LEAVE of the same 68 bytes, whose last 16 are a MAC)
                int body = WireSamples.authenticated(decoded) ? raw.length - ControlMessage.MAC_LENGTH : raw.length;
                assertArrayEquals(Arrays.copyOf(flipped, body), Arrays.copyOf(bytes(decoded.encode(MAC_KEY)), body),
                        what);
            } catch (MalformedMessageException expected) {
                // dropped: fine
            } catch (RuntimeException e) {
                throw new AssertionError(what + " threw " + e, e);
            }
            if (WireSamples.authenticated(message)) {
                assertTrue(!ControlMessage.macValid(ByteBuffer.wrap(flipped), MAC_KEY), what + " keeps a valid MAC");
            }
        }
        assertTrue(decodedCount > 0, "flips of keys, sessions and MACs still decode");
    }

    // ---------------------------------------------------------------- type, version, reserved

    @ParameterizedTest
    @ValueSource(ints = {0x00, 0x05, 0x4f, 0x55, 0x58, 0x5f, 0x80, 0xff})
    void anUnknownTypeByteIsUnknownType(int type) {
        byte[] raw = sealed(new Leave(key(1), 1L, 2L));
        raw[0] = (byte) type;

        assertEquals(Reason.UNKNOWN_TYPE, rejectionOf(raw));
        MalformedMessageException e = assertThrows(MalformedMessageException.class,
                () -> Header.peekType(ByteBuffer.wrap(raw)));
        assertEquals(Reason.UNKNOWN_TYPE, e.reason());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void wireGuardMessagesAreKnownButAreNotControlMessages(int type) throws Exception {
        for (int length : new int[] {32, 64, 92, 148}) {
            byte[] raw = new byte[length];
            raw[0] = (byte) type;
            assertEquals(MessageType.ofCode(type), Header.peekType(ByteBuffer.wrap(raw)));
            assertEquals(Reason.UNKNOWN_TYPE, rejectionOf(raw), "type " + type + " of " + length + " bytes");
        }
    }

    @Test
    void aRelayFrameIsAKnownTypeButNotAControlMessage() throws Exception {
        byte[] raw = bytes(Relay.wrap(ByteBuffer.wrap(sealed(new Punch(key(1), key(33), 1L, 2L, 3L, false)))));
        assertEquals(MessageType.RELAY, Header.peekType(ByteBuffer.wrap(raw)));
        assertEquals(Reason.UNKNOWN_TYPE, rejectionOf(raw));
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
        ByteBuffer punch = new Punch(key(1), key(2), 3L, 4L, 5L, false).encode(MAC_KEY);
        assertEquals(MessageType.PUNCH, Header.peekType(punch));
        assertEquals(0, punch.position());
        ByteBuffer challenge = new Challenge(key(1), COOKIE, COOKIE).encode(null);
        assertEquals(MessageType.CHALLENGE, Header.peekType(challenge));
        assertEquals(0, challenge.position());
    }

    // ---------------------------------------------------------------- fields

    @ParameterizedTest
    @ValueSource(ints = {0, 5, 7, 0x44, 0xff})
    void aBadAddressFamilyIsBadFieldWherever(int family) {
        Register register = new Register(key(1), key(2), 1L, 2L, COOKIE, List.of(V4));
        Registered registered = new Registered(1L, 2L, 20, V6);
        PeerInfo info = new PeerInfo(1L, 2L, key(1), 1L, 3L, V4, List.of(V6));

        assertEquals(Reason.BAD_FIELD, rejectionOf(with(register, 101, family)), "REGISTER candidate");
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(registered, 22, family)), "REGISTERED observed");
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(info, 68, family)), "PEER_INFO observed");
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(info, 76, family)), "PEER_INFO candidate");
    }

    @ParameterizedTest
    @ValueSource(ints = {9, 10, 0x80, 0xff})
    void moreThanEightCandidatesIsBadField(int count) {
        Register register = new Register(key(1), key(2), 1L, 2L, COOKIE, List.of());
        PeerInfo info = new PeerInfo(1L, 2L, key(1), 1L, 3L, V4, List.of());

        assertEquals(Reason.BAD_FIELD, rejectionOf(with(register, 100, count)));
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(info, 75, count)));
    }

    @Test
    void aCandidateCountBeyondTheDataIsTruncatedOrBadField() {
        // REGISTER: the claimed candidates run into the zero padding, whose family 0 is invalid
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(new Register(key(1), key(2), 1L, 2L, COOKIE, List.of()), 100,
                8)));
        // PEER_INFO has no padding: a claimed candidate is read from the MAC, and then the MAC is missing
        PeerInfo info = new PeerInfo(1L, 2L, key(1), 1L, 3L, V4, List.of());
        byte[] raw = with(info, 75, 1);
        raw[76] = 4; // the MAC's first byte looks like an IPv4 family: the candidate eats 7 of its 16 bytes
        assertEquals(Reason.TRUNCATED, rejectionOf(raw));
        raw[76] = 6; // an IPv6 candidate would need 19 bytes, more than the MAC holds
        assertEquals(Reason.TRUNCATED, rejectionOf(raw));
        raw[76] = 0; // anything else is no address family
        assertEquals(Reason.BAD_FIELD, rejectionOf(raw));
    }

    @Test
    void nonZeroRegisterPaddingIsBadField() {
        Register register = new Register(key(1), key(2), 1L, 2L, COOKIE, candidates(8));
        int paddingStart = 101 + 4 * 7 + 4 * 19; // four IPv4 and four IPv6 candidates end at 205
        for (int offset : new int[] {paddingStart, 250, 287}) { // the nonce starts at 288
            assertEquals(Reason.BAD_FIELD, rejectionOf(with(register, offset, 1)), "padding byte " + offset);
        }
    }

    @Test
    void registerMacBytesAreNotPaddingAndAnyValueDecodes() throws Exception {
        Register register = new Register(key(1), key(2), 1L, 2L, COOKIE, List.of());
        for (int offset = Register.LENGTH - ControlMessage.MAC_LENGTH; offset < Register.LENGTH; offset++) {
            assertEquals(register, ControlMessage.decode(ByteBuffer.wrap(with(register, offset, 0xff))));
        }
    }

    @Test
    void registerNonceBytesAreNotPaddingAndAnyValueDecodesAsTheNonce() throws Exception {
        Register register = new Register(key(1), key(2), 1L, 2L, COOKIE, candidates(8));
        int nonceAt = Register.LENGTH - ControlMessage.MAC_LENGTH - Register.NONCE_LENGTH;
        for (int offset = nonceAt; offset < nonceAt + Register.NONCE_LENGTH; offset++) {
            Register decoded = (Register) ControlMessage.decode(ByteBuffer.wrap(with(register, offset, 0xff)));
            byte[] nonce = new byte[Register.NONCE_LENGTH];
            nonce[offset - nonceAt] = (byte) 0xff;
            assertEquals(new Register(key(1), key(2), 1L, 2L, COOKIE, candidates(8), nonce), decoded);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0x02, 0x03, 0x80, 0xfe})
    void punchFlagsOtherThanAckAreBadField(int flags) {
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(new Punch(key(1), key(2), 1L, 2L, 3L, false), 92, flags)));
    }

    @ParameterizedTest
    @ValueSource(ints = {93, 94, 95})
    void punchReservedBytesMustBeZero(int offset) {
        assertEquals(Reason.BAD_FIELD, rejectionOf(with(new Punch(key(1), key(2), 1L, 2L, 3L, true), offset, 1)));
    }

    // ---------------------------------------------------------------- length

    @ParameterizedTest
    @MethodSource("validMessages")
    void trailingBytesAreOversized(ControlMessage message) {
        byte[] raw = sealed(message);
        for (int extra : new int[] {1, 2, 16, 19, 1000}) {
            assertEquals(Reason.OVERSIZED, rejectionOf(Arrays.copyOf(raw, raw.length + extra)), "zeros: " + extra);
            byte[] longer = Arrays.copyOf(raw, raw.length + extra);
            Arrays.fill(longer, raw.length, longer.length, (byte) 0x42);
            assertEquals(Reason.OVERSIZED, rejectionOf(longer), "bytes: " + extra);
        }
    }
}
