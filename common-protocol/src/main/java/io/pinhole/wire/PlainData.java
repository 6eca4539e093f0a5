package io.pinhole.wire;

import java.nio.ByteBuffer;
import io.pinhole.wire.MalformedMessageException.Reason;

/**
 * PlainData: the interim data-plane message, an IP packet sent UNENCRYPTED between peers.
 * A zero-length payload is a keepalive. This is replaced by WireGuard transport messages.
 *
 * <pre>
 * +------+--------------------+------------------------------+
 * | hdr  | sender session (8) | IP packet (0..65535 bytes)   |
 * +------+--------------------+------------------------------+
 * </pre>
 *
 * <p>Stateless and thread-safe; written for the packet path, so it allocates only the datagram.
 */
public final class PlainData {
    /** Bytes in front of the IP packet. */
    public static final int OVERHEAD = Header.LENGTH + 8;

    private PlainData() {
    }

    /** A datagram carrying {@code packet} (position..limit, not consumed). */
    public static ByteBuffer encode(long senderSession, ByteBuffer packet) {
        ByteBuffer out = ByteBuffer.allocate(OVERHEAD + packet.remaining());
        Header.write(out, MessageType.PLAIN_DATA);
        out.putLong(senderSession).put(packet.duplicate());
        return out.flip();
    }

    /** The sender session of a PLAIN_DATA datagram, after checking its header. */
    public static long senderSession(ByteBuffer datagram) throws MalformedMessageException {
        ByteBuffer in = datagram.duplicate();
        Header.read(in, MessageType.PLAIN_DATA);
        if (in.remaining() < 8) {
            throw new MalformedMessageException(Reason.TRUNCATED, "PLAIN_DATA truncated");
        }
        return in.getLong();
    }

    /** A view of the IP packet inside a PLAIN_DATA datagram (valid after {@link #senderSession}). */
    public static ByteBuffer payload(ByteBuffer datagram) {
        ByteBuffer view = datagram.duplicate();
        view.position(view.position() + OVERHEAD);
        return view.slice();
    }
}
