package io.pinhole.wire;

import io.pinhole.crypto.Blake2s;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * ControlKeys: the MAC keys of pinhole's control messages, each derived from a static-static
 * X25519 Diffie-Hellman so that only the holders of the private keys can compute them:
 * <ul>
 *   <li>peer-server: HASH("pinhole rendezvous v1" || DH(peer, server) || peer public || server public);
 *   <li>peer-peer: HASH("pinhole punch v1" || DH(a, b) || lower public key || higher public key),
 *       the same on both sides.
 * </ul>
 * These keys authenticate control messages only; tunnel traffic is WireGuard's, keyed by its
 * own handshake. Stateless and thread-safe. The DH result is zeroed once hashed; the key returned
 * is the caller's to zero.
 *
 * <p>Error contract: {@link IllegalArgumentException} when the DH is all zero (a low-order
 * public key): no key exists for such a peer.
 */
public final class ControlKeys {
    private static final byte[] RENDEZVOUS_LABEL = "pinhole rendezvous v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PUNCH_LABEL = "pinhole punch v1".getBytes(StandardCharsets.US_ASCII);

    private ControlKeys() {
    }

    /** The key a peer shares with the server, computed by the peer. */
    public static byte[] peerServer(NoisePrivateKey peer, NoisePublicKey server) {
        return hash(RENDEZVOUS_LABEL, peer.sharedSecret(server), peer.publicKey().toBytes(), server.toBytes());
    }

    /** The same key, computed by the server. */
    public static byte[] serverPeer(NoisePrivateKey server, NoisePublicKey peer) {
        return hash(RENDEZVOUS_LABEL, server.sharedSecret(peer), peer.toBytes(), server.publicKey().toBytes());
    }

    /** The key two peers share for PUNCH and peer-to-peer LEAVE. */
    public static byte[] peerPeer(NoisePrivateKey self, NoisePublicKey other) {
        byte[] a = self.publicKey().toBytes();
        byte[] b = other.toBytes();
        boolean selfFirst = Arrays.compareUnsigned(a, b) < 0;
        return hash(PUNCH_LABEL, self.sharedSecret(other), selfFirst ? a : b, selfFirst ? b : a);
    }

    /** HASH(label || dh || first || second); zeroes {@code dh}, which is no longer needed. */
    private static byte[] hash(byte[] label, byte[] dh, byte[] first, byte[] second) {
        try {
            return Blake2s.hash(32, label, dh, first, second);
        } finally {
            Arrays.fill(dh, (byte) 0);
        }
    }
}
