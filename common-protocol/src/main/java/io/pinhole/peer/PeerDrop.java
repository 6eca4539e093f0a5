package io.pinhole.peer;

/** PeerDrop: why the client dropped a datagram or an IP packet. */
public enum PeerDrop {
    /** Not a well-formed pinhole message. */
    MALFORMED,
    /** A server message from somewhere other than the rendezvous server. */
    NOT_FROM_RENDEZVOUS,
    /** A message naming keys other than ours and our partner's. */
    WRONG_KEY,
    /** Data from a session that is not our partner's current one. */
    WRONG_SESSION,
    /** A REGISTERED for an old session. */
    STALE_REGISTERED,
    /** A message type a client does not handle (WireGuard types until the data plane speaks it). */
    UNSUPPORTED_TYPE,
    /** An IP packet from the TUN device dropped because the staging queue was full. */
    STAGED_OVERFLOW,
    /** An IP packet from the TUN device that is empty or too large to send. */
    BAD_TUN_PACKET
}
