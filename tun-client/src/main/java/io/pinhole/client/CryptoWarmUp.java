package io.pinhole.client;

import io.pinhole.crypto.AuthenticationFailedException;
import io.pinhole.crypto.ChaCha20Poly1305;
import java.nio.ByteBuffer;
import java.security.SecureRandom;

/**
 * CryptoWarmUp: seals and opens throwaway packets under a throwaway random key at startup, so the
 * JIT has compiled the AEAD ({@link ChaCha20Poly1305} and the JDK's Cipher under it) before the
 * tunnel's first packets arrive; without it the first packets run interpreted and the first
 * second of pings through a new tunnel takes several times the warm round trip. The key is made
 * here and dropped; no peer's key or packet is touched.
 *
 * <p>Thread-safety: {@link #run} keeps everything local, so any thread may call it, several at
 * once. Error contract: {@link IllegalStateException} if a packet it sealed does not open (the
 * JDK's AEAD is broken); {@link #start} logs nothing and the thread ends with that exception.
 */
final class CryptoWarmUp {
    /** Round trips per packet size: past C2's compile thresholds for the per-packet methods. */
    static final int ROUNDS = 4_000;
    /** A ping-sized and a full-MTU packet, so both of the AEAD's loops (one block, many blocks) run. */
    private static final int[] SIZES = {84, 1_420};

    private CryptoWarmUp() {
    }

    /** Runs {@link #run} with {@link #ROUNDS} on a daemon thread named {@code pinhole-warm-up}. */
    static Thread start() {
        Thread t = new Thread(() -> run(ROUNDS), "pinhole-warm-up");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * Seals and opens {@code rounds} packets of each size, through the array and the direct
     * buffer methods alike (the client's data path uses both).
     *
     * @return the number of round trips made and checked
     */
    static int run(int rounds) {
        byte[] key = new byte[ChaCha20Poly1305.KEY_LENGTH];
        new SecureRandom().nextBytes(key);
        ChaCha20Poly1305 sealer = new ChaCha20Poly1305();
        ChaCha20Poly1305 opener = new ChaCha20Poly1305();
        int done = 0;
        long counter = 0; // a new nonce for every seal: the JDK refuses a key and nonce twice in a row
        for (int size : SIZES) {
            byte[] plain = new byte[size];
            byte[] sealed = new byte[size + ChaCha20Poly1305.TAG_LENGTH];
            byte[] opened = new byte[size];
            ByteBuffer in = ByteBuffer.allocateDirect(size);
            ByteBuffer mid = ByteBuffer.allocateDirect(size + ChaCha20Poly1305.TAG_LENGTH);
            ByteBuffer out = ByteBuffer.allocateDirect(size);
            for (int i = 0; i < rounds; i++) {
                plain[i % size] = (byte) i;
                try {
                    sealer.seal(key, counter, plain, 0, size, null, sealed, 0);
                    opener.open(key, counter++, sealed, 0, sealed.length, null, opened, 0);
                    in.clear();
                    in.put(plain).flip();
                    mid.clear();
                    sealer.seal(key, counter, in, null, mid);
                    mid.flip();
                    out.clear();
                    opener.open(key, counter++, mid, null, out);
                } catch (AuthenticationFailedException e) {
                    throw new IllegalStateException("warm-up: a packet sealed here did not open", e);
                }
                if (opened[i % size] != plain[i % size] || out.get(i % size) != plain[i % size]) {
                    throw new IllegalStateException("warm-up: a packet opened to other bytes than were sealed");
                }
                done++;
            }
        }
        sealer.clearKey();
        opener.clearKey();
        return done;
    }
}
