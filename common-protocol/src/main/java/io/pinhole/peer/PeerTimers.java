package io.pinhole.peer;

import java.time.Duration;

/**
 * PeerTimers: the client's timing choices (implementation choices, not a specification).
 * Immutable.
 *
 * @param keepaliveIdle send a keepalive when nothing was sent to the peer for this long
 * @param deadAfter the path is dead when nothing was received from the peer for this long
 * @param punchInterval pause between punch bursts while punching
 * @param punchRound give up a punching round after this long and ask the rendezvous again
 * @param registerRetryInitial first wait for a REGISTERED before sending REGISTER again
 * @param registerRetryMax the longest wait between REGISTER retries (exponential backoff)
 * @param refreshFallback how often to refresh a registration if the server names no interval
 * @param waitingRefresh how often to re-register while the partner has not shown up, so that a
 *     lost PEER_INFO is soon sent again
 */
public record PeerTimers(Duration keepaliveIdle, Duration deadAfter, Duration punchInterval, Duration punchRound,
                         Duration registerRetryInitial, Duration registerRetryMax, Duration refreshFallback,
                         Duration waitingRefresh) {
    /** The defaults: keepalive after 5 s idle, dead after 15 s silence, punch every 200 ms for 10 s. */
    public static PeerTimers defaults() {
        return new PeerTimers(Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofMillis(200),
                Duration.ofSeconds(10), Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(20),
                Duration.ofSeconds(5));
    }
}
