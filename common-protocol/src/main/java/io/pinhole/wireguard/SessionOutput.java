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

    /**
     * A decrypted IP packet (its IPv4 or IPv6 length consistent, padding stripped), for the TUN
     * device; the receiver applies cryptokey routing before writing it.
     */
    void deliver(ByteBuffer ipPacket);

    /**
     * A decrypted payload that is not an IPv4 or IPv6 packet of a consistent length was dropped
     * (counted as {@link SessionDrop#BAD_INNER_PACKET}), so the receiver can count it too. Does
     * nothing by default.
     */
    default void notIp() {
    }

    /**
     * An authenticated message arrived from {@code from}: the peer is alive, and its endpoint
     * is {@code from} from now on (roaming). Called before any reply is sent.
     */
    void authenticated(InetSocketAddress from);
}
