package io.pinhole.wireguard;

/**
 * IndexAllocator: hands out the local receiver indices of the {@link WireGuardSession}s that
 * share one UDP socket, so that an index names one session across all of them (a device routes
 * a response, cookie reply or transport message to its session by the receiver index alone).
 *
 * <p>A session without an allocator picks its own random indices, unique within itself only.
 *
 * <p>Thread-safety: called by the session inside its own calls, which the caller serialises; an
 * allocator shared by several sessions relies on all of them being called from one thread (or
 * under one lock).
 *
 * <p>Error contract: never fails; an implementation loops until it finds a free index.
 */
@FunctionalInterface
public interface IndexAllocator {
    /**
     * A new non-zero index that no session sharing this allocator uses now (its keypairs, and its
     * handshake in progress). The calling session's own indices count as used.
     */
    int allocate();
}
