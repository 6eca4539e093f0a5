package io.pinhole.bench;

import io.pinhole.crypto.AuthenticationFailedException;
import io.pinhole.crypto.ChaCha20Poly1305;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AeadBench: the cost of ChaCha20-Poly1305 on one 1,420-byte packet (issue 10, "Speed"): seal then
 * open, one thread, in memory. A benchmark, not a test: bench/aead.sh runs it on each JDK.
 *
 * <p>Cases:
 * <ul>
 *   <li>{@code pinhole-aead}: {@link ChaCha20Poly1305} as WireGuardSession uses it today: each seal
 *       and open builds a key spec and a nonce spec and calls {@code Cipher.init}; in place.
 *   <li>{@code jdk-min-array}: the least the JDK API allows: one Cipher per direction, the key spec
 *       made once, per packet only a new nonce ({@code init} with a new IvParameterSpec, which the
 *       JDK requires: a ChaCha20-Poly1305 Cipher cannot be reused without a fresh nonce) and one
 *       {@code doFinal}, in place in a heap array.
 *   <li>{@code jdk-min-direct}: the same on a direct ByteBuffer (what native I/O would hand over).
 *   <li>{@code java-candidate}: {@link JavaChaCha20Poly1305}, a plain-Java AEAD written for this
 *       benchmark (key set once, nothing allocated, in place): what a pinhole-owned implementation
 *       would cost. Checked against the JDK's Cipher before every run.
 *   <li>{@code session}: the whole WireGuard session core ({@code WireGuardSession.send} at one
 *       end, {@code receive} at the other: framing, padding, copies, replay window and the AEAD).
 * </ul>
 * pinhole has no pure-Java ChaCha20-Poly1305 of its own in io.pinhole.crypto (it has HChaCha20,
 * the ChaCha core for XChaCha's subkey, and wraps the JDK Cipher for the AEAD); bench/aead.sh also
 * runs the JDK's own Java code with its intrinsics off.
 *
 * <p>Method: each case warms up, then {@code rounds} rounds run every case once, the order rotated
 * each round, for {@code seconds} each; every measurement is printed as
 * {@code RESULT <java.version> <case> <ns per packet> <Gb/s>} (Gb/s: plaintext bits sealed and
 * opened per second on one core). Arguments: [rounds=5] [seconds=0.5] [warm-up seconds=2].
 */
public final class AeadBench {
    static final int SIZE = 1420;
    private static final int HEADER = 16;

    private AeadBench() {
    }

    /** One case: seals and opens one packet under the given counter; returns something to keep. */
    interface Case {
        int packet(long counter) throws GeneralSecurityException;
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 0.5;
        double warmUp = args.length > 2 ? Double.parseDouble(args[2]) : 2;
        SecureRandom random = new SecureRandom();
        byte[] key = new byte[32];
        random.nextBytes(key);

        List<String> names = new ArrayList<>();
        List<Case> cases = new ArrayList<>();
        names.add("pinhole-aead");
        cases.add(pinholeAead(key));
        names.add("jdk-min-array");
        cases.add(jdkMinArray(key));
        names.add("jdk-min-direct");
        cases.add(jdkMinDirect(key));
        names.add("java-candidate");
        cases.add(javaCandidate(key, random));
        names.add("session");
        InMemorySessions pair = new InMemorySessions();
        ByteBuffer ip = InMemorySessions.ipv4(SIZE);
        cases.add(counter -> {
            pair.aToB(ip);
            return (int) pair.delivered;
        });

        String version = System.getProperty("java.version");
        System.out.println("# java " + version + " (" + System.getProperty("java.vm.name") + "), "
                + Runtime.getRuntime().availableProcessors() + " cpus, packet " + SIZE + " B, seal+open");
        long[] counter = {0};
        long sink = 0;
        for (Case c : cases) {
            sink += time(c, warmUp, counter)[1];
        }
        for (int r = 0; r < rounds; r++) {
            for (int k = 0; k < cases.size(); k++) {
                int i = (k + r) % cases.size();
                double[] m = time(cases.get(i), seconds, counter);
                sink += (long) m[1];
                double gbps = SIZE * 8.0 / m[0];
                System.out.printf("RESULT %s %s %.1f %.3f%n", version, names.get(i), m[0], gbps);
            }
        }
        System.out.println("# sink " + (sink & 1));
    }

    /** Runs {@code c} for {@code seconds}; returns ns per packet and a checksum. */
    private static double[] time(Case c, double seconds, long[] counter) throws GeneralSecurityException {
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        long n = 0;
        long sum = 0;
        long t;
        do {
            for (int i = 0; i < 64; i++) {
                sum += c.packet(counter[0]++);
            }
            n += 64;
            t = System.nanoTime();
        } while (t < end);
        return new double[] {(t - start) / (double) n, sum};
    }

    private static Case pinholeAead(byte[] key) {
        ChaCha20Poly1305 sealer = new ChaCha20Poly1305();
        ChaCha20Poly1305 opener = new ChaCha20Poly1305();
        byte[] msg = new byte[HEADER + SIZE + ChaCha20Poly1305.TAG_LENGTH];
        return counter -> {
            sealer.seal(key, counter, msg, HEADER, SIZE, null, msg, HEADER);
            try {
                return opener.open(key, counter, msg, HEADER, SIZE + ChaCha20Poly1305.TAG_LENGTH, null, msg, HEADER);
            } catch (AuthenticationFailedException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    private static Case javaCandidate(byte[] key, SecureRandom random) {
        checkCandidate(random);
        JavaChaCha20Poly1305 sealer = new JavaChaCha20Poly1305();
        JavaChaCha20Poly1305 opener = new JavaChaCha20Poly1305();
        sealer.setKey(key);
        opener.setKey(key);
        byte[] msg = new byte[HEADER + SIZE + JavaChaCha20Poly1305.TAG_LENGTH];
        return counter -> {
            sealer.seal(counter, null, msg, HEADER, SIZE);
            int n = opener.open(counter, null, msg, HEADER, SIZE + JavaChaCha20Poly1305.TAG_LENGTH);
            if (n < 0) {
                throw new IllegalStateException("candidate failed to open its own packet");
            }
            return n;
        };
    }

    /** The candidate must agree with the JDK's Cipher (seal, open, and refusing a flipped bit). */
    private static void checkCandidate(SecureRandom random) {
        ChaCha20Poly1305 jdk = new ChaCha20Poly1305();
        JavaChaCha20Poly1305 candidate = new JavaChaCha20Poly1305();
        for (int t = 0; t < 400; t++) {
            int len = t < 300 ? t : SIZE + t % 64;
            byte[] key = new byte[32];
            random.nextBytes(key);
            byte[] aad = t % 3 == 0 ? null : new byte[t % 40];
            if (aad != null) {
                random.nextBytes(aad);
            }
            byte[] plain = new byte[len];
            random.nextBytes(plain);
            long counter = random.nextLong();
            byte[] expected = jdk.seal(key, counter, plain, aad);
            byte[] buf = Arrays.copyOf(plain, len + JavaChaCha20Poly1305.TAG_LENGTH);
            candidate.setKey(key);
            candidate.seal(counter, aad, buf, 0, len);
            if (!Arrays.equals(expected, buf)) {
                throw new IllegalStateException("candidate seal differs from the JDK's at " + len + " bytes");
            }
            byte[] forged = buf.clone();
            forged[random.nextInt(forged.length)] ^= 1;
            if (candidate.open(counter, aad, buf, 0, buf.length) != len
                    || !Arrays.equals(Arrays.copyOf(buf, len), plain)
                    || candidate.open(counter, aad, forged, 0, forged.length) != -1) {
                throw new IllegalStateException("candidate open is wrong at " + len + " bytes");
            }
        }
    }

    private static Case jdkMinArray(byte[] key) throws GeneralSecurityException {
        Cipher enc = Cipher.getInstance("ChaCha20-Poly1305");
        Cipher dec = Cipher.getInstance("ChaCha20-Poly1305");
        SecretKeySpec spec = new SecretKeySpec(key, "ChaCha20");
        byte[] nonce = new byte[12];
        byte[] msg = new byte[HEADER + SIZE + 16];
        return counter -> {
            ChaCha20Poly1305.wireGuardNonce(counter, nonce, 0);
            enc.init(Cipher.ENCRYPT_MODE, spec, new IvParameterSpec(nonce));
            enc.doFinal(msg, HEADER, SIZE, msg, HEADER);
            dec.init(Cipher.DECRYPT_MODE, spec, new IvParameterSpec(nonce));
            return dec.doFinal(msg, HEADER, SIZE + 16, msg, HEADER);
        };
    }

    private static Case jdkMinDirect(byte[] key) throws GeneralSecurityException {
        Cipher enc = Cipher.getInstance("ChaCha20-Poly1305");
        Cipher dec = Cipher.getInstance("ChaCha20-Poly1305");
        SecretKeySpec spec = new SecretKeySpec(key, "ChaCha20");
        byte[] nonce = new byte[12];
        ByteBuffer buf = ByteBuffer.allocateDirect(HEADER + SIZE + 16);
        return counter -> {
            ChaCha20Poly1305.wireGuardNonce(counter, nonce, 0);
            enc.init(Cipher.ENCRYPT_MODE, spec, new IvParameterSpec(nonce));
            ByteBuffer in = buf.duplicate().position(HEADER).limit(HEADER + SIZE);
            enc.doFinal(in, buf.duplicate().position(HEADER));
            dec.init(Cipher.DECRYPT_MODE, spec, new IvParameterSpec(nonce));
            in = buf.duplicate().position(HEADER).limit(HEADER + SIZE + 16);
            return dec.doFinal(in, buf.duplicate().position(HEADER));
        };
    }
}
