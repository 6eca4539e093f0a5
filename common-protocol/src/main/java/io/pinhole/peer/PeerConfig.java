package io.pinhole.peer;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wireguard.SessionTimers;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * PeerConfig: what a {@link PeerMachine} needs to know. Immutable.
 *
 * <p>Three modes: with a {@code rendezvous} the peers find each other through the server and
 * punch; with a {@code staticEndpoint} (and no rendezvous) the peer is contacted there directly,
 * as plain WireGuard does; with neither, we only listen until the peer contacts us.
 *
 * @param key our static private key
 * @param peer the partner's public key
 * @param presharedKey WireGuard's optional pre-shared key (32 bytes) or null
 * @param rendezvous the rendezvous server's resolved endpoint, or null
 * @param rendezvousKey the server's public key to insist on, or null to learn it from the server
 * @param staticEndpoint the partner's resolved endpoint when known in advance, or null
 * @param candidates our own LAN endpoints, reported to the partner through the server
 * @param timers pinhole's timing choices
 * @param session WireGuard session choices (MTU, staging, load thresholds)
 * @param traversal NAT traversal choices (relay, openers, path fallback)
 * @param allowedIps the partner's allowed IPs (cryptokey routing): a packet decrypted from the
 *     partner reaches the TUN device only from a source in them, and a packet read from the TUN
 *     device goes to the partner only to a destination in them; {@code pinhole up} gives its
 *     {@code --remote}/32 and its {@code --allowed-ips}
 */
public record PeerConfig(NoisePrivateKey key, NoisePublicKey peer, byte[] presharedKey, InetSocketAddress rendezvous,
                         NoisePublicKey rendezvousKey, InetSocketAddress staticEndpoint,
                         List<InetSocketAddress> candidates, PeerTimers timers, SessionTimers session,
                         Traversal traversal, AllowedIps allowedIps) {
    public PeerConfig {
        java.util.Objects.requireNonNull(allowedIps, "allowedIps");
        candidates = List.copyOf(candidates.subList(0, Math.min(candidates.size(), ControlMessage.MAX_CANDIDATES)));
        if (key.publicKey().equals(peer)) {
            throw new IllegalArgumentException("the peer's public key is our own: each side needs its own key pair");
        }
        if (rendezvous != null && rendezvous.isUnresolved()) {
            throw new IllegalArgumentException("rendezvous endpoint must be resolved: " + rendezvous);
        }
        if (staticEndpoint != null && staticEndpoint.isUnresolved()) {
            throw new IllegalArgumentException("peer endpoint must be resolved: " + staticEndpoint);
        }
        if (rendezvous != null && staticEndpoint != null) {
            throw new IllegalArgumentException("a rendezvous server and a static peer endpoint exclude each other");
        }
        presharedKey = presharedKey == null ? null : presharedKey.clone();
    }

    /**
     * The configuration before cryptokey routing: the partner's allowed IPs are
     * {@link AllowedIps#ANY} (every IPv4 and IPv6 address, as a WireGuard peer with
     * {@code AllowedIPs = 0.0.0.0/0, ::/0}); what is not IP is still dropped.
     */
    public PeerConfig(NoisePrivateKey key, NoisePublicKey peer, byte[] presharedKey, InetSocketAddress rendezvous,
                      NoisePublicKey rendezvousKey, InetSocketAddress staticEndpoint,
                      List<InetSocketAddress> candidates, PeerTimers timers, SessionTimers session,
                      Traversal traversal) {
        this(key, peer, presharedKey, rendezvous, rendezvousKey, staticEndpoint, candidates, timers, session, traversal,
                AllowedIps.ANY);
    }

    /** Rendezvous mode with default timers (allowed IPs {@link AllowedIps#ANY}). */
    public static PeerConfig viaRendezvous(NoisePrivateKey key, NoisePublicKey peer, InetSocketAddress rendezvous,
                                           List<InetSocketAddress> candidates) {
        return new PeerConfig(key, peer, null, rendezvous, null, null, candidates, PeerTimers.defaults(),
                SessionTimers.defaults(), Traversal.defaults());
    }

    /** A copy with other traversal choices. */
    public PeerConfig withTraversal(Traversal other) {
        return new PeerConfig(key, peer, presharedKey, rendezvous, rendezvousKey, staticEndpoint, candidates, timers,
                session, other, allowedIps);
    }

    /** A copy with other allowed IPs for the partner. */
    public PeerConfig withAllowedIps(AllowedIps other) {
        return new PeerConfig(key, peer, presharedKey, rendezvous, rendezvousKey, staticEndpoint, candidates, timers,
                session, traversal, other);
    }

    /** True when the relay may carry the tunnel: rendezvous mode with the relay turned on. */
    public boolean usesRelay() {
        return rendezvous != null && traversal.relay();
    }

    /** True when the peers meet through a rendezvous server. */
    public boolean usesRendezvous() {
        return rendezvous != null;
    }
}
