package io.pinhole.crypto;

import static io.pinhole.crypto.ChaCha20Poly1305Test.AAD;
import static io.pinhole.crypto.ChaCha20Poly1305Test.KEY;
import static io.pinhole.crypto.ChaCha20Poly1305Test.SUNSCREEN;
import static io.pinhole.crypto.CryptoHex.bytes;
import static io.pinhole.crypto.CryptoHex.hex;
import static io.pinhole.crypto.CryptoHex.sequence;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** XChaCha20Poly1305Test: HChaCha20 and AEAD_XChaCha20_Poly1305 against draft-irtf-cfrg-xchacha-03. */
class XChaCha20Poly1305Test {

    /** Draft section 2.2.1: key 00..1f, nonce 00000009 0000004a 00000000 31415927. */
    private static final byte[] HCHACHA_NONCE = bytes("00:00:00:09:00:00:00:4a:00:00:00:00:31:41:59:27");
    private static final String HCHACHA_SUBKEY = "82413b42 27b27bfe d30e4250 8a877d73 a0f9e4d5 8a74a853 c12ec413 26d3ecdc";

    /** Draft appendix A.3.1: key 80..9f, the RFC 8439 plaintext and AAD, this 24-byte IV. */
    private static final byte[] XNONCE = bytes("404142434445464748494a4b4c4d4e4f5051525354555657");
    private static final String X_CIPHERTEXT = "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
            + "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
            + "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
            + "21f9664c97637da9768812f615c68b13b52e";
    private static final String X_TAG = "c0875924c1c7987947deafd8780acf49";

    @Test
    void hChaCha20Section221() {
        assertArrayEquals(bytes(HCHACHA_SUBKEY), HChaCha20.subkey(sequence(32), HCHACHA_NONCE));
    }

    @Test
    void hChaCha20AtOffsets() {
        byte[] nonce = new byte[20];
        System.arraycopy(HCHACHA_NONCE, 0, nonce, 3, 16);
        byte[] out = new byte[40];
        HChaCha20.subkey(sequence(32), nonce, 3, out, 5);
        assertArrayEquals(bytes(HCHACHA_SUBKEY), Arrays.copyOfRange(out, 5, 37));
        assertArrayEquals(new byte[5], Arrays.copyOf(out, 5));
        assertArrayEquals(new byte[3], Arrays.copyOfRange(out, 37, 40));
    }

    @Test
    void aeadAppendixA31() throws Exception {
        byte[] sealed = new XChaCha20Poly1305().seal(KEY, XNONCE, SUNSCREEN, AAD);
        assertEquals(X_CIPHERTEXT + X_TAG, hex(sealed));
        assertArrayEquals(SUNSCREEN, new XChaCha20Poly1305().open(KEY, XNONCE, bytes(X_CIPHERTEXT + X_TAG), AAD));
    }

    @Test
    void tamperingIsRejectedAndNothingIsWritten() {
        XChaCha20Poly1305 aead = new XChaCha20Poly1305();
        byte[] sealed = bytes(X_CIPHERTEXT + X_TAG);
        byte[] out = new byte[SUNSCREEN.length];
        for (int index : new int[] {0, 60, sealed.length - 16, sealed.length - 1}) {
            byte[] bad = sealed.clone();
            bad[index] ^= 0x10;
            Arrays.fill(out, (byte) 0x55);
            assertThrows(AuthenticationFailedException.class,
                    () -> aead.open(KEY, XNONCE, bad, 0, bad.length, AAD, out, 0));
            for (byte b : out) {
                assertEquals(0x55, b);
            }
        }
        byte[] otherNonce = XNONCE.clone();
        otherNonce[2] ^= 1; // in the HChaCha20 part
        assertThrows(AuthenticationFailedException.class, () -> aead.open(KEY, otherNonce, sealed, AAD));
        byte[] otherNonce2 = XNONCE.clone();
        otherNonce2[20] ^= 1; // in the ChaCha20 part
        assertThrows(AuthenticationFailedException.class, () -> aead.open(KEY, otherNonce2, sealed, AAD));
        assertThrows(AuthenticationFailedException.class, () -> aead.open(KEY, XNONCE, sealed, null));
        assertThrows(AuthenticationFailedException.class, () -> aead.open(KEY, XNONCE, new byte[15], AAD));
    }

    @Test
    void inPlaceRoundTrip() throws Exception {
        XChaCha20Poly1305 aead = new XChaCha20Poly1305();
        byte[] buf = new byte[SUNSCREEN.length + 16];
        System.arraycopy(SUNSCREEN, 0, buf, 0, SUNSCREEN.length);
        aead.seal(KEY, XNONCE, buf, 0, SUNSCREEN.length, AAD, buf, 0);
        assertEquals(X_CIPHERTEXT + X_TAG, hex(buf));
        assertEquals(SUNSCREEN.length, aead.open(KEY, XNONCE, buf, 0, buf.length, AAD, buf, 0));
        assertArrayEquals(SUNSCREEN, Arrays.copyOf(buf, SUNSCREEN.length));
    }

    @Test
    void rejectsBadArguments() {
        XChaCha20Poly1305 aead = new XChaCha20Poly1305();
        assertThrows(IllegalArgumentException.class, () -> aead.seal(KEY, new byte[12], new byte[1], null));
        assertThrows(IllegalArgumentException.class, () -> aead.seal(new byte[16], XNONCE, new byte[1], null));
        assertThrows(IllegalArgumentException.class, () -> HChaCha20.subkey(new byte[32], new byte[12]));
        assertThrows(IndexOutOfBoundsException.class, () -> HChaCha20.subkey(new byte[32], new byte[16], 1, new byte[32], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> HChaCha20.subkey(new byte[32], new byte[16], 0, new byte[32], 1));
    }
}
