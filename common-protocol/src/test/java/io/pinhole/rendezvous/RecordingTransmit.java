package io.pinhole.rendezvous;

import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.Transmit;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** RecordingTransmit: a Transmit that keeps every datagram, decoded, with its size and raw bytes. */
final class RecordingTransmit implements Transmit {

    /** One datagram the server sent. Equality ignores {@code raw} (the MAC is checked separately). */
    record Reply(InetSocketAddress to, ControlMessage message, int size, byte[] raw) {
        Reply(InetSocketAddress to, ControlMessage message, int size) {
            this(to, message, size, null);
        }

        /** True if the datagram ends with a valid MAC under {@code key}. */
        boolean macValid(byte[] key) {
            return raw != null && ControlMessage.macValid(ByteBuffer.wrap(raw), key);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Reply r && to.equals(r.to) && message.equals(r.message) && size == r.size;
        }

        @Override
        public int hashCode() {
            return Objects.hash(to, message, size);
        }

        @Override
        public String toString() {
            return "Reply[to=" + to + ", " + message + ", " + size + " bytes]";
        }
    }

    private final List<Reply> replies = new ArrayList<>();

    @Override
    public void send(InetSocketAddress to, ByteBuffer datagram) {
        byte[] raw = WireSamples.bytes(datagram);
        try {
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
