package io.pinhole.wire;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * DatagramFuzzer: seeded random datagrams for the fuzz loops, a mix of pure noise (with a type
 * byte biased toward known types and plausible headers) and mutations of valid datagrams (bit
 * flips, byte overwrites, truncation, extension).
 */
public final class DatagramFuzzer {
    private static final int[] KNOWN_TYPES = {1, 2, 3, 4, 0x50, 0x51, 0x52, 0x53, 0x54, 0x56};
    private static final int[] INTERESTING_LENGTHS = {0, 1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 36, 37, 49, 51, 52, 53,
        64, 67, 68, 69, 92, 111, 112, 113, 148, 232, 319, 320, 321};

    private final Random random;
    private final List<byte[]> seeds;

    public DatagramFuzzer(long seed, List<byte[]> seeds) {
        this.random = new Random(seed);
        this.seeds = seeds;
    }

    public Random random() {
        return random;
    }

    /** The next datagram. */
    public byte[] next() {
        return random.nextInt(2) == 0 || seeds.isEmpty() ? noise() : mutate(seeds.get(random.nextInt(seeds.size())));
    }

    /** Random bytes of length 0..1500; usually a known type, often version 1 and zero reserved bytes. */
    public byte[] noise() {
        int length = random.nextInt(4) == 0 ? INTERESTING_LENGTHS[random.nextInt(INTERESTING_LENGTHS.length)]
                : random.nextInt(1501);
        byte[] out = new byte[length];
        random.nextBytes(out);
        if (length > 0 && random.nextInt(10) < 8) {
            out[0] = (byte) KNOWN_TYPES[random.nextInt(KNOWN_TYPES.length)];
        }
        if (length > 1 && random.nextInt(10) < 8) {
            out[1] = 1;
        }
        if (length > 3 && random.nextInt(10) < 8) {
            out[2] = 0;
            out[3] = 0;
        }
        if (length > 100 && random.nextBoolean()) {
            out[100] = (byte) random.nextInt(10); // a plausible REGISTER candidate count
        }
        return out;
    }

    /** A copy of {@code valid} with one to four random mutations. */
    public byte[] mutate(byte[] valid) {
        byte[] out = valid.clone();
        int mutations = 1 + random.nextInt(4);
        for (int m = 0; m < mutations; m++) {
            switch (random.nextInt(6)) {
                case 0, 1 -> {
                    if (out.length > 0) {
                        int bit = random.nextInt(out.length * 8);
                        out[bit / 8] ^= (byte) (1 << (bit % 8));
                    }
                }
                case 2 -> {
                    if (out.length > 0) {
                        out[random.nextInt(out.length)] = (byte) random.nextInt(256);
                    }
                }
                case 3 -> out = Arrays.copyOf(out, random.nextInt(out.length + 1));
                case 4 -> {
                    byte[] longer = Arrays.copyOf(out, out.length + 1 + random.nextInt(32));
                    if (random.nextBoolean()) {
                        for (int i = out.length; i < longer.length; i++) {
                            longer[i] = (byte) random.nextInt(256);
                        }
                    }
                    out = longer;
                }
                default -> {
                    if (out.length > 0) {
                        int at = random.nextInt(out.length);
                        out[at] = (byte) (random.nextBoolean() ? 0 : 0xff);
                    }
                }
            }
        }
        return out;
    }

    /** Encodes {@code message} into an array, sealed with {@code macKey}. */
    public static byte[] encode(ControlMessage message, byte[] macKey) {
        return WireSamples.bytes(message.encode(macKey));
    }

    /** A buffer over {@code bytes}. */
    public static ByteBuffer wrap(byte[] bytes) {
        return ByteBuffer.wrap(bytes);
    }
}
