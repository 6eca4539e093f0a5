package io.pinhole.peer;

/**
 * PeerState: the lifecycle of a {@link PeerMachine}.
 *
 * <pre>
 *  REGISTERING --REGISTERED--> WAITING_FOR_PEER --PEER_INFO--> PUNCHING --packet from peer--> CONNECTED
 *       |                            ^   ^                        |                              |
 *       +--------PEER_INFO-----------|---|----------------------->|                              |
 *                                    |   +-- round ends, no answer+                              |
 *                                    +------------- peer says LEAVE ----------------------------+
 *                        PUNCHING &lt;-- 15 s silence (dead): punch the last endpoint, re-register --+
 *  any state --leave()--> CLOSED
 * </pre>
 */
public enum PeerState {
    /** Waiting for the rendezvous server to accept our registration. */
    REGISTERING,
    /** Registered; the partner has not registered yet. */
    WAITING_FOR_PEER,
    /** Sending punches to the partner's candidates until one answers. */
    PUNCHING,
    /** A direct path works; IP packets flow. */
    CONNECTED,
    /** Left; the machine does nothing more. */
    CLOSED
}
