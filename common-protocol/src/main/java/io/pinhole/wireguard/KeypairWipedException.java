package io.pinhole.wireguard;

/**
 * KeypairWipedException: a {@link Keypair} whose keys were zeroed (it was dropped) was asked to
 * seal or open. Fails closed: nothing is sealed or opened under an all-zero key.
 * {@link WireGuardSession} never lets it escape (it checks {@link Keypair#wiped()} first and
 * counts a drop), so seeing one means a bug in the session.
 */
final class KeypairWipedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    KeypairWipedException(int localIndex) {
        super("keypair " + Integer.toUnsignedString(localIndex, 16) + " was dropped and its keys zeroed");
    }
}
