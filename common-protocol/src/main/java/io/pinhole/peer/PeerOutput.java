package io.pinhole.peer;

import io.pinhole.wire.Transmit;
import java.nio.ByteBuffer;

/**
 * PeerOutput: everything a {@link PeerMachine} produces: datagrams to send (from
 * {@link Transmit}) and IP packets to write to the TUN device. The machine calls these
 * synchronously; implementations must not call back into the machine.
 */
public interface PeerOutput extends Transmit {
    /** Writes one IP packet (position..limit) to the TUN device. */
    void deliver(ByteBuffer ipPacket);
}
