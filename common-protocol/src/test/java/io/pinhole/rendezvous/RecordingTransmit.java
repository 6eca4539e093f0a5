package io.pinhole.rendezvous;

import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.Relay;
import io.pinhole.wire.Transmit;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * RecordingTransmit: a Transmit that keeps every datagram, decoded, with its size and raw bytes. A
 * relayed RELAY frame is kept undecoded (its message is null) once its form is checked.
 */
final class RecordingTransmit implements Transmit {

    /**
     * One datagram the server sent. Equality ignores {@code raw} (the MAC is checked separately),
     * except for a relayed frame, which is its raw bytes.
     */
    record Reply(InetSocketAddress to, ControlMessage message, int size, byte[] raw) {
        Reply(InetSocketAddress to, ControlMessage message, int size) {
            this(to, message, size, null);
        }

        /** A relayed frame: {@code frame} forwarded to {@code to}. */
        static Reply relayed(InetSocketAddress to, byte[] frame) {
            return new Reply(to, null, frame.length, frame);
        }

        /** True for a relayed RELAY frame. */
        boolean isRelay() {
            return message == null;
        }

        /** True if the datagram ends with a valid MAC under {@code key}. */
        boolean macValid(byte[] key) {
            return raw != null && ControlMessage.macValid(ByteBuffer.wrap(raw), key);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Reply r && to.equals(r.to) && Objects.equals(message, r.message) && size == r.size
                    && (message != null || Arrays.equals(raw, r.raw));
        }

        @Override
        public int hashCode() {
            return Objects.hash(to, message, size);
        }

        @Override
        public String toString() {
            return "Reply[to=" + to + ", " + (isRelay() ? "RELAY " + HexFormat.of().formatHex(raw, 0,
                    Math.min(raw.length, 8)) + "..." : message) + ", " + size + " bytes]";
        }
    }

    private final List<Reply> replies = new ArrayList<>();

    @Override
    public void send(InetSocketAddress to, ByteBuffer datagram) {
        byte[] raw = WireSamples.bytes(datagram);
        try {
            if (raw.length > 0 && raw[0] == MessageType.RELAY.code()) {
                Relay.unwrap(ByteBuffer.wrap(raw));
                replies.add(Reply.relayed(to, raw));
                return;
            }
            replies.add(new Reply(to, ControlMessage.decode(ByteBuffer.wrap(raw)), raw.length, raw));
        } catch (MalformedMessageException e) {
            throw new AssertionError("the server sent a malformed datagram: " + e.getMessage());
        }
    }

    /** Everything recorded so far, and forgets it. */
    List<Reply> take() {
        List<Reply> taken = List.copyOf(replies);
        replies.clear();
        return taken;
    }
}
