package io.pinhole.crypto;

import static io.pinhole.crypto.CryptoHex.bytes;
import static io.pinhole.crypto.CryptoHex.hex;
import static io.pinhole.crypto.CryptoHex.sequence;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * ChaCha20Poly1305Test: the RFC 8439 section 2.8.2 AEAD vector through the raw-nonce entry points,
 * WireGuard's nonce layout, and the open contract (no plaintext without a valid tag).
 */
class ChaCha20Poly1305Test {

    static final byte[] SUNSCREEN = ("Ladies and Gentlemen of the class of '99: If I could offer you only one "
            + "tip for the future, sunscreen would be it.").getBytes(StandardCharsets.US_ASCII);
    static final byte[] KEY = sequence(0x80, 32);
    static final byte[] AAD = bytes("50515253c0c1c2c3c4c5c6c7");

    /** RFC 8439 section 2.8.2: nonce = constant 07000000 || IV 4041424344454647. */
    private static final byte[] RFC_NONCE = bytes("07000000 4041424344454647");
    private static final String RFC_CIPHERTEXT = "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
            + "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
            + "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
            + "3ff4def08e4b7a9de576d26586cec64b6116";
    private static final String RFC_TAG = "1ae10b594f09e26a7e902ecbd0600691";

    @Test
    void rfc8439Section282() throws Exception {
        byte[] sealed = new ChaCha20Poly1305().sealWithNonce(KEY, RFC_NONCE, SUNSCREEN, AAD);
        assertEquals(RFC_CIPHERTEXT + RFC_TAG, hex(sealed));
        assertArrayEquals(SUNSCREEN, new ChaCha20Poly1305().openWithNonce(KEY, RFC_NONCE, sealed, AAD));
    }

    @Test
    void wireGuardNonceIsFourZeroBytesThenTheCounterLittleEndian() {
        byte[] nonce = new byte[14];
        Arrays.fill(nonce, (byte) 0x77);
        ChaCha20Poly1305.wireGuardNonce(0x0102030405060708L, nonce, 1);
        assertEquals("77" + "00000000" + "0807060504030201" + "77", hex(nonce));
        ChaCha20Poly1305.wireGuardNonce(-1L, nonce, 0); // 2^64 - 1, the counter as unsigned
        assertEquals("00000000ffffffffffffffff" + "01" + "77", hex(nonce)); // bytes 12, 13 left from before
    }

    /**
     * Counter-based sealing. Expected values produced at development time with python3's
     * cryptography package (OpenSSL): ChaCha20Poly1305(key).encrypt(b"\0" * 4 + struct.pack("<Q", counter), pt, aad).
     */
    @Test
    void counterNonceVectors() throws Exception {
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        assertEquals("a479cb54628946d6f4042a8e384ef4bd2fbc7330b8be55eb2d8dc18aaa51d66a8ec1f8d3619a258db0ac56956015b7b4"
                + "937e9b8e6aa957b3dc0214d803d77660aabc913092971da8f207171ce7843608162e2e759d8efc25d8d0936990af63c8"
                + "20ba87e8a955b5c8274ef7d10f6fafd046472dbf189b668bd430aef9147e99cb6c89",
                hex(aead.seal(KEY, 0x4746454443424140L, SUNSCREEN, AAD)));
        // an empty message is just a tag (WireGuard's keepalive, the handshake's empty payloads)
        assertEquals("3ae5d3f2a376d317eaea5aef0215ba54", hex(aead.seal(KEY, 0, new byte[0], null)));
        assertEquals("7f6967b3d48c27883c31c007df1f2d264e1168",
                hex(aead.seal(KEY, 0xfffffffffffffffeL, "abc".getBytes(StandardCharsets.US_ASCII), new byte[0])));

        byte[] sealed = new ChaCha20Poly1305().seal(KEY, 0x4746454443424140L, SUNSCREEN, AAD);
        assertArrayEquals(SUNSCREEN, aead.open(KEY, 0x4746454443424140L, sealed, AAD));
        assertArrayEquals(new byte[0], aead.open(KEY, 0, bytes("3ae5d3f2a376d317eaea5aef0215ba54"), null));
    }

