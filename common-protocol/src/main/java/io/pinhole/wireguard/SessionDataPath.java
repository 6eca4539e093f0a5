package io.pinhole.wireguard;

import io.pinhole.crypto.AuthenticationFailedException;
import io.pinhole.crypto.ChaCha20Poly1305;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * SessionDataPath: the steady-state transport of one {@link WireGuardSession}, for data threads:
 * {@link #seal} encrypts an IP packet with the current keypair into a transport message, and
 * {@link #open} decrypts a transport message for the current or the previous keypair, both
 * without the caller's control lock. Everything else (no usable keypair, a handshake message, a
 * message for the unconfirmed next keypair, anything that does not authenticate) is
 * {@link #DECLINED}: the caller hands it, unchanged, to the control side
 * ({@link WireGuardSession#send} or {@link WireGuardSession#receive}), which handles and counts it
 * as it always did. A message is declined only before its counter is taken by the replay filter,
 * so the control side sees exactly what it would have seen without this path.
 *
 * <p>What the data path learns for the control side it leaves in fields the control side reads on
 * its next call: whether data went out unanswered since when (WireGuard's "sent without reply for
 * KEEPALIVE + REKEY_TIMEOUT" rule), and whether a rekey is due ({@link #takeRekeyWanted}, acted on
 * at the session's next {@link WireGuardSession#tick}, so within one tick; the keypair stays
 * usable for a minute after the rekey time). Time is an argument (monotonic nanoseconds); nothing
 * here reads a clock.
 *
 * <p>Nothing is allocated per packet: the caller passes its buffers and its own
 * {@link ChaCha20Poly1305} (one per thread: it is not thread-safe).
 *
 * <p>Thread-safety: one thread may {@link #seal} while another {@link #open}s and the control side
 * runs the session's methods; each of seal and open is for one thread at a time. The keypair
 * slots it reads are volatile and the keypairs refuse a seal or open that a wipe overlapped
 * ({@link Keypair}): such a packet is declined, and the control side then finds the keypair gone.
 *
 * <p>Error contract: never throws for any datagram or packet; buffers too small for the packet are
 * a programming error ({@link IllegalArgumentException}).
 */
public final class SessionDataPath {
    /** The packet or datagram is the control side's: hand it to the session unchanged. */
    public static final int DECLINED = -1;
    /** An authenticated transport message whose plaintext is not an IP packet (counted here). */
    public static final int NOT_IP = -2;
    /** Where {@link #open} leaves the IP packet in its buffer: after the transport header it replaced. */
    public static final int PLAIN_OFFSET = Messages.TRANSPORT_HEADER_LENGTH;
    /** Bytes a sealed transport message adds to a padded IP packet: header and tag. */
    public static final int OVERHEAD = Messages.TRANSPORT_HEADER_LENGTH + ChaCha20Poly1305.TAG_LENGTH;

    private static final byte[] NO_AAD = new byte[0];

    private final WireGuardSession session;
    private final int mtu;
    private volatile boolean unanswered;
    private volatile long unansweredSince;
    private volatile boolean rekeyWanted;
    private final AtomicLong badInner = new AtomicLong();

    SessionDataPath(WireGuardSession session, int mtu) {
        this.session = session;
        this.mtu = mtu;
    }

    /** The longest transport message {@link #seal} makes for an IP packet of {@code length} bytes. */
    public int sealedLength(int length) {
        return OVERHEAD + WireGuardSession.paddedLength(length, mtu);
    }

    /**
     * Encrypts the IP packet {@code packet} (position to limit, left unchanged) into a transport
     * message at {@code dst[0]} with the current keypair, if it is usable.
     *
     * @param now monotonic nanoseconds
     * @param aead the calling thread's own instance
     * @return the message's length, or {@link #DECLINED} when no keypair is usable now (or the
     *     session closed): then the control side must take the packet
     * @throws IllegalArgumentException if {@code dst} is shorter than {@link #sealedLength}
     */
    public int seal(long now, ByteBuffer packet, byte[] dst, ChaCha20Poly1305 aead) {
        Keypair kp = session.current;
        if (session.closed || !WireGuardSession.usable(kp, now)) {
            return DECLINED;
        }
        int length = packet.remaining();
        int padded = WireGuardSession.paddedLength(length, mtu);
        int total = OVERHEAD + padded;
        if (dst.length < total) {
            throw new IllegalArgumentException("a " + dst.length + "-byte buffer cannot hold a " + total
                    + "-byte transport message");
        }
        if (WireGuardSession.rekeyDueOnSend(kp, now)) {
            rekeyWanted = true;
        }
        long counter = kp.nextCounter();
        if (Long.compareUnsigned(counter, Protocol.REJECT_AFTER_MESSAGES) >= 0) {
            return DECLINED; // another thread took the last counter meanwhile; the control side refuses too
        }
        int body = Messages.TRANSPORT_HEADER_LENGTH;
        packet.get(packet.position(), dst, body, length);
        java.util.Arrays.fill(dst, body + length, body + padded, (byte) 0);
        dst[0] = Messages.TYPE_TRANSPORT;
        dst[1] = 0;
        dst[2] = 0;
        dst[3] = 0;
        putIntLe(dst, Messages.TRANSPORT_RECEIVER, kp.remoteIndex);
        putIntLe(dst, Messages.TRANSPORT_COUNTER, (int) counter);
        putIntLe(dst, Messages.TRANSPORT_COUNTER + 4, (int) (counter >>> 32));
        try {
            kp.seal(aead, counter, dst, body, padded, NO_AAD);
        } catch (KeypairWipedException e) {
            return DECLINED; // wiped while we sealed: the result is not sent
        }
        if (length > 0) {
            markSent(now);
        }
        return total;
    }

    /**
     * Decrypts the transport message {@code datagram} (position to limit, left unchanged) into
     * {@code dst} if it is for the current or the previous keypair, authenticates and is not a
     * replay.
     *
     * @param now monotonic nanoseconds
     * @param aead the calling thread's own instance
     * @return the length of the IP packet now at {@code dst[PLAIN_OFFSET]} (where the transport
     *     header was: room for a header before it, as a TUN virtio header); 0 for a keepalive; {@link #NOT_IP}
     *     for a plaintext that is no IP packet (counted); {@link #DECLINED} for anything the control
     *     side must handle (then nothing was taken from the replay window)
     * @throws IllegalArgumentException if {@code dst} is shorter than the datagram
     */
    public int open(long now, ByteBuffer datagram, byte[] dst, ChaCha20Poly1305 aead) {
        int p = datagram.position();
        int n = datagram.remaining();
        if (n < Messages.TRANSPORT_MIN_LENGTH || datagram.get(p) != Messages.TYPE_TRANSPORT || datagram.get(p + 1) != 0
                || datagram.get(p + 2) != 0 || datagram.get(p + 3) != 0 || session.closed) {
            return DECLINED;
        }
        if (dst.length < n) {
            throw new IllegalArgumentException("a " + dst.length + "-byte buffer cannot hold a " + n + "-byte datagram");
        }
        int receiver = intLe(datagram, p + Messages.TRANSPORT_RECEIVER);
        Keypair current = session.current;
        Keypair kp = current != null && current.localIndex == receiver ? current : session.previous;
        if (kp == null || kp.localIndex != receiver || kp.wiped() || kp.expired(now)) {
            return DECLINED; // the next keypair, an unknown index, or an expired one: the control side's
        }
        long counter = intLe(datagram, p + Messages.TRANSPORT_COUNTER) & 0xffff_ffffL
                | (long) intLe(datagram, p + Messages.TRANSPORT_COUNTER + 4) << 32;
        datagram.get(p, dst, 0, n);
        int body = Messages.TRANSPORT_HEADER_LENGTH;
        int sealed = n - body;
        try {
            kp.openInPlace(aead, counter, dst, body, sealed, NO_AAD);
        } catch (AuthenticationFailedException | KeypairWipedException e) {
            return DECLINED; // the control side opens it again and counts why it fails
        }
        if (!kp.acceptCounter(counter, Protocol.REJECT_AFTER_MESSAGES)) {
            return DECLINED; // a replay: the control side finds the same and counts it
        }
        markAnswered();
        if (kp == current && WireGuardSession.rekeyDueOnReceive(kp, now)) {
            rekeyWanted = true;
        }
        int plain = sealed - ChaCha20Poly1305.TAG_LENGTH;
        if (plain == 0) {
            return 0; // keepalive
        }
        int length = WireGuardSession.innerLength(dst, body, plain);
        if (length < 0) {
            badInner.incrementAndGet();
            return NOT_IP;
        }
        return length;
    }

    /** Data with content went to the peer at {@code now}: starts the "sent without reply" clock if it is not running. */
    void markSent(long now) {
        if (!unanswered) {
            unansweredSince = now;
            unanswered = true;
        }
    }

    /** Something authenticated came from the peer: stops the "sent without reply" clock. */
    void markAnswered() {
        if (unanswered) {
            unanswered = false;
        }
    }

    /** How long data has gone unanswered at {@code now}, or -1 when nothing is unanswered. */
    long unansweredFor(long now) {
        return unanswered ? now - unansweredSince : -1;
    }

    /** True once after a data thread saw a rekey due. */
    boolean takeRekeyWanted() {
        if (!rekeyWanted) {
            return false;
        }
        rekeyWanted = false;
        return true;
    }

    /** Authenticated plaintexts that were no IP packet, opened here. */
    long badInnerPackets() {
        return badInner.get();
    }

    private static void putIntLe(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
        b[at + 2] = (byte) (v >>> 16);
        b[at + 3] = (byte) (v >>> 24);
    }

    private static int intLe(ByteBuffer b, int at) {
        return b.get(at) & 0xff | (b.get(at + 1) & 0xff) << 8 | (b.get(at + 2) & 0xff) << 16 | (b.get(at + 3) & 0xff) << 24;
    }
}
