package io.pinhole.device;

/**
 * Why a {@link Device} dropped a datagram or a TUN packet before any of its peers saw it (what a
 * peer drops itself is counted by that peer, and initiations refused before decryption by the
 * device's {@link io.pinhole.wireguard.InitiationGate}).
 */
public enum DeviceDrop {
    /** Too short for its type, an unknown type, or an undecodable control message or RELAY frame. */
    MALFORMED,
    /** A message only peers send to the server (REGISTER), or another type a device never takes. */
    UNSUPPORTED_TYPE,
    /** A server message (CHALLENGE, REGISTERED, PEER_INFO, RELAY) from another address than the rendezvous server. */
    NOT_FROM_RENDEZVOUS,
    /** A CHALLENGE echoing no nonce of a REGISTER one of our peers sent lately. */
    UNKNOWN_NONCE,
    /** A REGISTERED or PEER_INFO answering a session that none of our peers has. */
    UNKNOWN_SESSION,
    /** A handshake response, cookie reply or transport message whose receiver index no peer holds. */
    UNKNOWN_INDEX,
    /** A handshake initiation that decrypted, from a static key that is none of our peers. */
    UNKNOWN_INITIATOR,
    /** A PUNCH or LEAVE from a key that is none of our peers. */
    UNKNOWN_SENDER,
    /** An IP packet from the TUN device whose destination no peer's allowed IPs hold. */
    NO_ROUTE,
    /** A TUN packet that is not IPv4 or IPv6, or empty. */
    NOT_IP
}
