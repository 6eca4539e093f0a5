package io.pinhole.wire;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/** WireSamples: keys, endpoints and valid messages shared by the unit tests. */
public final class WireSamples {
    private WireSamples() {
    }

    /** The MAC key the wire tests seal with: bytes a0..bf. Any 32 bytes do; the MAC is over bytes only. */
    public static final byte[] MAC_KEY = sequence(0xa0, 32);
    /** A cookie whose bytes are c0..cf. */
    public static final byte[] COOKIE = sequence(0xc0, 16);

    /** A public key whose bytes are {@code first, first+1, ..., first+31}: easy to spot in a dump. */
    public static NoisePublicKey key(int first) {
        return NoisePublicKey.fromBytes(sequence(first, 32));
    }

    /** A private key whose raw (unclamped) bytes are {@code seed} repeated: deterministic and distinct per seed. */
    public static NoisePrivateKey privateKey(int seed) {
        byte[] raw = new byte[32];
        Arrays.fill(raw, (byte) seed);
        raw[1] = (byte) (seed * 31 + 7);
        try {
            return NoisePrivateKey.parse(Base64.getEncoder().encodeToString(raw));
        } catch (io.pinhole.crypto.KeyFormatException e) {
            throw new AssertionError(e);
        }
    }

    /** A deterministic SecureRandom (SHA1PRNG seeded before first use). */
    public static SecureRandom seededRandom(long seed) {
        try {
            SecureRandom r = SecureRandom.getInstance("SHA1PRNG");
            r.setSeed(seed);
            return r;
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** {@code count} bytes counting up from {@code first} (mod 256). */
    public static byte[] sequence(int first, int count) {
        byte[] out = new byte[count];
        for (int i = 0; i < count; i++) {
            out[i] = (byte) (first + i);
        }
        return out;
    }

    /** An endpoint from a literal address (no name lookup). */
    public static InetSocketAddress endpoint(String literal, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(literal), port);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    public static final InetSocketAddress V4 = endpoint("192.0.2.1", 51820);
    public static final InetSocketAddress V6 = endpoint("2001:db8::1", 443);

    /** {@code n} candidates alternating IPv4 and IPv6, all different. */
    public static List<InetSocketAddress> candidates(int n) {
        List<InetSocketAddress> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(i % 2 == 0 ? endpoint("10.0." + i + "." + (i + 1), 50000 + i)
                    : endpoint("fd00::" + Integer.toHexString(i + 1), 60000 + i));
        }
        return list;
    }

    /** Valid control messages of every type, IPv4 and IPv6, with 0, 1 and 8 candidates. */
    public static List<ControlMessage> validMessages() {
        List<ControlMessage> list = new ArrayList<>();
        for (InetSocketAddress observed : List.of(V4, V6)) {
            for (int n : new int[] {0, 1, 8}) {
                List<InetSocketAddress> cands = n == 1 ? List.of(observed) : candidates(n);
                list.add(new Register(key(1), key(33), 0x0102030405060708L, 1_700_000_000_000_000L, COOKIE, cands,
                        sequence(0x40, 16)));
                list.add(new PeerInfo(0x0102030405060708L, 1_700_000_000_000_000L, key(65), -1L,
                        1_700_000_000_000_001L, observed, cands));
            }
            list.add(new Registered(42L, 1_700_000_000_000_000L, 20, observed));
            list.add(new Registered(Long.MIN_VALUE, Long.MAX_VALUE, 65535, observed));
        }
        list.add(new Register(key(1), key(33), 0L, 0L, null, List.of()));
        list.add(new Register(key(1), key(33), -1L, Long.MAX_VALUE, sequence(0xf0, 16), List.of(V6, V6, V6, V6, V6,
                V6, V6, V6)));
        list.add(new PeerInfo(-1L, Long.MIN_VALUE, key(65), 0L, 0L, endpoint("255.255.255.255", 65535), candidates(8)));
        list.add(new Register(key(1), key(33), 7L, 1L, COOKIE, List.of(endpoint("0.0.0.0", 0))));
        list.add(new Punch(key(1), key(33), 0x1122334455667788L, 0L, 1L, false));
        list.add(new Punch(key(33), key(1), Long.MAX_VALUE, Long.MIN_VALUE, -1L, true));
        list.add(new Leave(key(1), 99L, 1_700_000_000_000_001L));
        list.add(new Leave(key(200), Long.MIN_VALUE, 0L));
        list.add(new Challenge(key(97), COOKIE, sequence(0x40, 16)));
        list.add(new Challenge(key(0), new byte[16], new byte[16]));
        return list;
    }

    /** True for every message that ends with a MAC (all but CHALLENGE). */
    public static boolean authenticated(ControlMessage message) {
        return !(message instanceof Challenge);
    }

    /** The encoding of {@code message} sealed with {@link #MAC_KEY}, as an array. */
    public static byte[] sealed(ControlMessage message) {
        return bytes(message.encode(MAC_KEY));
    }

    /** The bytes between position and limit, without consuming them. */
    public static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    /** Parses hex with any white space, e.g. {@code "50 01 00 00"}. */
    public static byte[] hex(String spaced) {
        return HexFormat.of().parseHex(spaced.replaceAll("\\s+", ""));
    }

    /** A buffer over {@code bytes}. */
    public static ByteBuffer wrap(byte[] bytes) {
        return ByteBuffer.wrap(bytes);
    }
}
