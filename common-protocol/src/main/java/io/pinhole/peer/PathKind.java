package io.pinhole.peer;

/** PathKind: how IP packets reach the partner right now. */
public enum PathKind {
    /** No path: registering, waiting for the partner, or punching without a relay. */
    NONE,
    /** Straight to the partner's endpoint (a LAN address, its public mapping, or a hairpin). */
    DIRECT,
    /** Through the rendezvous server's relay (still end-to-end WireGuard; the server cannot read it). */
    RELAYED
}