    @Test
    void counterFormEqualsRawNonceForm() throws Exception {
        byte[] nonce = new byte[12];
        ChaCha20Poly1305.wireGuardNonce(42, nonce, 0);
        assertArrayEquals(new ChaCha20Poly1305().sealWithNonce(KEY, nonce, SUNSCREEN, AAD),
                new ChaCha20Poly1305().seal(KEY, 42, SUNSCREEN, AAD));
    }

    @ParameterizedTest(name = "flip byte {0}")
    @ValueSource(ints = {0, 50, 113, 114, 129})
    void tamperedCiphertextOrTagIsRejectedAndNothingIsWritten(int index) throws Exception {
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        byte[] sealed = aead.seal(KEY, 7, SUNSCREEN, AAD);
        sealed[index] ^= 0x01;
        byte[] out = new byte[SUNSCREEN.length];
        Arrays.fill(out, (byte) 0x55);
        assertThrows(AuthenticationFailedException.class,
                () -> aead.open(KEY, 7, sealed, 0, sealed.length, AAD, out, 0));
        assertAll55(out);
    }

    @Test
    void wrongAadCounterOrKeyIsRejected() {
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        byte[] sealed = aead.seal(KEY, 7, SUNSCREEN, AAD);
        assertThrows(AuthenticationFailedException.class, () -> aead.open(KEY, 7, sealed, null));
        assertThrows(AuthenticationFailedException.class, () -> aead.open(KEY, 8, sealed, AAD));
        assertThrows(AuthenticationFailedException.class, () -> aead.open(sequence(32), 7, sealed, AAD));
    }

    @Test
    void inputShorterThanATagIsNotAuthentic() {
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        assertThrows(AuthenticationFailedException.class, () -> aead.open(KEY, 0, new byte[15], null));
        assertThrows(AuthenticationFailedException.class, () -> aead.open(KEY, 0, new byte[0], null));
        assertThrows(AuthenticationFailedException.class,
                () -> aead.open(KEY, 0, ByteBuffer.allocate(15), null, ByteBuffer.allocate(100)));
    }

    @Test
    void clearKeyLeavesTheInstanceWorkingAndOpensNothingUnderTheZeroKey() throws Exception {
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        byte[] sealed = aead.seal(KEY, 3, SUNSCREEN, AAD);
        aead.clearKey();
        aead.clearKey(); // twice in a row: the JDK's same-key-and-nonce refusal must not trip
        assertArrayEquals(SUNSCREEN, aead.open(KEY, 3, sealed, AAD));
        aead.clearKey();
        assertArrayEquals(new ChaCha20Poly1305().seal(KEY, 4, SUNSCREEN, AAD), aead.seal(KEY, 4, SUNSCREEN, AAD));
        aead.clearKey();
        assertThrows(AuthenticationFailedException.class, () -> aead.open(new byte[32], 3, sealed, AAD));
        assertEquals(RFC_CIPHERTEXT + RFC_TAG, hex(aead.sealWithNonce(KEY, RFC_NONCE, SUNSCREEN, AAD)));
    }

    /** As a data path would: the payload sits after a 16-byte header and is sealed and opened in place. */
    @Test
    void sealAndOpenInPlaceInAnArray() throws Exception {
        byte[] packet = new byte[16 + SUNSCREEN.length + 16];
        System.arraycopy(SUNSCREEN, 0, packet, 16, SUNSCREEN.length);
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        assertEquals(SUNSCREEN.length + 16, aead.seal(KEY, 9, packet, 16, SUNSCREEN.length, null, packet, 16));
        assertArrayEquals(new ChaCha20Poly1305().seal(KEY, 9, SUNSCREEN, null),
                Arrays.copyOfRange(packet, 16, packet.length));
        assertEquals(SUNSCREEN.length, aead.open(KEY, 9, packet, 16, packet.length - 16, null, packet, 16));
        assertArrayEquals(SUNSCREEN, Arrays.copyOfRange(packet, 16, 16 + SUNSCREEN.length));
    }

