package io.pinhole.wireguard;

import io.pinhole.wire.Transmit;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * SessionOutput: what a {@link WireGuardSession} produces. The session calls these
 * synchronously and they must not call back into it.
 */
public interface SessionOutput extends Transmit {
    /** Sends to the peer's current endpoint (the caller drops it when there is none). */
    void sendToPeer(ByteBuffer datagram);

    /** Writes a decrypted IP packet to the TUN device. */
    void deliver(ByteBuffer ipPacket);

    /**
     * An authenticated message arrived from {@code from}: the peer is alive, and its endpoint
     * is {@code from} from now on (roaming). Called before any reply is sent.
     */
    void authenticated(InetSocketAddress from);
}
