package io.pinhole.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** NoisePrivateKeyTest: X25519 against RFC 7748, clamping, parsing, and never printing the key. */
class NoisePrivateKeyTest {
    // RFC 7748 section 6.1 (Diffie-Hellman test vector), hex as printed in the RFC.
    private static final String ALICE_PRIVATE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private static final String ALICE_PUBLIC = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private static final String BOB_PRIVATE = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private static final String BOB_PUBLIC = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private static final String SHARED_SECRET = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    // RFC 7748 section 5.2, first X25519 test vector (unclamped scalar, arbitrary u-coordinate).
    private static final String VECTOR1_SCALAR = "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4";
    private static final String VECTOR1_U = "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c";
    private static final String VECTOR1_OUT = "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552";

    private static byte[] hex(String hex) {
        return HexFormat.of().parseHex(hex);
    }

    private static String base64OfHex(String hex) {
        return Base64.getEncoder().encodeToString(hex(hex));
    }

    private static NoisePrivateKey parseHex(String hex) throws KeyFormatException {
        return NoisePrivateKey.parse(base64OfHex(hex));
    }

    @Test
    void alicesPublicKeyMatchesRfc7748() throws Exception {
        assertArrayEquals(hex(ALICE_PUBLIC), parseHex(ALICE_PRIVATE).publicKey().toBytes());
    }

    @Test
    void bobsPublicKeyMatchesRfc7748() throws Exception {
        assertArrayEquals(hex(BOB_PUBLIC), parseHex(BOB_PRIVATE).publicKey().toBytes());
    }

    @Test
    void aliceAndBobDeriveTheRfc7748SharedSecret() throws Exception {
        NoisePrivateKey alice = parseHex(ALICE_PRIVATE);
        NoisePrivateKey bob = parseHex(BOB_PRIVATE);

        assertArrayEquals(hex(SHARED_SECRET), alice.sharedSecret(NoisePublicKey.fromBytes(hex(BOB_PUBLIC))));
        assertArrayEquals(hex(SHARED_SECRET), bob.sharedSecret(NoisePublicKey.fromBytes(hex(ALICE_PUBLIC))));
        assertArrayEquals(hex(SHARED_SECRET), alice.sharedSecret(bob.publicKey()));
    }

    @Test
    void x25519OfAnArbitraryUCoordinateMatchesRfc7748Section52() throws Exception {
        byte[] out = parseHex(VECTOR1_SCALAR).sharedSecret(NoisePublicKey.fromBytes(hex(VECTOR1_U)));
        assertArrayEquals(hex(VECTOR1_OUT), out);
    }

