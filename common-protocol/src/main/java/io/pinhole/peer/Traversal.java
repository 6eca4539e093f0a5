package io.pinhole.peer;

import java.time.Duration;

/**
 * Traversal: how hard a {@link PeerMachine} tries to find a path, and which fallbacks it may
 * use. Immutable; implementation choices, not a specification.
 *
 * @param relay use the rendezvous server's relay: traffic starts on it at once, moves to a
 *     direct path as soon as one answers, and falls back to it when the direct path goes silent
 * @param openerTtl before punching to a target, send one datagram with this IP TTL, which opens
 *     our own NAT's mapping but dies before the partner's NAT (as ZeroTier does), so the
 *     partner's first probe cannot land on its NAT first and make it remap our port; 0 = off
 * @param openerLead how long after the openers the full punches start (covers the difference
 *     between the two peers' PEER_INFO arrival)
 * @param directSilent on a direct path, fall back to the relay after this long without an
 *     authenticated packet from that path
 * @param upgradeInterval while relayed, try for a direct path again this often (jittered by up
 *     to a tenth)
 * @param lanSettle after a direct path opens on a non-LAN address, keep probing the partner's LAN
 *     candidates this long for a better one
 * @param birthday when a plain punching round fails while on the relay, try the birthday
 *     approach for a NAT with endpoint-dependent mapping (symmetric): 256 spare sockets opened
 *     towards the partner and up to 2,048 probes to random ports of its address, on the first
 *     failure and then on every 5th upgrade attempt (see {@code PeerMachine}); needs the relay and
 *     an edge with spare sockets ({@link PeerOutput#openSpareSockets})
 */
public record Traversal(boolean relay, int openerTtl, Duration openerLead, Duration directSilent,
                        Duration upgradeInterval, Duration lanSettle, boolean birthday) {
    /**
     * Defaults: relay on, TTL-2 openers 1 s ahead (the two peers' PEER_INFOs can be handled a few
     * hundred ms apart on a busy machine; the tunnel runs on the relay meanwhile), fall back after
     * 8 s, retry direct every 60 s, birthday on.
     */
    public static Traversal defaults() {
        return new Traversal(true, 2, Duration.ofSeconds(1), Duration.ofSeconds(8), Duration.ofSeconds(60),
                Duration.ofSeconds(1), true);
    }

    public Traversal {
        if (openerTtl < 0 || openerTtl > 255) {
            throw new IllegalArgumentException("opener TTL must be 0 (off) to 255, not " + openerTtl);
        }
    }

    /** A copy with the relay turned on or off. */
    public Traversal withRelay(boolean on) {
        return new Traversal(on, openerTtl, openerLead, directSilent, upgradeInterval, lanSettle, birthday);
    }

    /** A copy with another opener TTL (0 = no openers). */
    public Traversal withOpenerTtl(int ttl) {
        return new Traversal(relay, ttl, openerLead, directSilent, upgradeInterval, lanSettle, birthday);
    }

    /** A copy with birthday punching turned on or off. */
    public Traversal withBirthday(boolean on) {
        return new Traversal(relay, openerTtl, openerLead, directSilent, upgradeInterval, lanSettle, on);
    }
}
