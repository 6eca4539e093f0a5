package io.pinhole.wireguard;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.drops.DropCounters;
import io.pinhole.ratelimiter.HandshakeRateLimiter;
import io.pinhole.wire.Transmit;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Map;

/**
 * InitiationGate: the admission and decryption of handshake initiations for a device whose
 * sessions (one per peer) share one static key and one socket. An initiation does not say in
 * the clear which peer sent it; only decrypting it (a Diffie-Hellman with our static key) reveals
 * the initiator's static key, and with it the session it is for. So the gate does, once per
 * initiation, what {@link WireGuardSession} does for one peer before it decrypts: mac1 (before
 * any Diffie-Hellman), and while the device is under load (more than
 * {@link SessionTimers#underLoadPerSecond()} handshake initiations in a second, all peers
 * together) mac2 or a cookie reply, then the per-address rate limit; then the decryption. The
 * result goes to exactly one session with {@link WireGuardSession#receiveInitiation}, which
 * checks the initiator and the timestamp (replay) and answers.
 *
 * <p>Time: monotonic nanoseconds passed to every call.
 *
 * <p>Error contract: {@link #admit} never throws for any datagram; what it cannot use is
 * dropped, counted in {@link #drops()} by {@link GateDrop} reason, and null returned.
 *
 * <p>Not thread-safe: the caller serialises calls (the device's one thread or lock).
 */
public final class InitiationGate {
    private final Identity id;
    private final CookieChecker cookieChecker;
    private final HandshakeRateLimiter rateLimiter;
    private final int underLoadPerSecond;
    private final DropCounters<GateDrop> drops = new DropCounters<>(GateDrop.class);
    private long loadWindowStart;
    private int loadWindowCount;

    /**
     * @param local the device's static private key (the caller's; never zeroed here)
     * @param random randomness for cookie secrets and cookie-reply nonces
     * @param timers the load threshold and the rate limiter's memory bound
     */
    public InitiationGate(NoisePrivateKey local, SecureRandom random, SessionTimers timers) {
        // Only the local half of this identity is used (mac1 and cookie keys, the private key);
        // the static-static DH with ourselves is meaningless and zeroed at once.
        this.id = new Identity(local, local.publicKey(), null);
        id.wipeSecrets();
        this.cookieChecker = new CookieChecker(id, random);
        this.rateLimiter = new HandshakeRateLimiter(timers.rateLimitedAddresses());
        this.underLoadPerSecond = timers.underLoadPerSecond();
    }

    /**
     * Admits and decrypts a handshake initiation (type 1) that arrived from {@code from}; under
     * load, one without a valid mac2 is answered with a cookie reply through {@code out}.
     *
     * @return the decrypted initiation, for one session to take; or null (dropped and counted)
     */
    public DecryptedInitiation admit(long now, InetSocketAddress from, ByteBuffer datagram, Transmit out) {
        if (datagram.remaining() != Messages.INITIATION_LENGTH || Messages.typeOf(datagram) != Messages.TYPE_INITIATION) {
            drops.count(GateDrop.MALFORMED);
            return null;
        }
        byte[] msg = new byte[Messages.INITIATION_LENGTH];
        datagram.duplicate().get(msg);
        if (!cookieChecker.mac1Valid(msg, Messages.INITIATION_MAC1)) {
            drops.count(GateDrop.BAD_MAC1);
            return null;
        }
        if (underLoad(now)) {
            byte[] source = WireGuardSession.sourceBytes(from);
            if (!cookieChecker.mac2Valid(msg, Messages.INITIATION_MAC1, source, now)) {
                drops.count(GateDrop.COOKIE_DEMANDED);
                int sender = Messages.readIntLe(msg, Messages.INITIATION_SENDER);
                out.send(from, ByteBuffer.wrap(cookieChecker.reply(msg, Messages.INITIATION_MAC1, sender, source, now)));
                return null;
            }
            if (!rateLimiter.allow(from.getAddress().getAddress(), now)) {
                drops.count(GateDrop.RATE_LIMITED);
                return null;
            }
        }
        Handshake.Initiation initiation = Handshake.decryptInitiation(id.localPrivate, id.localPublicBytes, msg);
        if (initiation == null) {
            drops.count(GateDrop.HANDSHAKE_FAILED);
            return null;
        }
        return new DecryptedInitiation(initiation, from);
    }

    /** Counts this initiation in the current one-second window; true past the threshold. */
    private boolean underLoad(long now) {
        if (loadWindowCount == 0 || now - loadWindowStart >= 1_000_000_000L) {
            loadWindowStart = now;
            loadWindowCount = 0;
        }
        loadWindowCount++;
        return loadWindowCount > underLoadPerSecond;
    }

    /** Zeroes the cookie secret. The static private key is the caller's. */
    public void close() {
        cookieChecker.wipe();
    }

    /** A snapshot of the drop counters. */
    public Map<GateDrop, Long> drops() {
        return drops.snapshot();
    }
}
