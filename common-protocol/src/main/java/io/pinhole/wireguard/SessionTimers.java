package io.pinhole.wireguard;

/**
 * SessionTimers: pinhole's implementation choices for a {@link WireGuardSession} (the
 * specification's constants are in {@link Protocol}). Immutable.
 *
 * @param mtu the tunnel MTU: transport padding stops here
 * @param stagedLimit IP packets held while no keypair is usable (oldest dropped first)
 * @param underLoadPerSecond above this many handshake messages in one second, demand cookies
 * @param rateLimitedAddresses memory bound of the per-address handshake rate limiter
 */
public record SessionTimers(int mtu, int stagedLimit, int underLoadPerSecond, int rateLimitedAddresses) {
    /** MTU 1420, 128 staged packets, under load above 32 handshakes/s, 4096 rate-limited addresses. */
    public static SessionTimers defaults() {
        return new SessionTimers(1420, 128, 32, 4096);
    }

    public SessionTimers withMtu(int newMtu) {
        return new SessionTimers(newMtu, stagedLimit, underLoadPerSecond, rateLimitedAddresses);
    }
}
