package io.pinhole.rendezvous;

import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.Transmit;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** RecordingTransmit: a Transmit that keeps every datagram, decoded, with its size. */
final class RecordingTransmit implements Transmit {

    /** One datagram the server sent. */
    record Reply(InetSocketAddress to, ControlMessage message, int size) {
    }

    private final List<Reply> replies = new ArrayList<>();

    @Override
    public void send(InetSocketAddress to, ByteBuffer datagram) {
        byte[] raw = WireSamples.bytes(datagram);
        try {
            replies.add(new Reply(to, ControlMessage.decode(ByteBuffer.wrap(raw)), raw.length));
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
