package io.pinhole.wire;

import static io.pinhole.wire.WireSamples.bytes;
import static io.pinhole.wire.WireSamples.endpoint;
import static io.pinhole.wire.WireSamples.hex;
import static io.pinhole.wire.WireSamples.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * WireLayoutTest: the exact bytes of each message, written out by hand from the diagrams in the
 * Javadoc (big-endian integers; endpoint = family, port, address).
 */
class WireLayoutTest {
    private static final String KEY_01_TO_20 = """
            01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10
            11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20""";
    private static final String KEY_21_TO_40 = """
            21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30
            31 32 33 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f 40""";
    private static final String KEY_41_TO_60 = """
            41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50
            51 52 53 54 55 56 57 58 59 5a 5b 5c 5d 5e 5f 60""";
    private static final String KEY_61_TO_80 = """
            61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70
            71 72 73 74 75 76 77 78 79 7a 7b 7c 7d 7e 7f 80""";

    @Test
    void registerIsLaidOutAsDrawnAndZeroPaddedTo256Bytes() {
        Register register = new Register(key(0x01), key(0x21), 0x0102030405060708L,
                List.of(endpoint("192.0.2.1", 51820), endpoint("2001:db8::1", 443)));

        byte[] head = hex("50 01 00 00"                          // offset 0: type REGISTER, version 1, reserved
                + KEY_01_TO_20                                   // offset 4: self key
                + KEY_21_TO_40                                   // offset 36: wanted key
                + "01 02 03 04 05 06 07 08"                      // offset 68: session
                + "02"                                           // offset 76: two candidates
                + "04 ca 6c c0 00 02 01"                         // offset 77: 192.0.2.1:51820
                + "06 01 bb 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"); // [2001:db8::1]:443
        byte[] expected = Arrays.copyOf(head, 256);               // zero padding to the fixed size

        assertEquals(103, head.length);
        assertArrayEquals(expected, bytes(register.encode()));
    }

    @Test
    void registerFieldsStartAtTheDocumentedOffsets() {
        byte[] raw = bytes(new Register(key(0x01), key(0x21), 0x0102030405060708L, List.of()).encode());
        assertEquals(0x01, raw[4]);   // self key
        assertEquals(0x21, raw[36]);  // wanted key
        assertEquals(0x01, raw[68]);  // session, most significant byte first
        assertEquals(0x08, raw[75]);
        assertEquals(0x00, raw[76]);  // no candidates
    }

    @Test
    void punchIsLaidOutAsDrawn() {
        Punch punch = new Punch(key(0x41), key(0x61), 0xfedcba9876543210L, true);

        byte[] expected = hex("53 01 00 00"      // type PUNCH, version 1, reserved
                + KEY_41_TO_60                   // sender key
                + KEY_61_TO_80                   // receiver key
                + "fe dc ba 98 76 54 32 10"      // sender session
                + "01"                           // flags: bit 0 = ack
                + "00 00 00");                   // reserved

        assertArrayEquals(expected, bytes(punch.encode()));
    }

    @Test
    void aPunchProbeHasNoFlagsSet() {
        byte[] raw = bytes(new Punch(key(0x41), key(0x61), 1L, false).encode());
        assertArrayEquals(hex("00 00 00 00"), Arrays.copyOfRange(raw, 76, 80));
    }

    @Test
    void registeredIsLaidOutAsDrawn() {
        Registered registered = new Registered(0x0a0b0c0d0e0f1011L, 20, endpoint("2001:db8::1", 443));

        byte[] expected = hex("51 01 00 00"
                + "0a 0b 0c 0d 0e 0f 10 11"                    // session
                + "00 14"                                      // refresh seconds = 20
                + "06 01 bb 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01");

        assertArrayEquals(expected, bytes(registered.encode()));
    }

    @Test
    void peerInfoIsLaidOutAsDrawn() {
        PeerInfo info = new PeerInfo(key(0x01), 1L, endpoint("198.51.100.2", 51820),
                List.of(endpoint("10.0.1.2", 51820)));

        byte[] expected = hex("52 01 00 00"
                + KEY_01_TO_20                                 // peer key
                + "00 00 00 00 00 00 00 01"                    // peer session
                + "04 ca 6c c6 33 64 02"                       // observed 198.51.100.2:51820
                + "01"                                         // one candidate
                + "04 ca 6c 0a 00 01 02");                     // 10.0.1.2:51820

        assertArrayEquals(expected, bytes(info.encode()));
    }

    @Test
    void leaveIsLaidOutAsDrawn() {
        byte[] expected = hex("54 01 00 00" + KEY_21_TO_40 + "80 00 00 00 00 00 00 00");
        assertArrayEquals(expected, bytes(new Leave(key(0x21), Long.MIN_VALUE).encode()));
    }

    @Test
    void plainDataIsHeaderSessionAndThePacketUnchanged() throws Exception {
        ByteBuffer packet = ByteBuffer.wrap(hex("45 00 00 14 de ad be ef"));
        ByteBuffer datagram = PlainData.encode(0x1122334455667788L, packet);

        assertArrayEquals(hex("55 01 00 00 11 22 33 44 55 66 77 88 45 00 00 14 de ad be ef"), bytes(datagram));
        assertEquals(0, packet.position(), "the packet is not consumed");
        assertEquals(0x1122334455667788L, PlainData.senderSession(datagram));
        assertArrayEquals(hex("45 00 00 14 de ad be ef"), bytes(PlainData.payload(datagram)));
        assertEquals(0, datagram.position(), "reading it does not consume it either");
    }

    @Test
    void aKeepaliveIsAPlainDataWithNothingAfterTheSession() throws Exception {
        ByteBuffer keepalive = PlainData.encode(-2L, ByteBuffer.allocate(0));
        assertEquals(PlainData.OVERHEAD, keepalive.remaining());
        assertEquals(-2L, PlainData.senderSession(keepalive));
        assertEquals(0, PlainData.payload(keepalive).remaining());
    }

    @Test
    void plainDataSendsOnlyThePacketsPositionToLimit() {
        ByteBuffer packet = ByteBuffer.wrap(hex("00 01 02 03 04 05"));
        packet.position(2).limit(5);
        assertArrayEquals(hex("55 01 00 00 00 00 00 00 00 00 00 07 02 03 04"),
                bytes(PlainData.encode(7L, packet)));
    }
}
