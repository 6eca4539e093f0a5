package io.pinhole.peer;

import java.net.InetSocketAddress;
import java.util.EnumMap;
import java.util.Map;

/**
 * PeerStatus: a snapshot of one {@link PeerMachine} for logs and {@code pinhole status}.
 * Immutable.
 *
 * @param state the machine's state
 * @param path how packets reach the partner now
 * @param endpoint the partner's endpoint on a direct path, the relay server's on a relayed one,
 *     null without a path
 * @param rttNanos the last round-trip time measured on the current path (a PUNCH probe and its
 *     acknowledgement), or -1 when none has been measured yet
 * @param tunnelUp true when a WireGuard keypair is usable: IP packets flow
 * @param publicEndpoint our endpoint as the rendezvous server sees it, or null
 * @param directAttempts punching rounds started for a direct path (the first one included)
 * @param packetsSent IP packets handed to the tunnel
 * @param packetsReceived IP packets received through the tunnel
 * @param drops what the machine dropped so far, by reason (only reasons that happened; a copy)
 */
public record PeerStatus(PeerState state, PathKind path, InetSocketAddress endpoint, long rttNanos, boolean tunnelUp,
                         InetSocketAddress publicEndpoint, long directAttempts, long packetsSent,
                         long packetsReceived, Map<PeerDrop, Long> drops) {
    public PeerStatus {
        drops = drops.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(new EnumMap<>(drops));
    }

    /** A status with nothing dropped. */
    public PeerStatus(PeerState state, PathKind path, InetSocketAddress endpoint, long rttNanos, boolean tunnelUp,
                      InetSocketAddress publicEndpoint, long directAttempts, long packetsSent, long packetsReceived) {
        this(state, path, endpoint, rttNanos, tunnelUp, publicEndpoint, directAttempts, packetsSent, packetsReceived,
                Map.of());
    }
}
