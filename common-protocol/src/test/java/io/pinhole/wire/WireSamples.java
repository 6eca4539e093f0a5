package io.pinhole.wire;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** WireSamples: keys, endpoints and valid messages shared by the unit tests. */
public final class WireSamples {
    private WireSamples() {
    }

    /** A public key whose bytes are {@code first, first+1, ..., first+31}: easy to spot in a dump. */
    public static NoisePublicKey key(int first) {
        return NoisePublicKey.fromBytes(sequence(first, 32));
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

    /** Valid control messages of every type, IPv4 and IPv6, with 0 and 8 candidates. */
    public static List<ControlMessage> validMessages() {
        List<ControlMessage> list = new ArrayList<>();
        for (InetSocketAddress observed : List.of(V4, V6)) {
            for (int n : new int[] {0, 1, 8}) {
                List<InetSocketAddress> cands = n == 1 ? List.of(observed) : candidates(n);
                list.add(new Register(key(1), key(33), 0x0102030405060708L, cands));
                list.add(new PeerInfo(key(65), -1L, observed, cands));
            }
            list.add(new Registered(42L, 20, observed));
            list.add(new Registered(Long.MIN_VALUE, 65535, observed));
        }
        list.add(new Register(key(1), key(33), 0L, List.of()));
        list.add(new PeerInfo(key(65), 0L, endpoint("255.255.255.255", 65535), candidates(8)));
        list.add(new Register(key(1), key(33), 7L, List.of(endpoint("0.0.0.0", 0))));
        list.add(new Punch(key(1), key(33), 0x1122334455667788L, false));
        list.add(new Punch(key(33), key(1), Long.MAX_VALUE, true));
        list.add(new Leave(key(1), 99L));
        list.add(new Leave(key(200), Long.MIN_VALUE));
        return list;
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
