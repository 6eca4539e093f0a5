package io.pinhole.peer;

/**
 * PeerState: the lifecycle of a {@link PeerMachine}.
 *
 * <pre>
 *  REGISTERING --REGISTERED--> WAITING_FOR_PEER --PEER_INFO, relay on--> CONNECTED (relayed; punching beside it)
 *       |                            ^   ^                                  |  ^     direct answer: CONNECTED (direct)
 *       +--PEER_INFO-----------------|---|--> (as from WAITING_FOR_PEER)    |  |     8 s quiet: back to relayed
 *                                    |   |                                  |  |
 *                                    |   +--PEER_INFO, --no-relay--> PUNCHING --first answer--+
 *                                    |   +---- round ends, no answer ------+
 *                                    +------------- peer says LEAVE --------------------------+
 *  CONNECTED --15 s silence (dead)--> relayed and punching again, re-registered (--no-relay: PUNCHING)
 *  any state --leave()--> CLOSED
 * </pre>
 */
public enum PeerState {
    /** Waiting for the rendezvous server to accept our registration. */
    REGISTERING,
    /** Registered; the partner has not registered yet. */
    WAITING_FOR_PEER,
    /** No relay (--no-relay): sending punches to the partner's candidates until one answers. */
    PUNCHING,
    /** A path works, direct or relayed (see {@link PathKind}); IP packets flow once WireGuard is up. */
    CONNECTED,
    /** Left; the machine does nothing more. */
    CLOSED
}
