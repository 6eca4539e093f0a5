package io.pinhole.crypto;

import static io.pinhole.crypto.CryptoHex.bytes;
import static io.pinhole.crypto.CryptoHex.hex;
import static io.pinhole.crypto.CryptoHex.sequence;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Blake2sTest: BLAKE2s against RFC 7693 (Appendix B example, Appendix E self-test) and the BLAKE2
 * authors' keyed known-answer test, plus streaming equivalences.
 */
class Blake2sTest {

    private static final byte[] KAT_KEY = sequence(32);

    @Test
    void rfc7693AppendixBAbc() {
        assertEquals("508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982",
                hex(Blake2s.hash(32, "abc".getBytes(StandardCharsets.US_ASCII))));
    }

    /**
     * The keyed known-answer test of the BLAKE2 reference distribution
     * (github.com/BLAKE2/BLAKE2, testvectors/blake2s-kat.txt): key 00..1f, input 00 01 02 ... of
     * the given length, 32-byte digest. The values were read from that file and also agree with
     * python3's hashlib.blake2s(input, key=key).
     */
    @ParameterizedTest(name = "input length {0}")
    @CsvSource({
        "0, 48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49",
        "1, 40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1",
        "2, 6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803",
        "3, 1d220dbe2ee134661fdf6d9e74b41704710556f2f6e5a091b227697445dbea6b",
        "63, c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd",
        "64, 8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4",
        "65, 21fe0ceb0052be7fb0f004187cacd7de67fa6eb0938d927677f2398c132317a8",
        "127, ddbfea75cc467882eb3483ce5e2e756a4f4701b76b445519e89f22d60fa86e06",
        "128, 0c311f38c35a4fb90d651c289d486856cd1413df9b0677f53ece2cd9e477c60a",
        "255, 3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd",
    })
    void keyedKnownAnswer(int length, String expected) {
        byte[] input = sequence(length);
        assertEquals(expected, hex(Blake2s.mac(32, KAT_KEY, input)));

        // the same through every other entry point
        Blake2s b = new Blake2s(32, KAT_KEY);
        for (byte x : input) {
            b.update(new byte[] {x}, 0, 1);
        }
        assertEquals(expected, hex(b.digest()));
        b.update(ByteBuffer.wrap(input));
        assertEquals(expected, hex(b.digest()), "digest() resets, so the instance is reusable");
        ByteBuffer direct = ByteBuffer.allocateDirect(length);
        direct.put(input).flip();
        b.update(direct);
        assertEquals(0, direct.remaining());
        assertEquals(expected, hex(b.digest()));
    }

    /**
     * RFC 7693 Appendix E: hash all of 16/20/28/32-byte digests, unkeyed and keyed, of
     * deterministic inputs of 0, 3, 64, 65, 255 and 1024 bytes; the 32-byte hash of all 48
     * results is given in the RFC.
     */
    @Test
    void rfc7693AppendixESelfTest() {
        Blake2s grand = new Blake2s(32);
        for (int outLen : new int[] {16, 20, 28, 32}) {
            for (int inLen : new int[] {0, 3, 64, 65, 255, 1024}) {
                byte[] in = selfTestSequence(inLen, inLen);
                grand.update(Blake2s.hash(outLen, in));
                grand.update(Blake2s.mac(outLen, selfTestSequence(outLen, outLen), in));
            }
        }
        assertEquals("6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe", hex(grand.digest()));
    }

    /** RFC 7693 Appendix E's Fibonacci generator. */
    private static byte[] selfTestSequence(int length, int seed) {
        byte[] out = new byte[length];
        int a = 0xDEAD4BAD * seed;
        int b = 1;
        for (int i = 0; i < length; i++) {
            int t = a + b;
            a = b;
            b = t;
            out[i] = (byte) (t >>> 24);
        }
        return out;
    }

    /** Values from python3 hashlib (blake2s with digest_size / key), for other digest lengths. */
    @Test
    void shorterDigestsAndEmptyInput() {
        byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
        assertEquals("69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9", hex(Blake2s.hash(32)));
        assertEquals("aa4938119b1dc7b87cbad0ffd200d0ae", hex(Blake2s.hash(16, abc)));
        assertEquals("0d", hex(Blake2s.hash(1, abc)));
        // WireGuard's MAC shape: keyed, 16 bytes
        assertEquals("61ba5f165c194692e09d12520cc4c74a", hex(Blake2s.mac(16, KAT_KEY, abc)));
        // an empty key is no key
        assertArrayEquals(Blake2s.hash(32, abc), Blake2s.mac(32, new byte[0], abc));
        assertArrayEquals(Blake2s.hash(32, abc), Blake2s.mac(32, null, abc));
    }

