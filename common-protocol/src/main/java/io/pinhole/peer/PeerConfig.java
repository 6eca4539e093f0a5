package io.pinhole.peer;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.ControlMessage;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * PeerConfig: what a {@link PeerMachine} needs to know. Immutable.
 *
 * @param self our public key
 * @param peer the partner's public key
 * @param rendezvous the rendezvous server's resolved endpoint
 * @param candidates our own LAN endpoints, reported to the partner through the server
 * @param timers timing choices
 * @param stagedLimit how many IP packets to hold while no path works (oldest dropped first)
 */
public record PeerConfig(NoisePublicKey self, NoisePublicKey peer, InetSocketAddress rendezvous,
                         List<InetSocketAddress> candidates, PeerTimers timers, int stagedLimit) {
    public PeerConfig {
        candidates = List.copyOf(candidates.subList(0, Math.min(candidates.size(), ControlMessage.MAX_CANDIDATES)));
        if (self.equals(peer)) {
            throw new IllegalArgumentException("the peer's public key is our own: each side needs its own key pair");
        }
        if (rendezvous.isUnresolved()) {
            throw new IllegalArgumentException("rendezvous endpoint must be resolved: " + rendezvous);
        }
    }

    /** A config with default timers and a staging queue of 128 packets. */
    public static PeerConfig of(NoisePublicKey self, NoisePublicKey peer, InetSocketAddress rendezvous,
                                List<InetSocketAddress> candidates) {
        return new PeerConfig(self, peer, rendezvous, candidates, PeerTimers.defaults(), 128);
    }
}
