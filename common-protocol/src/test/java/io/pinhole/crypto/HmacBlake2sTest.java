package io.pinhole.crypto;

import static io.pinhole.crypto.CryptoHex.hex;
import static io.pinhole.crypto.CryptoHex.sequence;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * HmacBlake2sTest: HMAC-BLAKE2s-256 (RFC 2104, 64-byte block). There is no official vector set,
 * so the expected values were produced at development time by an independent implementation,
 * python3's {@code hmac.new(key, msg, hashlib.blake2s).hexdigest()} (CPython's hmac module over
 * the BLAKE2 reference code), and hard-coded here.
 */
class HmacBlake2sTest {

    @Test
    void emptyKeyEmptyMessage() {
        assertEquals("eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd",
                hex(HmacBlake2s.mac(new byte[0], new byte[0])));
    }

    @Test
    void thirtyTwoByteKeyAsInWireGuard() {
        assertEquals("f4660dee21c6a48e2a3d695ceedc26693e37b64b5ac5227476578517ee87fe6d",
                hex(HmacBlake2s.mac(sequence(32), ascii("The quick brown fox jumps over the lazy dog"))));
    }

    @Test
    void keyOfExactlyOneBlockIsUsedAsIs() {
        // key 00..3f (64 bytes), message 00..7f (128 bytes)
        assertEquals("9520559171ade931844ddf615b157a0b717bff947e460c702d0b17f4e1e20a70",
                hex(HmacBlake2s.mac(sequence(64), sequence(128))));
    }

    @Test
    void keyLongerThanABlockIsHashedFirst() {
        // key 00..40 (65 bytes), message "abc"
        assertEquals("44d87b3939dec16bc76cbd83e3982ac0a4eafab8a5b87c8c2adbd0da7d5c9695",
                hex(HmacBlake2s.mac(sequence(65), ascii("abc"))));
        // key 131 x 0xaa, message 200 bytes (7 * i) mod 256
        byte[] key = new byte[131];
        Arrays.fill(key, (byte) 0xaa);
        byte[] msg = new byte[200];
        for (int i = 0; i < msg.length; i++) {
            msg[i] = (byte) (7 * i);
        }
        assertEquals("df3b916a2e509d49eb1d9ad3f921fb94cd1d43d583bd53ff9849b48374fa0778", hex(HmacBlake2s.mac(key, msg)));
    }

    @Test
    void isNotKeyedBlake2s() {
        byte[] key = sequence(32);
        byte[] msg = ascii("abc");
        assertFalse(Arrays.equals(HmacBlake2s.mac(key, msg), Blake2s.mac(32, key, msg)));
    }

    @Test
    void instanceIsReusableAndIncremental() {
        byte[] key = sequence(32);
        byte[] msg = ascii("The quick brown fox jumps over the lazy dog");
        byte[] expected = HmacBlake2s.mac(key, msg);
        HmacBlake2s h = new HmacBlake2s();
        h.init(key);
        byte[] out = new byte[40];
        for (int round = 0; round < 3; round++) {
            h.update(msg, 0, 10);
            h.update(ByteBuffer.wrap(msg, 10, msg.length - 10));
            h.doFinal(out, 8);
            assertArrayEquals(expected, Arrays.copyOfRange(out, 8, 40), "round " + round + ": doFinal keeps the key");
        }
        // a new key replaces the old one
        h.init(new byte[0]);
        h.doFinal(out, 0);
        assertEquals("eaf4bb25938f4d20e72656bbbc7a9bf63c0c18537333c35bdb67db1402661acd", hex(Arrays.copyOf(out, 32)));
    }

    @Test
    void outputMayOverwriteTheKeyArray() {
        byte[] key = sequence(32);
        byte[] expected = HmacBlake2s.mac(key, ascii("abc"));
        HmacBlake2s h = new HmacBlake2s();
        h.init(key);
        h.update(ascii("abc"));
        h.doFinal(key, 0);
        assertArrayEquals(expected, key);
    }

    @Test
    void useBeforeInitOrAfterDestroyIsAnError() {
        HmacBlake2s h = new HmacBlake2s();
        assertThrows(IllegalStateException.class, () -> h.update(new byte[1]));
        assertThrows(IllegalStateException.class, () -> h.doFinal(new byte[32], 0));
        h.init(sequence(32));
        h.destroy();
        assertThrows(IllegalStateException.class, () -> h.doFinal(new byte[32], 0));
        h.init(sequence(32));
        assertThrows(IndexOutOfBoundsException.class, () -> h.doFinal(new byte[32], 1));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
