package io.pinhole.wire;

/**
 * MessageType: the first byte of every datagram on a pinhole socket.
 *
 * <p>Two ranges share one UDP socket. Types 1-4 are WireGuard's (its little-endian 32-bit type
 * field: the type byte followed by three zero bytes); pinhole's own control messages use
 * 0x50-0x5F, followed by a version byte and two zero bytes. Anything else is dropped.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +---------------+---------------+-------------------------------+
 * |     type      | version (=1)  |         reserved (0)          |  pinhole 0x50-0x5F
 * +---------------+---------------+-------------------------------+
 * |     type      |               reserved (0)                    |  WireGuard 1-4
 * +---------------+-----------------------------------------------+
 * </pre>
 */
public enum MessageType {
    /** WireGuard handshake initiation (reserved here; the data plane speaks WireGuard). */
    WG_HANDSHAKE_INITIATION(1),
    /** WireGuard handshake response. */
    WG_HANDSHAKE_RESPONSE(2),
    /** WireGuard cookie reply. */
    WG_COOKIE_REPLY(3),
    /** WireGuard transport data. */
    WG_TRANSPORT_DATA(4),

    /** Peer to server: who I am, whom I want, my LAN candidates. */
    REGISTER(0x50),
    /** Server to peer: registration accepted, and the endpoint the server observed. */
    REGISTERED(0x51),
    /** Server to peer: your partner's observed endpoint and LAN candidates. */
    PEER_INFO(0x52),
    /** Peer to peer: a hole-punching probe, or its acknowledgement. */
    PUNCH(0x53),
    /** Peer to server and peer to peer: this session ends. */
    LEAVE(0x54),
    /** Server to peer: the server's key and an address cookie; register again with them. */
    CHALLENGE(0x56),
    /**
     * Peer to server to peer: one peer-to-peer datagram (WireGuard or PUNCH), forwarded unread by
     * the server to the sender's partner when no direct path works (see {@link Relay}).
     */
    RELAY(0x57);

    private static final MessageType[] BY_CODE = new MessageType[256];

    static {
        for (MessageType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;

    MessageType(int code) {
        this.code = code;
    }

    /** The type byte. */
    public int code() {
        return code;
    }

    /** True for WireGuard's types 1-4. */
    public boolean isWireGuard() {
        return code <= 4;
    }

    /** The type with this first byte, or null when there is none. */
    public static MessageType ofCode(int code) {
        return BY_CODE[code & 0xff];
    }
}