    @Test
    void theTopBitOfAPeersUCoordinateIsIgnoredAsRfc7748Requires() throws Exception {
        NoisePrivateKey alice = parseHex(ALICE_PRIVATE);
        byte[] bob = hex(BOB_PUBLIC);
        byte[] bobWithTopBit = bob.clone();
        bobWithTopBit[31] |= (byte) 0x80;

        assertArrayEquals(alice.sharedSecret(NoisePublicKey.fromBytes(bob)),
                alice.sharedSecret(NoisePublicKey.fromBytes(bobWithTopBit)));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1})
    void aLowOrderPeerKeyIsRefusedInsteadOfGivingAnAllZeroSecret(int u) throws Exception {
        byte[] lowOrder = new byte[32];
        lowOrder[0] = (byte) u;
        NoisePrivateKey alice = parseHex(ALICE_PRIVATE);

        assertThrows(IllegalArgumentException.class, () -> alice.sharedSecret(NoisePublicKey.fromBytes(lowOrder)));
    }

    @Test
    void parsingClampsTheScalarAsWgDoes() throws Exception {
        byte[] raw = parseHex(ALICE_PRIVATE).toBase64().transform(Base64.getDecoder()::decode);
        byte[] expected = hex(ALICE_PRIVATE);
        expected[0] &= (byte) 0xf8;
        expected[31] = (byte) ((expected[31] & 0x7f) | 0x40);
        assertArrayEquals(expected, raw);
    }

    @Test
    void aGeneratedKeyFromAllOneBitsIsClamped() {
        byte[] raw = decode(NoisePrivateKey.generate(constantRandom((byte) 0xff)).toBase64());
        byte[] expected = new byte[32];
        Arrays.fill(expected, (byte) 0xff);
        expected[0] = (byte) 0xf8;
        expected[31] = (byte) 0x7f;
        assertArrayEquals(expected, raw);
    }

    @Test
    void aGeneratedKeyFromAllZeroBitsIsClamped() {
        byte[] raw = decode(NoisePrivateKey.generate(constantRandom((byte) 0)).toBase64());
        byte[] expected = new byte[32];
        expected[31] = 0x40;
        assertArrayEquals(expected, raw);
    }

    @Test
    void everyGeneratedKeyIsClampedAndSurvivesItsOwnBase64() throws Exception {
        SecureRandom random = new SecureRandom();
        for (int i = 0; i < 200; i++) {
            NoisePrivateKey key = NoisePrivateKey.generate(random);
            byte[] raw = decode(key.toBase64());
            assertEquals(0, raw[0] & 0x07, "low three bits cleared");
            assertEquals(0x40, raw[31] & 0xc0, "bit 255 cleared, bit 254 set");
            NoisePrivateKey again = NoisePrivateKey.parse(key.toBase64());
            assertEquals(key.toBase64(), again.toBase64());
            assertEquals(key.publicKey(), again.publicKey());
        }
    }

    @Test
    void twoGeneratedKeysDiffer() {
        SecureRandom random = new SecureRandom();
        assertNotEquals(NoisePrivateKey.generate(random).toBase64(), NoisePrivateKey.generate(random).toBase64());
    }

    @Test
    void surroundingWhiteSpaceIsIgnored() throws Exception {
        String text = base64OfHex(BOB_PRIVATE);
        assertEquals(parseHex(BOB_PRIVATE).publicKey(), NoisePrivateKey.parse("  " + text + "\n").publicKey());
    }

    @Test
    void toStringNeverRevealsThePrivateKey() throws Exception {
        for (String hex : new String[] {ALICE_PRIVATE, BOB_PRIVATE}) {
            NoisePrivateKey key = parseHex(hex);
            assertContainsNoPieceOf(key.toBase64(), key.toString());
            assertContainsNoPieceOf(base64OfHex(hex), key.toString());
            assertFalse(key.toString().toLowerCase().contains(hex.substring(0, 8)), "no hex either");
        }
        NoisePrivateKey generated = NoisePrivateKey.generate(new SecureRandom());
        assertContainsNoPieceOf(generated.toBase64(), generated.toString());
    }

    @Test
    void toStringNamesThePublicKeyForLogs() throws Exception {
        NoisePrivateKey key = parseHex(ALICE_PRIVATE);
        assertEquals("NoisePrivateKey[public " + key.publicKey().shortId() + "]", key.toString());
    }

    // ---------------------------------------------------------------- parse errors

    @Test
    void textThatIsNotBase64IsRefusedWithoutEchoingIt() {
        String secretLooking = "kJ8#vQ2$zR7&mW4!pX9@tY6^uZ3*aB5%cD1~eF0?gH8;";
        KeyFormatException e = assertThrows(KeyFormatException.class, () -> NoisePrivateKey.parse(secretLooking));
        assertTrue(e.getMessage().contains("not valid base64"), e.getMessage());
        assertContainsNoPieceOf(secretLooking, e.getMessage());
    }

    @Test
    void aRealKeyWithOneCharacterBrokenIsRefusedWithoutEchoingIt() throws Exception {
        String good = base64OfHex(ALICE_PRIVATE);
        String broken = good.substring(0, 20) + "*" + good.substring(21);
        KeyFormatException e = assertThrows(KeyFormatException.class, () -> NoisePrivateKey.parse(broken));
        assertTrue(e.getMessage().startsWith("private key is not valid base64"), e.getMessage());
        assertContainsNoPieceOf(broken, e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 16, 31, 33, 64})
    void base64OfTheWrongLengthIsRefusedWithTheLengthButNotTheKey(int length) {
        byte[] raw = new byte[length];
        new Random(length).nextBytes(raw);
        String text = Base64.getEncoder().encodeToString(raw);

        KeyFormatException e = assertThrows(KeyFormatException.class, () -> NoisePrivateKey.parse(text));
        assertTrue(e.getMessage().contains("must decode to 32 bytes, got " + length), e.getMessage());
        assertContainsNoPieceOf(text, e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "\n", "\t \r\n"})
    void anEmptyKeyIsRefusedAsEmpty(String text) {
        KeyFormatException e = assertThrows(KeyFormatException.class, () -> NoisePrivateKey.parse(text));
        assertEquals("private key is empty", e.getMessage());
    }

    @Test
    void aMissingKeyIsRefusedAsMissing() {
        KeyFormatException e = assertThrows(KeyFormatException.class, () -> NoisePrivateKey.parse(null));
        assertEquals("private key is missing", e.getMessage());
    }

    // ---------------------------------------------------------------- destroy

    @Test
    void destroyZeroesTheKeyAndLaterUseThrows() throws Exception {
        NoisePrivateKey alice = parseHex(ALICE_PRIVATE);
        NoisePublicKey bob = NoisePublicKey.fromBytes(hex(BOB_PUBLIC));
        assertFalse(alice.isDestroyed());
        alice.sharedSecret(bob);

        alice.destroy();
        assertTrue(alice.isDestroyed(), "the 32 key bytes held are all zero");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> alice.sharedSecret(bob));
        assertEquals("this private key was destroyed", e.getMessage());
        assertThrows(IllegalStateException.class, alice::toBase64);
        assertArrayEquals(hex(ALICE_PUBLIC), alice.publicKey().toBytes(), "the public key is not secret: still there");
        assertTrue(alice.toString().startsWith("NoisePrivateKey[public "));
        alice.destroy(); // idempotent
        assertTrue(alice.isDestroyed());
    }

    @Test
    void aLiveKeyIsNeverAllZeroSoIsDestroyedMeansZeroed() throws Exception {
        NoisePrivateKey fromZeros = NoisePrivateKey.parse(Base64.getEncoder().encodeToString(new byte[32]));
        assertFalse(fromZeros.isDestroyed(), "clamping sets bit 254 even of an all-zero input");
        assertFalse(NoisePrivateKey.generate(constantRandom((byte) 0)).isDestroyed());
    }

    @Test
    void destroyingOneKeyLeavesAnotherParsedFromTheSameTextAlone() throws Exception {
        NoisePrivateKey a = parseHex(ALICE_PRIVATE);
        NoisePrivateKey b = parseHex(ALICE_PRIVATE);
        a.destroy();
        assertArrayEquals(hex(SHARED_SECRET), b.sharedSecret(NoisePublicKey.fromBytes(hex(BOB_PUBLIC))));
    }

    // ---------------------------------------------------------------- helpers

    /** Fails if {@code text} contains any 6-character piece of {@code secret}. */
    static void assertContainsNoPieceOf(String secret, String text) {
        for (int i = 0; i + 6 <= secret.length(); i++) {
            String piece = secret.substring(i, i + 6);
            assertFalse(text.contains(piece), () -> "'" + text + "' contains a piece of the key: " + piece);
        }
    }

    private static byte[] decode(String base64) {
        return Base64.getDecoder().decode(base64);
    }

    private static SecureRandom constantRandom(byte value) {
        return new SecureRandom() {
            private static final long serialVersionUID = 1L;

            @Override
            public void nextBytes(byte[] bytes) {
                Arrays.fill(bytes, value);
            }
        };
    }
}
