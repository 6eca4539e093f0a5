package io.pinhole.wire;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import io.pinhole.wire.MalformedMessageException.Reason;

/**
 * Endpoints: encoding of an IP endpoint (address and UDP port) inside pinhole messages.
 *
 * <pre>
 * +--------+--------+--------+----------------------------------+
 * | family |      port       | address (4 bytes for family 4,   |
 * | 4 or 6 |  (big-endian)   |          16 bytes for family 6)  |
 * +--------+--------+--------+----------------------------------+
 * </pre>
 *
 * <p>Stateless and thread-safe. Decoding throws {@link MalformedMessageException}; it never
 * resolves names.
 */
public final class Endpoints {
    /** The largest encoding (IPv6). */
    public static final int MAX_LENGTH = 1 + 2 + 16;

    private Endpoints() {
    }

    /** Encoded size of {@code endpoint}. */
    public static int length(InetSocketAddress endpoint) {
        return endpoint.getAddress() instanceof Inet4Address ? 7 : 19;
    }

    /** Writes {@code endpoint}, which must be resolved. */
    public static void write(ByteBuffer out, InetSocketAddress endpoint) {
        InetAddress address = endpoint.getAddress();
        if (address == null) {
            throw new IllegalArgumentException("unresolved endpoint " + endpoint);
        }
        byte[] raw = address.getAddress();
        out.put((byte) (raw.length == 4 ? 4 : 6));
        out.putShort((short) endpoint.getPort());
        out.put(raw);
    }

    /** Reads one endpoint. */
    public static InetSocketAddress read(ByteBuffer in) throws MalformedMessageException {
        if (in.remaining() < 3) {
            throw new MalformedMessageException(Reason.TRUNCATED, "endpoint truncated");
        }
        int family = in.get() & 0xff;
        int port = in.getShort() & 0xffff;
        int length = switch (family) {
            case 4 -> 4;
            case 6 -> 16;
            default -> throw new MalformedMessageException(Reason.BAD_FIELD, "bad address family " + family);
        };
        if (in.remaining() < length) {
            throw new MalformedMessageException(Reason.TRUNCATED, "endpoint address truncated");
        }
        byte[] raw = new byte[length];
        in.get(raw);
        try {
            return new InetSocketAddress(InetAddress.getByAddress(raw), port);
        } catch (UnknownHostException e) {
            throw new AssertionError("4 or 16 bytes are always an address", e);
        }
    }
}