    @Test
    void partsAreConcatenated() {
        assertArrayEquals(Blake2s.hash(32, bytes("616263")), Blake2s.hash(32, bytes("61"), new byte[0], bytes("6263")));
        assertArrayEquals(Blake2s.mac(32, KAT_KEY, sequence(200)),
                Blake2s.mac(32, KAT_KEY, sequence(0, 64), sequence(64, 64), sequence(128, 72)));
    }

    /** Incremental hashing equals one-shot hashing for every two-way split of inputs of 0..256 bytes. */
    @Test
    void everySplitPointMatchesOneShot() {
        Blake2s keyed = new Blake2s(32, KAT_KEY);
        Blake2s unkeyed = new Blake2s(32);
        byte[] out = new byte[32];
        for (int length = 0; length <= 256; length++) {
            byte[] input = sequence(length);
            byte[] expectedKeyed = Blake2s.mac(32, KAT_KEY, input);
            byte[] expectedUnkeyed = Blake2s.hash(32, input);
            for (int split = 0; split <= length; split++) {
                keyed.update(input, 0, split);
                keyed.update(input, split, length - split);
                keyed.digest(out, 0);
                assertArrayEquals(expectedKeyed, out, "keyed, length " + length + " split " + split);
                unkeyed.update(input, 0, split);
                unkeyed.update(input, split, length - split);
                unkeyed.digest(out, 0);
                assertArrayEquals(expectedUnkeyed, out, "unkeyed, length " + length + " split " + split);
            }
        }
    }

    /** Random inputs fed in random pieces through arrays and heap, direct and read-only buffers. */
    @Test
    void randomStreamingSplitsMatchOneShot() {
        Random random = new Random(0x5eed_b1a2L);
        for (int trial = 0; trial < 300; trial++) {
            int length = random.nextInt(1200);
            byte[] input = new byte[length];
            random.nextBytes(input);
            int digestLength = 1 + random.nextInt(32);
            byte[] key = random.nextBoolean() ? null : new byte[random.nextInt(33)];
            if (key != null) {
                random.nextBytes(key);
            }
            byte[] expected = Blake2s.mac(digestLength, key, input);

            Blake2s b = new Blake2s(digestLength, key);
            int off = 0;
            while (off < length) {
                int n = Math.min(length - off, random.nextInt(150));
                switch (random.nextInt(4)) {
                    case 0:
                        b.update(input, off, n);
                        break;
                    case 1:
                        b.update(ByteBuffer.wrap(input, off, n));
                        break;
                    case 2: {
                        ByteBuffer d = ByteBuffer.allocateDirect(n);
                        d.put(input, off, n).flip();
                        b.update(d);
                        break;
                    }
                    default:
                        b.update(ByteBuffer.wrap(input, off, n).asReadOnlyBuffer());
                        break;
                }
                off += n;
            }
            byte[] out = new byte[digestLength + 3];
            b.digest(out, 3);
            assertArrayEquals(expected, Arrays.copyOfRange(out, 3, out.length), "trial " + trial);
        }
    }

    @Test
    void resetDiscardsInput() {
        Blake2s b = new Blake2s(32, KAT_KEY);
        b.update(sequence(100));
        b.reset();
        b.update(sequence(3));
        assertEquals("1d220dbe2ee134661fdf6d9e74b41704710556f2f6e5a091b227697445dbea6b", hex(b.digest()));
        assertEquals(32, b.digestLength());
    }

    @Test
    void keyIsCopied() {
        byte[] key = sequence(32);
        Blake2s b = new Blake2s(32, key);
        Arrays.fill(key, (byte) 0);
        assertEquals("48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49", hex(b.digest()));
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> new Blake2s(0));
        assertThrows(IllegalArgumentException.class, () -> new Blake2s(33));
        assertThrows(IllegalArgumentException.class, () -> new Blake2s(32, new byte[33]));
        assertThrows(IllegalArgumentException.class, () -> Blake2s.hash(0, new byte[1]));
        Blake2s b = new Blake2s(32);
        assertThrows(IndexOutOfBoundsException.class, () -> b.update(new byte[10], 5, 6));
        assertThrows(IndexOutOfBoundsException.class, () -> b.update(new byte[10], -1, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> b.digest(new byte[40], 9));
        assertThrows(NullPointerException.class, () -> b.update((byte[]) null));
    }
}
