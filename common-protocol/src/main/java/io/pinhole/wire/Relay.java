package io.pinhole.wire;

import io.pinhole.wire.MalformedMessageException.Reason;
import java.nio.ByteBuffer;

/**
 * Relay: the RELAY frame, one peer-to-peer datagram carried through the rendezvous server when
 * the peers cannot reach each other directly.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------+---------------+-------------------------------+
 * |  type (0x57)  | version (=1)  |         reserved (0)          |
 * +---------------+---------------+-------------------------------+
 * |                                                               |
 * ~   payload: one WireGuard message (types 1-4) or one PUNCH     ~
 * |                                                               |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * <p>The frame has no MAC of its own: the payload is authenticated end to end (WireGuard's AEAD
 * and MACs, PUNCH's and LEAVE's MAC under the peers' static-static key), and the server, which cannot read
 * it, only checks the form. The sender is known to the server by its registered source
 * endpoint; the server forwards the identical bytes to that registration's partner, so a
 * relayed datagram is never larger than the one that caused it.
 *
 * <p>Stateless and thread-safe.
 */
public final class Relay {
    /** Largest payload: what fits one UDP datagram behind the header. */
    public static final int MAX_PAYLOAD = 65_507 - Header.LENGTH;

    private Relay() {
    }

    /** A new RELAY frame around {@code payload} (position..limit, not consumed). */
    public static ByteBuffer wrap(ByteBuffer payload) {
        if (payload.remaining() > MAX_PAYLOAD) {
            throw new IllegalArgumentException("relay payload of " + payload.remaining() + " bytes exceeds "
                    + MAX_PAYLOAD);
        }
        ByteBuffer frame = ByteBuffer.allocate(Header.LENGTH + payload.remaining());
        Header.write(frame, MessageType.RELAY);
        frame.put(payload.duplicate());
        return frame.flip();
    }

    /**
     * The payload of a RELAY frame (a view, sharing its bytes), after {@link #check}.
     *
     * @throws MalformedMessageException on a bad header, an empty payload, or another payload type
     */
    public static ByteBuffer unwrap(ByteBuffer frame) throws MalformedMessageException {
        check(frame);
        return frame.slice(frame.position() + Header.LENGTH, frame.remaining() - Header.LENGTH);
    }

    /**
     * Checks a RELAY frame's form without reading its payload further than its type: the header,
     * and a payload that is a peer-to-peer message (a WireGuard type, PUNCH or LEAVE). Allocates
     * nothing and does not move the buffer's position (the server runs it on every relayed frame).
     *
     * @throws MalformedMessageException on a bad header, an empty payload, or another payload type
     */
    public static void check(ByteBuffer frame) throws MalformedMessageException {
        int at = frame.position();
        if (frame.remaining() < Header.LENGTH) {
            throw new MalformedMessageException(Reason.TRUNCATED, "RELAY of " + frame.remaining() + " bytes");
        }
        int type = frame.get(at) & 0xff;
        int version = frame.get(at + 1) & 0xff;
        if (type != MessageType.RELAY.code()) {
            throw new MalformedMessageException(Reason.UNKNOWN_TYPE, "expected RELAY, got type " + type);
        }
        if (version != Header.VERSION) {
            throw new MalformedMessageException(Reason.BAD_VERSION, "RELAY of version " + version
                    + "; this build speaks version " + Header.VERSION);
        }
        if (frame.getShort(at + 2) != 0) {
            throw new MalformedMessageException(Reason.BAD_FIELD, "reserved header bytes are not zero");
        }
        if (frame.remaining() == Header.LENGTH) {
            throw new MalformedMessageException(Reason.TRUNCATED, "RELAY without payload");
        }
        if (frame.remaining() < 2 * Header.LENGTH) {
            throw new MalformedMessageException(Reason.TRUNCATED, "RELAY payload of "
                    + (frame.remaining() - Header.LENGTH) + " bytes");
        }
        MessageType inner = MessageType.ofCode(frame.get(at + Header.LENGTH));
        if (inner == null) {
            throw new MalformedMessageException(Reason.UNKNOWN_TYPE, "RELAY carries unknown type 0x"
                    + Integer.toHexString(frame.get(at + Header.LENGTH) & 0xff));
        }
        if (!inner.isWireGuard() && inner != MessageType.PUNCH && inner != MessageType.LEAVE) {
            throw new MalformedMessageException(Reason.BAD_FIELD, "RELAY carries " + inner
                    + "; only WireGuard messages, PUNCH and LEAVE are relayed");
        }
    }
}
