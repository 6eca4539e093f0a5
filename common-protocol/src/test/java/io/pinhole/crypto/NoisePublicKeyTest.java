package io.pinhole.crypto;

import static io.pinhole.crypto.NoisePrivateKeyTest.assertContainsNoPieceOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** NoisePublicKeyTest: value semantics, base64 form, defensive copies, parse errors. */
class NoisePublicKeyTest {

    private static byte[] bytes(int seed) {
        byte[] raw = new byte[32];
        new Random(seed).nextBytes(raw);
        return raw;
    }

    @Test
    void theBase64FormParsesBackToAnEqualKey() throws Exception {
        NoisePublicKey key = NoisePublicKey.fromBytes(bytes(1));
        String text = key.toString();

        assertEquals(44, text.length());
        assertEquals(key, NoisePublicKey.parse(text));
        assertEquals(key, NoisePublicKey.parse(" " + text + "\n"));
        assertArrayEquals(bytes(1), NoisePublicKey.parse(text).toBytes());
    }

    @Test
    void equalBytesMakeEqualKeysThatCanKeyAMap() {
        NoisePublicKey a = NoisePublicKey.fromBytes(bytes(1));
        NoisePublicKey same = NoisePublicKey.fromBytes(bytes(1));
        NoisePublicKey other = NoisePublicKey.fromBytes(bytes(2));

        assertEquals(a, same);
        assertEquals(a.hashCode(), same.hashCode());
        assertNotEquals(a, other);
        Map<NoisePublicKey, String> map = new HashMap<>();
        map.put(a, "a");
        assertEquals("a", map.get(same));
    }

    @Test
    void theKeyCannotBeChangedThroughTheArraysItWasMadeFromOrGaveOut() {
        byte[] raw = bytes(3);
        NoisePublicKey key = NoisePublicKey.fromBytes(raw);
        raw[0] ^= 1;
        key.toBytes()[1] ^= 1;

        assertArrayEquals(bytes(3), key.toBytes());
    }

    @Test
    void copyToWritesTheRawBytesAtTheOffset() {
        byte[] out = new byte[40];
        NoisePublicKey.fromBytes(bytes(4)).copyTo(out, 5);
        byte[] expected = new byte[40];
        System.arraycopy(bytes(4), 0, expected, 5, 32);
        assertArrayEquals(expected, out);
    }

    @Test
    void shortIdIsTheFirstEightBase64CharactersInDoubleQuotes() throws Exception {
        NoisePublicKey key = NoisePublicKey.fromBytes(bytes(5));
        assertEquals('"' + key.toString().substring(0, 8) + '"', key.shortId());
        assertEquals("\"WMm7enn+\"", NoisePublicKey.parse("WMm7enn+" + "A".repeat(35) + "=").shortId());
    }

    @Test
    void aShortIdStartingWithASlashDoesNotReadAsAPath() {
        byte[] ones = new byte[32];
        java.util.Arrays.fill(ones, (byte) 0xff);
        NoisePublicKey key = NoisePublicKey.fromBytes(ones);
        assertEquals("////////", key.toString().substring(0, 8));
        assertEquals("\"////////\"", key.shortId());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 31, 33})
    void fromBytesRefusesAnythingButThirtyTwoBytes(int length) {
        assertThrows(IllegalArgumentException.class, () -> NoisePublicKey.fromBytes(new byte[length]));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 31, 33})
    void base64OfTheWrongLengthIsRefusedWithTheLengthButNotTheKey(int length) {
        byte[] raw = new byte[length];
        new Random(length).nextBytes(raw);
        String text = Base64.getEncoder().encodeToString(raw);

        KeyFormatException e = assertThrows(KeyFormatException.class, () -> NoisePublicKey.parse(text));
        assertTrue(e.getMessage().startsWith("public key must decode to 32 bytes, got " + length), e.getMessage());
        assertContainsNoPieceOf(text, e.getMessage());
    }

    @Test
    void textThatIsNotBase64IsRefusedWithoutEchoingIt() {
        String text = NoisePublicKey.fromBytes(bytes(6)).toString().replace('A', '%').replace('B', '%') + "%";
        KeyFormatException e = assertThrows(KeyFormatException.class, () -> NoisePublicKey.parse(text));
        assertTrue(e.getMessage().startsWith("public key is not valid base64"), e.getMessage());
        assertContainsNoPieceOf(text, e.getMessage());
    }

    @Test
    void emptyAndMissingKeysAreRefusedByName() {
        assertEquals("public key is empty",
                assertThrows(KeyFormatException.class, () -> NoisePublicKey.parse(" ")).getMessage());
        assertEquals("public key is missing",
                assertThrows(KeyFormatException.class, () -> NoisePublicKey.parse(null)).getMessage());
    }
}