    @ParameterizedTest(name = "direct={0}")
    @ValueSource(booleans = {false, true})
    void sealAndOpenInPlaceInAByteBuffer(boolean direct) throws Exception {
        int capacity = 16 + SUNSCREEN.length + 16;
        ByteBuffer packet = direct ? ByteBuffer.allocateDirect(capacity) : ByteBuffer.allocate(capacity);
        packet.position(16);
        packet.put(SUNSCREEN);
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();

        ByteBuffer in = packet.duplicate().position(16).limit(16 + SUNSCREEN.length);
        ByteBuffer out = packet.duplicate().position(16).limit(capacity);
        assertEquals(SUNSCREEN.length + 16, aead.seal(KEY, 11, in, AAD, out));
        assertEquals(0, in.remaining());
        assertEquals(capacity, out.position());
        byte[] sealed = new byte[SUNSCREEN.length + 16];
        packet.duplicate().position(16).get(sealed);
        assertArrayEquals(new ChaCha20Poly1305().seal(KEY, 11, SUNSCREEN, AAD), sealed);

        in = packet.duplicate().position(16).limit(capacity);
        out = packet.duplicate().position(16);
        assertEquals(SUNSCREEN.length, aead.open(KEY, 11, in, AAD, out));
        assertEquals(16 + SUNSCREEN.length, out.position());
        byte[] opened = new byte[SUNSCREEN.length];
        packet.duplicate().position(16).get(opened);
        assertArrayEquals(SUNSCREEN, opened);
    }

    @ParameterizedTest(name = "direct={0}")
    @ValueSource(booleans = {false, true})
    void failedBufferOpenLeavesPositionsAndOutputAlone(boolean direct) {
        byte[] sealed = new ChaCha20Poly1305().seal(KEY, 12, SUNSCREEN, AAD);
        sealed[3] ^= 0x80;
        ByteBuffer in = direct ? ByteBuffer.allocateDirect(sealed.length + 5) : ByteBuffer.allocate(sealed.length + 5);
        in.position(5);
        in.put(sealed).position(5);
        ByteBuffer out = direct ? ByteBuffer.allocateDirect(200) : ByteBuffer.allocate(200);
        for (int i = 0; i < 200; i++) {
            out.put(i, (byte) 0x55);
        }
        out.position(7);
        assertThrows(AuthenticationFailedException.class, () -> new ChaCha20Poly1305().open(KEY, 12, in, AAD, out));
        assertEquals(5, in.position());
        assertEquals(7, out.position());
        for (int i = 0; i < 200; i++) {
            assertEquals(0x55, out.get(i), "byte " + i);
        }
    }

    @Test
    void sealingTwiceUnderTheSameKeyAndCounterIsRefused() {
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        aead.seal(KEY, 5, SUNSCREEN, AAD);
        assertThrows(IllegalStateException.class, () -> aead.seal(KEY, 5, SUNSCREEN, AAD));
        // after a different nonce, the instance works again
        aead.seal(KEY, 6, SUNSCREEN, AAD);
    }

    /** A forged packet with counter n, then the genuine one with the same counter: both are judged on their merits. */
    @Test
    void openingTheSameKeyAndCounterTwiceWorks() throws Exception {
        byte[] genuine = new ChaCha20Poly1305().seal(KEY, 100, SUNSCREEN, AAD);
        byte[] forged = genuine.clone();
        forged[0] ^= 1;
        ChaCha20Poly1305 receiver = new ChaCha20Poly1305();
        assertThrows(AuthenticationFailedException.class, () -> receiver.open(KEY, 100, forged, AAD));
        assertArrayEquals(SUNSCREEN, receiver.open(KEY, 100, genuine, AAD));
        assertArrayEquals(SUNSCREEN, receiver.open(KEY, 100, genuine, AAD));
    }

    @Test
    void rejectsBadArguments() {
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        assertThrows(IllegalArgumentException.class, () -> aead.seal(new byte[31], 0, new byte[1], null));
        assertThrows(IllegalArgumentException.class, () -> aead.sealWithNonce(KEY, new byte[24], new byte[1], null));
        assertThrows(IndexOutOfBoundsException.class,
                () -> aead.seal(KEY, 1, new byte[10], 0, 10, null, new byte[25], 0));
        assertThrows(IndexOutOfBoundsException.class,
                () -> aead.open(KEY, 1, new byte[30], 0, 30, null, new byte[13], 0));
        assertThrows(IllegalArgumentException.class,
                () -> aead.seal(KEY, 2, ByteBuffer.allocate(10), null, ByteBuffer.allocate(25)));
    }

    private static void assertAll55(byte[] out) {
        for (byte b : out) {
            assertTrue(b == 0x55, "output was written to");
        }
    }
}
