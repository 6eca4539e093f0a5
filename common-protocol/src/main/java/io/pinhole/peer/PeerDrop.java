package io.pinhole.peer;

/** PeerDrop: why the client dropped a datagram or an IP packet. */
public enum PeerDrop {
    /** Not a well-formed pinhole message. */
    MALFORMED,
    /** A server message from somewhere other than the rendezvous server. */
    NOT_FROM_RENDEZVOUS,
    /** A message naming keys other than ours and our partner's. */
    WRONG_KEY,
    /** A LEAVE from a session that is not our partner's current one. */
    WRONG_SESSION,
    /** A REGISTERED for another session, for no recent REGISTER of ours, or older than one already taken (a replay). */
    STALE_REGISTERED,
    /** A PEER_INFO for another session, for no recent REGISTER of ours, or not newer than one already taken (a replay). */
    STALE_PEER_INFO,
    /** A CHALLENGE that does not echo the nonce of a REGISTER of ours in flight: forged, replayed or late. */
    STALE_CHALLENGE,
    /** A control message whose MAC is wrong: forged, corrupted, or keyed for someone else. */
    BAD_MAC,
    /**
     * A CHALLENGE naming a server key other than the one pinned with --rendezvous-key or, unpinned,
     * the first one this run learnt (trust on first use).
     */
    SERVER_KEY_MISMATCH,
    /** A CHALLENGE while no REGISTER of ours was waiting for an answer. */
    UNSOLICITED_CHALLENGE,
    /** A PUNCH probe older than one already accepted, or an ack to no recent probe of ours. */
    STALE_PUNCH,
    /** A RELAY frame while the relay is turned off (--no-relay). */
    RELAY_OFF,
    /** A datagram on a spare socket that is not open, or a server message on a spare socket. */
    WRONG_SOCKET,
    /** A datagram that is neither WireGuard nor a pinhole control message. */
    UNSUPPORTED_TYPE,
    /** An IP packet from the TUN device dropped because the staging queue was full. */
    STAGED_OVERFLOW,
    /** An IP packet from the TUN device that is empty or too large to send. */
    BAD_TUN_PACKET,
    /**
     * A probe or an authenticated packet from an address inside our own tunnel (see
     * {@link PeerOutput#throughTunnel}): never answered, never a path.
     */
    THROUGH_TUNNEL,
    /** An IP packet from the TUN device that is our own datagram to the path or the server: the tunnel would carry itself. */
    TUNNEL_LOOP,
    /** An authenticated packet from a new address while path moves are held off (too many moves too fast). */
    PATH_MOVES_HELD,
    /**
     * An IPv4 or IPv6 packet decrypted from the partner whose source address is outside the
     * partner's allowed IPs ({@link PeerConfig#allowedIps()}): spoofed, never written to TUN.
     */
    WRONG_SOURCE,
    /** An IPv6 packet decrypted from the partner while its allowed IPs hold no IPv6 network. */
    IPV6_NOT_ALLOWED,
    /** A packet decrypted from the partner, or read from the TUN device, that is not IPv4 or IPv6. */
    NOT_IP,
    /** An IP packet from the TUN device whose destination is outside the partner's allowed IPs. */
    DESTINATION_NOT_ALLOWED
}
