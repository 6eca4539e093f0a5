package io.pinhole.peer;

import io.pinhole.wire.Transmit;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * PeerOutput: everything a {@link PeerMachine} produces: datagrams to send (from
 * {@link Transmit}) and IP packets to write to the TUN device. The machine calls these
 * synchronously; implementations must not call back into the machine.
 */
public interface PeerOutput extends Transmit {
    /** Writes one IP packet (position..limit) to the TUN device. */
    void deliver(ByteBuffer ipPacket);

    /**
     * Sends a datagram with the IP time-to-live limited to {@code ttl} hops, so that it opens
     * mappings in our own NATs without reaching the partner's (see {@link Traversal#openerTtl()}).
     * An edge that cannot limit the TTL must not send it at full TTL: the default drops it.
     *
     * @return true if the datagram was sent with that TTL
     */
    default boolean sendWithTtl(InetSocketAddress to, ByteBuffer datagram, int ttl) {
        return false;
    }
}
