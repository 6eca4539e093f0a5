package io.pinhole.crypto;

import static io.pinhole.crypto.CryptoHex.bytes;
import static io.pinhole.crypto.CryptoHex.hex;
import static io.pinhole.crypto.CryptoHex.sequence;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * WireGuardKdfTest: the whitepaper's KDF_n and the start of the handshake's hash chain. Expected
 * values were produced at development time with python3 (hashlib.blake2s for HASH;
 * hmac.new(key, msg, hashlib.blake2s) for HMAC, with KDF_n written out from the whitepaper:
 * t0 = HMAC(key, input); t1 = HMAC(t0, 0x1); ti = HMAC(t0, t(i-1) || i)) and hard-coded here.
 */
class WireGuardKdfTest {

    /** Ci = HASH(CONSTRUCTION). */
    private static final String INITIAL_CHAINING_KEY =
            "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36";

    @Test
    void initialChainingKeyAndHash() {
        byte[] ci = Blake2s.hash(32, ascii("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"));
        assertEquals(INITIAL_CHAINING_KEY, hex(ci));
        byte[] hi = Blake2s.hash(32, ci, ascii("WireGuard v1 zx2c4 Jason@zx2c4.com"));
        assertEquals("2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3", hex(hi));
    }

    @Test
    void kdf3() {
        byte[][] t = WireGuardKdf.kdf3(bytes(INITIAL_CHAINING_KEY), sequence(32));
        assertEquals(3, t.length);
        assertEquals("6ff66e10ab4a55ac8144a867fcd9f8ee64d4bd6239223338cb3437cf085ab031", hex(t[0]));
        assertEquals("203b22d63d63e35cebb9e40210cf8c1d7f90879428a4c766cda9ef34bb299398", hex(t[1]));
        assertEquals("35a7b2fc3e4f59db341dbe588e3b75897980c463d5bbb855f8ed8134ff40133a", hex(t[2]));
    }

    @Test
    void kdf2OfEmptyInputAsForTransportKeys() {
        byte[][] t = WireGuardKdf.kdf2(bytes(INITIAL_CHAINING_KEY), new byte[0]);
        assertEquals(2, t.length);
        assertEquals("bd968725a9177942a8c2e4253d1dde31cf7b19ec001b4a3a3d141cd9d998d3ba", hex(t[0]));
        assertEquals("aab5462b323780fa615bf80ffe469510239ff361575a663968e686a7ae41d693", hex(t[1]));
    }

    @Test
    void kdf1() {
        assertEquals("a1bb5656571db2bfe717e0e0148b7c3d3e5270adf9392b07cd20fe3d461094bd",
                hex(WireGuardKdf.kdf1(bytes(INITIAL_CHAINING_KEY), sequence(32, 32))));
    }

    @Test
    void shorterKdfsArePrefixesOfLongerOnes() {
        byte[] key = sequence(7, 32);
        byte[] input = sequence(100, 32);
        byte[][] three = WireGuardKdf.kdf3(key, input);
        byte[][] two = WireGuardKdf.kdf2(key, input);
        assertArrayEquals(three[0], WireGuardKdf.kdf1(key, input));
        assertArrayEquals(three[0], two[0]);
        assertArrayEquals(three[1], two[1]);
    }

    @Test
    void deriveMayWriteOverItsKeyAndInput() {
        byte[] key = bytes(INITIAL_CHAINING_KEY);
        byte[] input = sequence(32);
        byte[][] expected = WireGuardKdf.kdf3(key, input);
        WireGuardKdf kdf = new WireGuardKdf();
        // (ck, k) = KDF2(ck, dh) in place, then again with the input array as the third output
        byte[] ck = key.clone();
        byte[] k = new byte[32];
        kdf.derive(ck, input, ck, k, null);
        assertArrayEquals(expected[0], ck);
        assertArrayEquals(expected[1], k);
        byte[] in = input.clone();
        byte[] t1 = new byte[32];
        byte[] t2 = new byte[32];
        kdf.derive(key, in, t1, t2, in);
        assertArrayEquals(expected[0], t1);
        assertArrayEquals(expected[1], t2);
        assertArrayEquals(expected[2], in);
    }

    @Test
    void rejectsBadArguments() {
        WireGuardKdf kdf = new WireGuardKdf();
        assertThrows(IllegalArgumentException.class, () -> kdf.derive(new byte[32], new byte[0], new byte[32], null, new byte[32]));
        assertThrows(IndexOutOfBoundsException.class, () -> kdf.derive(new byte[32], new byte[0], new byte[31], null, null));
        assertThrows(NullPointerException.class, () -> WireGuardKdf.kdf1(null, new byte[0]));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
