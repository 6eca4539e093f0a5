package io.pinhole.wireguard;

import static io.pinhole.wireguard.Messages.INITIATION_EPHEMERAL;
import static io.pinhole.wireguard.Messages.INITIATION_LENGTH;
import static io.pinhole.wireguard.Messages.INITIATION_SENDER;
import static io.pinhole.wireguard.Messages.INITIATION_STATIC;
import static io.pinhole.wireguard.Messages.INITIATION_TIMESTAMP;
import static io.pinhole.wireguard.Messages.RESPONSE_EMPTY;
import static io.pinhole.wireguard.Messages.RESPONSE_EPHEMERAL;
import static io.pinhole.wireguard.Messages.RESPONSE_LENGTH;
import static io.pinhole.wireguard.Messages.RESPONSE_RECEIVER;
import static io.pinhole.wireguard.Messages.RESPONSE_SENDER;

import io.pinhole.crypto.AuthenticationFailedException;
import io.pinhole.crypto.Blake2s;
import io.pinhole.crypto.ChaCha20Poly1305;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.crypto.Tai64n;
import io.pinhole.crypto.WireGuardKdf;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Handshake: the Noise_IKpsk2 handshake of one WireGuard peer, step by step as in the
 * WireGuard whitepaper (section 5.4). Messages are built without mac1/mac2 (see
 * {@link CookieJar}); received messages are given here only after their mac1 was checked.
 *
 * <pre>
 * ZEROED --createInitiation--> INITIATION_CREATED --consumeResponse--> RESPONSE_CONSUMED --derive--> ZEROED
 * ZEROED --acceptInitiation--> INITIATION_CONSUMED --createResponse--> RESPONSE_CREATED  --derive--> ZEROED
 * (accepting an initiation replaces an initiation we created, as in every WireGuard implementation)
 * </pre>
 *
 * <p>Error contract: a message that fails authentication or arrives in the wrong state yields
 * null/false and leaves the state as it was; nothing here throws for network input.
 *
 * <p>Zeroing: every secret a step computes is zeroed before the step returns, whether it succeeds
 * or not: the DH results, the chaining keys and the keys and τ2 derived from them (the KDF zeroes
 * its own intermediates), and the JDK Cipher's copy of the last key
 * ({@link ChaCha20Poly1305#clearKey()}). The chaining key and hash kept between steps are zeroed
 * when they are replaced, when the keypair is derived and on {@link #clear()}. Our ephemeral private
 * key is destroyed as soon as it is no longer needed: the responder's when its response is built,
 * the initiator's when the response is consumed, or when our initiation is replaced (by a newer one
 * or by accepting the peer's) or abandoned ({@link #clear()}).
 *
 * <p>Not thread-safe: owned by one {@link WireGuardSession}.
 */
final class Handshake {
    enum State { ZEROED, INITIATION_CREATED, INITIATION_CONSUMED, RESPONSE_CREATED, RESPONSE_CONSUMED }

    private static final byte[] EMPTY = new byte[0];

    /** What decrypting an initiation revealed, before it is accepted for a peer. */
    record Initiation(NoisePublicKey remoteStatic, byte[] remoteEphemeral, int senderIndex, Tai64n timestamp,
                      byte[] chainKey, byte[] hash) {
        /** Zeroes the chaining key and hash; for an initiation that is not accepted. */
        void wipe() {
            Arrays.fill(chainKey, (byte) 0);
            Arrays.fill(hash, (byte) 0);
        }
    }

    private final Identity id;
    private final SecureRandom random;
    private final ChaCha20Poly1305 aead = new ChaCha20Poly1305();
    private final WireGuardKdf kdf = new WireGuardKdf();

    private State state = State.ZEROED;
    private byte[] chainKey;
    private byte[] hash;
    private NoisePrivateKey localEphemeral;
    /** The ephemeral key made last, destroyed or not (test hook; never used for crypto). */
    private NoisePrivateKey latestEphemeral;
    private byte[] remoteEphemeral;
    private int localIndex;
    private int remoteIndex;
    private Tai64n latestTimestamp;
    private long lastInitiationAcceptedAt;
    private boolean acceptedAny;

    Handshake(Identity id, SecureRandom random) {
        this.id = id;
        this.random = random;
    }

    State state() {
        return state;
    }

    int localIndex() {
        return localIndex;
    }

    int remoteIndex() {
        return remoteIndex;
    }

    /** Test hook: the ephemeral private key made last (by an initiation or a response), or null. */
    NoisePrivateKey latestEphemeral() {
        return latestEphemeral;
    }

    /**
     * Builds an initiation (mac1/mac2 left zero) with sender index {@code index}; it replaces any
     * handshake in progress (whose secrets are zeroed).
     */
    byte[] createInitiation(Tai64n timestamp, int index) {
        byte[] msg = new byte[INITIATION_LENGTH];
        msg[0] = Messages.TYPE_INITIATION;
        Messages.writeIntLe(msg, INITIATION_SENDER, index);
        NoisePrivateKey ephemeral = NoisePrivateKey.generate(random);
        latestEphemeral = ephemeral;
        byte[] c = Protocol.INITIAL_CHAIN_KEY.clone();
        byte[] h = Blake2s.hash(32, Protocol.INITIAL_HASH, id.remotePublicBytes);
        byte[] key = new byte[32];
        byte[] dh = null;
        boolean kept = false;
        try {
            byte[] ephemeralPublic = ephemeral.publicKey().toBytes();
            System.arraycopy(ephemeralPublic, 0, msg, INITIATION_EPHEMERAL, 32);
            kdf.derive(c, ephemeralPublic, c, null, null);
            h = mixHash(h, ephemeralPublic, 0, 32);
            dh = ephemeral.sharedSecret(id.remotePublic);
            kdf.derive(c, dh, c, key, null);
            aead.seal(key, 0, id.localPublicBytes, 0, 32, h, msg, INITIATION_STATIC);
            h = mixHash(h, msg, INITIATION_STATIC, 48);
            kdf.derive(c, id.staticStatic, c, key, null);
            aead.seal(key, 0, timestamp.toBytes(), 0, Tai64n.LENGTH, h, msg, INITIATION_TIMESTAMP);
            h = mixHash(h, msg, INITIATION_TIMESTAMP, 28);
            clear(); // an initiation of ours in flight is replaced: its ephemeral and chaining key go
            chainKey = c;
            hash = h;
            localEphemeral = ephemeral;
            localIndex = index;
            state = State.INITIATION_CREATED;
            kept = true;
            return msg;
        } finally {
            wipe(key, dh);
            aead.clearKey();
            if (!kept) {
                wipe(c, h);
                ephemeral.destroy();
            }
        }
    }

    /**
     * Decrypts an initiation addressed to {@code local} (the responder's first steps); null if
     * it does not authenticate. Does not change any handshake state. The chaining key and hash of
     * the result are the caller's: {@link #acceptInitiation} takes them or zeroes them, and a
     * caller that does not call it zeroes them with {@link Initiation#wipe()}.
     */
    static Initiation decryptInitiation(NoisePrivateKey local, byte[] localPublic, byte[] msg) {
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        WireGuardKdf kdf = new WireGuardKdf();
        byte[] c = Protocol.INITIAL_CHAIN_KEY.clone();
        byte[] h = Blake2s.hash(32, Protocol.INITIAL_HASH, localPublic);
        byte[] key = new byte[32];
        byte[] dhEphemeral = null;
        byte[] dhStatic = null;
        boolean kept = false;
        try {
            byte[] ephemeral = Arrays.copyOfRange(msg, INITIATION_EPHEMERAL, INITIATION_EPHEMERAL + 32);
            kdf.derive(c, ephemeral, c, null, null);
            h = mixHash(h, ephemeral, 0, 32);
            dhEphemeral = local.sharedSecret(NoisePublicKey.fromBytes(ephemeral));
            kdf.derive(c, dhEphemeral, c, key, null);
            byte[] remoteStatic = new byte[32];
            aead.open(key, 0, msg, INITIATION_STATIC, 48, h, remoteStatic, 0);
            h = mixHash(h, msg, INITIATION_STATIC, 48);
            NoisePublicKey remote = NoisePublicKey.fromBytes(remoteStatic);
            dhStatic = local.sharedSecret(remote);
            kdf.derive(c, dhStatic, c, key, null);
            byte[] timestamp = new byte[Tai64n.LENGTH];
            aead.open(key, 0, msg, INITIATION_TIMESTAMP, 28, h, timestamp, 0);
            h = mixHash(h, msg, INITIATION_TIMESTAMP, 28);
            Initiation initiation = new Initiation(remote, ephemeral, Messages.readIntLe(msg, INITIATION_SENDER),
                    Tai64n.fromBytes(timestamp), c, h);
            kept = true;
            return initiation;
        } catch (AuthenticationFailedException | IllegalArgumentException e) {
            return null; // bad AEAD tag, or a low-order point giving an all-zero DH
        } finally {
            wipe(key, dhEphemeral, dhStatic);
            aead.clearKey();
            if (!kept) {
                wipe(c, h);
            }
        }
    }

    /**
     * Accepts a decrypted initiation from our peer unless it replays an old timestamp or comes
     * within {@link Protocol#HANDSHAKE_INITIATION_RATE} of the last accepted one. Either way the
     * initiation's secrets are taken care of: kept when accepted, zeroed when not. Accepting
     * replaces any handshake in progress (our own initiation's ephemeral key is destroyed).
     */
    boolean acceptInitiation(Initiation initiation, long now) {
        if (!initiation.remoteStatic().equals(id.remotePublic)
                || latestTimestamp != null && !initiation.timestamp().isAfter(latestTimestamp)
                || acceptedAny && now - lastInitiationAcceptedAt < Protocol.HANDSHAKE_INITIATION_RATE.toNanos()) {
            initiation.wipe();
            return false;
        }
        latestTimestamp = initiation.timestamp();
        lastInitiationAcceptedAt = now;
        acceptedAny = true;
        clear();
        chainKey = initiation.chainKey();
        hash = initiation.hash();
        remoteEphemeral = initiation.remoteEphemeral();
        remoteIndex = initiation.senderIndex();
        state = State.INITIATION_CONSUMED;
        return true;
    }

    /** Builds the response (mac1/mac2 left zero) with sender index {@code index}; null in the wrong state. */
    byte[] createResponse(int index) {
        if (state != State.INITIATION_CONSUMED) {
            return null;
        }
        byte[] msg = new byte[RESPONSE_LENGTH];
        msg[0] = Messages.TYPE_RESPONSE;
        Messages.writeIntLe(msg, RESPONSE_SENDER, index);
        Messages.writeIntLe(msg, RESPONSE_RECEIVER, remoteIndex);
        NoisePrivateKey ephemeral = NoisePrivateKey.generate(random);
        latestEphemeral = ephemeral;
        try {
            byte[] ephemeralPublic = ephemeral.publicKey().toBytes();
            System.arraycopy(ephemeralPublic, 0, msg, RESPONSE_EPHEMERAL, 32);
            mixResponse(msg, ephemeralPublic, ephemeral, NoisePublicKey.fromBytes(remoteEphemeral),
                    ephemeral, id.remotePublic, true);
        } finally {
            ephemeral.destroy(); // the responder's ephemeral serves these two DHs only
        }
        localIndex = index;
        state = State.RESPONSE_CREATED;
        return msg;
    }

    /** Consumes a response to our initiation; false if it is not one or does not authenticate. */
    boolean consumeResponse(byte[] msg) {
        if (state != State.INITIATION_CREATED || Messages.readIntLe(msg, RESPONSE_RECEIVER) != localIndex) {
            return false;
        }
        try {
            byte[] ephemeral = Arrays.copyOfRange(msg, RESPONSE_EPHEMERAL, RESPONSE_EPHEMERAL + 32);
            NoisePublicKey remoteEphemeralKey = NoisePublicKey.fromBytes(ephemeral);
            if (!mixResponse(msg, ephemeral, localEphemeral, remoteEphemeralKey, id.localPrivate, remoteEphemeralKey,
                    false)) {
                return false;
            }
        } catch (IllegalArgumentException e) {
            return false; // a low-order point giving an all-zero DH
        }
        localEphemeral.destroy(); // the initiator's ephemeral is done with
        localEphemeral = null;
        remoteIndex = Messages.readIntLe(msg, RESPONSE_SENDER);
        state = State.RESPONSE_CONSUMED;
        return true;
    }

    /**
     * The response's steps, which both sides compute alike: mixes the responder's ephemeral public
     * key, the DHs {@code ee} ({@code eeLocal} with {@code eeRemote}) and {@code se}, and the
     * pre-shared key into copies of the chaining key and hash, then seals (responder) or opens
     * (initiator) the empty payload at {@code msg[RESPONSE_EMPTY]}. On success the copies replace
     * the chaining key and hash held (which are zeroed); otherwise the copies are zeroed and the
     * state is as it was. The DH results, τ2 and the key are zeroed in every case.
     *
     * @return false if opening did not authenticate (sealing always succeeds)
     * @throws IllegalArgumentException if a DH is all zero (a low-order point)
     */
    private boolean mixResponse(byte[] msg, byte[] responderEphemeral, NoisePrivateKey eeLocal, NoisePublicKey eeRemote,
                                NoisePrivateKey seLocal, NoisePublicKey seRemote, boolean seal) {
        byte[] c = chainKey.clone();
        byte[] h = hash.clone();
        byte[] tau = new byte[32];
        byte[] key = new byte[32];
        byte[] dhEphemeral = null;
        byte[] dhStatic = null;
        boolean kept = false;
        try {
            kdf.derive(c, responderEphemeral, c, null, null);
            h = mixHash(h, responderEphemeral, 0, 32);
            dhEphemeral = eeLocal.sharedSecret(eeRemote);
            kdf.derive(c, dhEphemeral, c, null, null);
            dhStatic = seLocal.sharedSecret(seRemote);
            kdf.derive(c, dhStatic, c, null, null);
            kdf.derive(c, id.presharedKey, c, tau, key);
            h = mixHash(h, tau, 0, 32);
            if (seal) {
                aead.seal(key, 0, EMPTY, 0, 0, h, msg, RESPONSE_EMPTY);
            } else {
                aead.open(key, 0, msg, RESPONSE_EMPTY, 16, h, EMPTY, 0);
            }
            h = mixHash(h, msg, RESPONSE_EMPTY, 16);
            wipe(chainKey, hash);
            chainKey = c;
            hash = h;
            kept = true;
            return true;
        } catch (AuthenticationFailedException e) {
            return false;
        } finally {
            wipe(tau, key, dhEphemeral, dhStatic);
            aead.clearKey();
            if (!kept) {
                wipe(c, h);
            }
        }
    }

    /**
     * Derives the transport keypair after RESPONSE_CONSUMED (initiator) or RESPONSE_CREATED
     * (responder) and wipes the handshake; null in any other state. The keypair owns its keys.
     */
    Keypair deriveKeypair(long now) {
        boolean initiator;
        if (state == State.RESPONSE_CONSUMED) {
            initiator = true;
        } else if (state == State.RESPONSE_CREATED) {
            initiator = false;
        } else {
            return null;
        }
        byte[] send = new byte[32];
        byte[] receive = new byte[32];
        kdf.derive(chainKey, EMPTY, initiator ? send : receive, initiator ? receive : send, null);
        Keypair keypair = new Keypair(send, receive, localIndex, remoteIndex, now, initiator);
        clear();
        return keypair;
    }

    /**
     * Forgets the handshake in progress (keeps the replay timestamp): zeroes the chaining key and
     * hash and destroys our ephemeral key, if any.
     */
    void clear() {
        wipe(chainKey, hash);
        if (localEphemeral != null) {
            localEphemeral.destroy();
        }
        chainKey = null;
        hash = null;
        localEphemeral = null;
        remoteEphemeral = null;
        state = State.ZEROED;
    }

    /** HASH(h || data[off .. off+len)); zeroes {@code h}, which is always a copy of the method's own. */
    private static byte[] mixHash(byte[] h, byte[] data, int off, int len) {
        Blake2s b = new Blake2s(32);
        b.update(h, 0, h.length);
        b.update(data, off, len);
        Arrays.fill(h, (byte) 0);
        return b.digest();
    }

    /** Zeroes each array given; nulls are skipped. */
    private static void wipe(byte[]... arrays) {
        for (byte[] a : arrays) {
            if (a != null) {
                Arrays.fill(a, (byte) 0);
            }
        }
    }
}
