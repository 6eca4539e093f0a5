package io.pinhole.wireguard;

import io.pinhole.crypto.NoisePublicKey;
import java.net.InetSocketAddress;

/**
 * DecryptedInitiation: a handshake initiation that {@link InitiationGate} admitted (mac1, and
 * mac2 under load) and decrypted once for a whole device, before it is known which of the
 * device's sessions it is for: the initiator's static key says that. Hand it to exactly one
 * session ({@link WireGuardSession#receiveInitiation}), which takes its secrets or zeroes them,
 * or {@link #wipe()} it.
 *
 * <p>Holds the handshake's chaining key and hash (secrets) until taken or wiped. Not thread-safe.
 */
public final class DecryptedInitiation {
    final Handshake.Initiation initiation;
    final InetSocketAddress from;
    private boolean used;

    DecryptedInitiation(Handshake.Initiation initiation, InetSocketAddress from) {
        this.initiation = initiation;
        this.from = from;
    }

    /** The initiator's static public key: the peer it claims to be (authenticated by the decryption). */
    public NoisePublicKey initiator() {
        return initiation.remoteStatic();
    }

    /** Where it came from. */
    public InetSocketAddress from() {
        return from;
    }

    /** Zeroes its secrets (for one no session takes). Idempotent. */
    public void wipe() {
        used = true;
        initiation.wipe();
    }

    /** Marks it taken; false if it was taken or wiped before (each is used once). */
    boolean take() {
        if (used) {
            return false;
        }
        used = true;
        return true;
    }
}
