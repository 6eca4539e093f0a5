package io.pinhole.wire;

import static io.pinhole.wire.WireSamples.MAC_KEY;
import static io.pinhole.wire.WireSamples.bytes;
import static io.pinhole.wire.WireSamples.endpoint;
import static io.pinhole.wire.WireSamples.hex;
import static io.pinhole.wire.WireSamples.key;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pinhole.crypto.Blake2s;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * WireLayoutTest: the exact bytes of each message, written out by hand from the diagrams in the
 * Javadoc (big-endian integers; endpoint = family, port, address), each authenticated one
 * followed by the keyed BLAKE2s-128 of the bytes before it.
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
    private static final String COOKIE_C0_TO_CF = "c0 c1 c2 c3 c4 c5 c6 c7 c8 c9 ca cb cc cd ce cf";
    private static final String NONCE_E0_TO_EF = "e0 e1 e2 e3 e4 e5 e6 e7 e8 e9 ea eb ec ed ee ef";
    private static final byte[] NONCE = hex(NONCE_E0_TO_EF);

    /** {@code body} followed by its MAC under {@link WireSamples#MAC_KEY}. */
    private static byte[] sealedBody(byte[] body) {
        byte[] out = Arrays.copyOf(body, body.length + ControlMessage.MAC_LENGTH);
        System.arraycopy(Blake2s.mac(16, MAC_KEY, body), 0, out, body.length, 16);
        return out;
    }

    @Test
    void registerIsLaidOutAsDrawnZeroPaddedWithItsNonceAt288AndItsMacAt304() {
        Register register = new Register(key(0x01), key(0x21), 0x0102030405060708L, 0x0005f1e2d3c4b5a6L,
                WireSamples.COOKIE, List.of(endpoint("192.0.2.1", 51820), endpoint("2001:db8::1", 443)), NONCE);

        byte[] head = hex("50 01 00 00"                          // offset 0: type REGISTER, version 1, reserved
                + KEY_01_TO_20                                   // offset 4: self key
                + KEY_21_TO_40                                   // offset 36: wanted key
                + "01 02 03 04 05 06 07 08"                      // offset 68: session
                + "00 05 f1 e2 d3 c4 b5 a6"                      // offset 76: timestamp (microseconds)
                + COOKIE_C0_TO_CF                                // offset 84: cookie
                + "02"                                           // offset 100: two candidates
                + "04 ca 6c c0 00 02 01"                         // offset 101: 192.0.2.1:51820
                + "06 01 bb 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"); // [2001:db8::1]:443
        byte[] body = Arrays.copyOf(head, 304);                  // zero padding up to the nonce
        System.arraycopy(NONCE, 0, body, 288, 16);               // offset 288: nonce

        assertEquals(127, head.length);
        byte[] raw = bytes(register.encode(MAC_KEY));
        assertEquals(320, raw.length);
        assertArrayEquals(sealedBody(body), raw);
    }

    @Test
    void registerFieldsStartAtTheDocumentedOffsets() {
        byte[] raw = bytes(new Register(key(0x01), key(0x21), 0x0102030405060708L, 0x1112131415161718L,
                WireSamples.COOKIE, List.of(), NONCE).encode(MAC_KEY));
        assertEquals(0x01, raw[4]);   // self key
        assertEquals(0x21, raw[36]);  // wanted key
        assertEquals(0x01, raw[68]);  // session, most significant byte first
        assertEquals(0x08, raw[75]);
        assertEquals(0x11, raw[76]);  // timestamp
        assertEquals(0x18, raw[83]);
        assertEquals((byte) 0xc0, raw[84]); // cookie
        assertEquals((byte) 0xcf, raw[99]);
        assertEquals(0x00, raw[100]); // no candidates
        assertArrayEquals(new byte[287 - 101 + 1], Arrays.copyOfRange(raw, 101, 288), "zero padding");
        assertArrayEquals(NONCE, Arrays.copyOfRange(raw, 288, 304), "nonce");
    }

    @Test
    void aRegisterWithoutACookieIsSealedWithAZeroMac() {
        byte[] raw = bytes(new Register(key(0x01), key(0x21), 1L, 2L, null, List.of()).encode(null));
        assertArrayEquals(new byte[16], Arrays.copyOfRange(raw, 84, 100), "zero cookie");
        assertArrayEquals(new byte[16], Arrays.copyOfRange(raw, 288, 304), "zero nonce, as none was given");
        assertArrayEquals(new byte[16], Arrays.copyOfRange(raw, 304, 320), "zero MAC");
    }

    @Test
    void punchIsLaidOutAsDrawn() {
        Punch punch = new Punch(key(0x41), key(0x61), 0xfedcba9876543210L, 0x0011223344556677L, 0x0102L, true);

        byte[] body = hex("53 01 00 00"      // type PUNCH, version 1, reserved
                + KEY_41_TO_60               // offset 4: sender key
                + KEY_61_TO_80               // offset 36: receiver key
                + "fe dc ba 98 76 54 32 10"  // offset 68: sender session
                + "00 11 22 33 44 55 66 77"  // offset 76: receiver session
                + "00 00 00 00 00 00 01 02"  // offset 84: counter
                + "01"                       // offset 92: flags, bit 0 = ack
                + "00 00 00");               // reserved

        assertEquals(96, body.length);
        assertArrayEquals(sealedBody(body), bytes(punch.encode(MAC_KEY)));
        assertEquals(112, Punch.LENGTH);
    }

    @Test
    void aPunchProbeHasNoFlagsSet() {
        byte[] raw = bytes(new Punch(key(0x41), key(0x61), 1L, 2L, 3L, false).encode(MAC_KEY));
        assertArrayEquals(hex("00 00 00 00"), Arrays.copyOfRange(raw, 92, 96));
    }

    @Test
    void challengeIsLaidOutAsDrawnAndHasNoMac() {
        byte[] expected = hex("56 01 00 00" + KEY_21_TO_40 + COOKIE_C0_TO_CF + NONCE_E0_TO_EF);

        assertEquals(68, expected.length);
        assertArrayEquals(expected, bytes(new Challenge(key(0x21), WireSamples.COOKIE, NONCE).encode(MAC_KEY)));
        assertArrayEquals(expected, bytes(new Challenge(key(0x21), WireSamples.COOKIE, NONCE).encode(null)));
    }

    @Test
    void registeredIsLaidOutAsDrawn() {
        Registered registered = new Registered(0x0a0b0c0d0e0f1011L, 0x0005f1e2d3c4b5a6L, 20,
                endpoint("2001:db8::1", 443));

        byte[] body = hex("51 01 00 00"
                + "0a 0b 0c 0d 0e 0f 10 11"                    // offset 4: session
                + "00 05 f1 e2 d3 c4 b5 a6"                    // offset 12: timestamp of the REGISTER answered
                + "00 14"                                      // refresh seconds = 20
                + "06 01 bb 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01");

        assertArrayEquals(sealedBody(body), bytes(registered.encode(MAC_KEY)));
    }

    @Test
    void peerInfoIsLaidOutAsDrawn() {
        PeerInfo info = new PeerInfo(0x0a0b0c0d0e0f1011L, 0x0005f1e2d3c4b5a6L, key(0x01), 1L, 0x0005f1e2d3c4b5ffL,
                endpoint("198.51.100.2", 51820), List.of(endpoint("10.0.1.2", 51820)));

        byte[] body = hex("52 01 00 00"
                + "0a 0b 0c 0d 0e 0f 10 11"                    // offset 4: recipient's session
                + "00 05 f1 e2 d3 c4 b5 a6"                    // offset 12: timestamp of its REGISTER answered
                + KEY_01_TO_20                                 // offset 20: peer key
                + "00 00 00 00 00 00 00 01"                    // offset 52: peer session
                + "00 05 f1 e2 d3 c4 b5 ff"                    // offset 60: peer's REGISTER timestamp
                + "04 ca 6c c6 33 64 02"                       // observed 198.51.100.2:51820
                + "01"                                         // one candidate
                + "04 ca 6c 0a 00 01 02");                     // 10.0.1.2:51820

        assertArrayEquals(sealedBody(body), bytes(info.encode(MAC_KEY)));
    }

    @Test
    void leaveIsLaidOutAsDrawn() {
        byte[] body = hex("54 01 00 00" + KEY_21_TO_40 + "80 00 00 00 00 00 00 00" + "00 00 01 7b 2c 3d 4e 5f");
        byte[] raw = bytes(new Leave(key(0x21), Long.MIN_VALUE, 0x0000017b2c3d4e5fL).encode(MAC_KEY));

        assertEquals(68, raw.length);
        assertArrayEquals(sealedBody(body), raw);
    }

    @Test
    void theMacIsKeyedBlake2s128AsAnIndependentImplementationComputesIt() {
        // Python: hashlib.blake2s(body, digest_size=16, key=bytes(range(0xa0, 0xc0))).hexdigest()
        byte[] raw = bytes(new Leave(key(0x21), Long.MIN_VALUE, 0x0000017b2c3d4e5fL).encode(MAC_KEY));
        assertArrayEquals(hex("5b 06 9b b5 1c 57 8a fd 9d b3 84 6e 3b 86 bf 11"), Arrays.copyOfRange(raw, 52, 68));
    }
}
