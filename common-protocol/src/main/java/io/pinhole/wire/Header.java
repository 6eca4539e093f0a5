package io.pinhole.wire;

import java.nio.ByteBuffer;
import io.pinhole.wire.MalformedMessageException.Reason;

/**
 * Header: the four bytes in front of every pinhole control message (see {@link MessageType}).
 * Stateless and thread-safe.
 */
public final class Header {
    /** Header length in bytes. */
    public static final int LENGTH = 4;
    /** The control-protocol version this build speaks. */
    public static final int VERSION = 1;

    private Header() {
    }

    /** Writes a pinhole header for {@code type}. */
    public static void write(ByteBuffer out, MessageType type) {
        out.put((byte) type.code()).put((byte) VERSION).putShort((short) 0);
    }

    /**
     * Classifies a datagram by its first byte without consuming it.
     *
     * @throws MalformedMessageException if it is too short or its type is unknown
     */
    public static MessageType peekType(ByteBuffer datagram) throws MalformedMessageException {
        if (datagram.remaining() < LENGTH) {
            throw new MalformedMessageException(Reason.TRUNCATED, "datagram of " + datagram.remaining() + " bytes");
        }
        MessageType type = MessageType.ofCode(datagram.get(datagram.position()));
        if (type == null) {
            throw new MalformedMessageException(Reason.UNKNOWN_TYPE,
                    "unknown message type 0x" + Integer.toHexString(datagram.get(datagram.position()) & 0xff));
        }
        return type;
    }

    /**
     * Consumes and checks a pinhole header of the expected type.
     *
     * @throws MalformedMessageException on a short datagram, another type, version or non-zero reserved bytes
     */
    public static void read(ByteBuffer in, MessageType expected) throws MalformedMessageException {
        if (in.remaining() < LENGTH) {
            throw new MalformedMessageException(Reason.TRUNCATED, "header truncated");
        }
        int type = in.get() & 0xff;
        int version = in.get() & 0xff;
        int reserved = in.getShort();
        if (type != expected.code()) {
            throw new MalformedMessageException(Reason.UNKNOWN_TYPE, "expected " + expected + ", got type " + type);
        }
        if (version != VERSION) {
            throw new MalformedMessageException(Reason.BAD_VERSION, expected + " of version " + version
                    + "; this build speaks version " + VERSION);
        }
        if (reserved != 0) {
            throw new MalformedMessageException(Reason.BAD_FIELD, "reserved header bytes are not zero");
        }
    }
}
