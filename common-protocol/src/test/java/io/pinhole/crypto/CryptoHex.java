package io.pinhole.crypto;

import java.util.HexFormat;

/** CryptoHex: hex helpers for the crypto tests' vectors (white space in vectors is ignored). */
final class CryptoHex {
    private CryptoHex() {
    }

    static byte[] bytes(String hex) {
        return HexFormat.of().parseHex(hex.replaceAll("[\\s:]", ""));
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    /** 0, 1, 2, ... (mod 256), as the BLAKE2 known-answer tests use. */
    static byte[] sequence(int length) {
        return sequence(0, length);
    }

    static byte[] sequence(int first, int length) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) (first + i);
        }
        return b;
    }
}
