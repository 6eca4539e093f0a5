package io.pinhole.device;

import java.nio.ByteBuffer;

/**
 * DeviceRoutes: which peer of a {@link Device} an IP packet read from the TUN device goes to:
 * the peer whose allowed IPs hold its destination, by longest prefix (WireGuard's cryptokey
 * routing, outbound). The device's peers are numbered 0..n-1 in the order it was given them.
 *
 * <p>An interface so that a faster table (a trie over all peers' networks) can replace the
 * simple {@link DeviceLinearRoutes}.
 *
 * <p>Thread-safety: an implementation is read by the device's data path; it is immutable after
 * construction or safe for concurrent reads. Error contract: never throws for any packet.
 */
public interface DeviceRoutes {
    /** What {@link #lookup} returns when no peer holds the destination. */
    int NO_PEER = -1;
    /** What {@link #lookup} returns for a packet that is not IPv4 or IPv6 (or too short to be one). */
    int NOT_IP = -2;

    /**
     * The peer for the IP packet at {@code packet}'s position (its position and limit are not
     * moved): its number, {@link #NO_PEER} or {@link #NOT_IP}. Allocates nothing.
     */
    int lookup(ByteBuffer packet);
}
