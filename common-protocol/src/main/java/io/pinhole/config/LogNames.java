package io.pinhole.config;

/**
 * LogNames: the names of all of pinhole's loggers, in every module, by role rather than by class,
 * so that a log line says which part of pinhole speaks ({@code path - peer "WMm7enn+" ...}) and a
 * name stays the same when code moves between classes. Every name is below {@link #ROOT}; the
 * launchers' logging configuration shows only the part after the last dot.
 *
 * <p>Constants only; thread-safe.
 */
public final class LogNames {
    /** The parent of every pinhole logger: setting its level sets theirs. */
    public static final String ROOT = "pinhole";
    /** Finding the peer and choosing the path: registration, punching, relay and direct paths (PeerMachine). */
    public static final String PATH = ROOT + ".path";
    /** The WireGuard session: handshakes and keys (WireGuardSession). */
    public static final String WIREGUARD = ROOT + ".wireguard";
    /** The rendezvous server: its core, its socket and its command. */
    public static final String RENDEZVOUS = ROOT + ".rendezvous";
    /** The client process around the core: start-up, sockets, status file, shutdown. */
    public static final String CLIENT = ROOT + ".client";
    /** The TUN device. */
    public static final String TUN = ROOT + ".tun";

    private LogNames() {
    }
}
