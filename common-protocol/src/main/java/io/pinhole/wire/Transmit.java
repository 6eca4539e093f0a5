package io.pinhole.wire;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * Transmit: where a protocol machine puts the datagrams it wants sent. The machines never touch
 * a socket; the edge (Netty, a JDK channel, or the simulated network) implements this.
 *
 * <p>Implementations take ownership of {@code datagram} (position..limit); the caller does not
 * reuse it. Implementations must not call back into the machine.
 */
@FunctionalInterface
public interface Transmit {
    void send(InetSocketAddress to, ByteBuffer datagram);
}
