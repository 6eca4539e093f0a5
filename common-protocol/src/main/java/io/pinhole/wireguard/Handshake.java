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
 * <p>Not thread-safe: owned by one {@link WireGuardSession}.
 */
final class Handshake {
    enum State { ZEROED, INITIATION_CREATED, INITIATION_CONSUMED, RESPONSE_CREATED, RESPONSE_CONSUMED }

    /** What decrypting an initiation revealed, before it is accepted for a peer. */
    record Initiation(NoisePublicKey remoteStatic, byte[] remoteEphemeral, int senderIndex, Tai64n timestamp,
                      byte[] chainKey, byte[] hash) {
    }

    private final Identity id;
    private final SecureRandom random;
    private final ChaCha20Poly1305 aead = new ChaCha20Poly1305();

    private State state = State.ZEROED;
    private byte[] chainKey;
    private byte[] hash;
    private NoisePrivateKey localEphemeral;
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

    /** Builds an initiation (mac1/mac2 left zero) with sender index {@code index}. */
    byte[] createInitiation(Tai64n timestamp, int index) {
        byte[] msg = new byte[INITIATION_LENGTH];
        msg[0] = Messages.TYPE_INITIATION;
        Messages.writeIntLe(msg, INITIATION_SENDER, index);
        byte[] c = Protocol.INITIAL_CHAIN_KEY.clone();
        byte[] h = Blake2s.hash(32, Protocol.INITIAL_HASH, id.remotePublicBytes);
        NoisePrivateKey ephemeral = NoisePrivateKey.generate(random);
        byte[] ephemeralPublic = ephemeral.publicKey().toBytes();
        System.arraycopy(ephemeralPublic, 0, msg, INITIATION_EPHEMERAL, 32);
        c = WireGuardKdf.kdf1(c, ephemeralPublic);
        h = Blake2s.hash(32, h, ephemeralPublic);
        byte[][] ck = WireGuardKdf.kdf2(c, ephemeral.sharedSecret(id.remotePublic));
        c = ck[0];
        aead.seal(ck[1], 0, id.localPublicBytes, 0, 32, h, msg, INITIATION_STATIC);
        h = Blake2s.hash(32, h, Arrays.copyOfRange(msg, INITIATION_STATIC, INITIATION_STATIC + 48));
        ck = WireGuardKdf.kdf2(c, id.staticStatic);
        c = ck[0];
        aead.seal(ck[1], 0, timestamp.toBytes(), 0, Tai64n.LENGTH, h, msg, INITIATION_TIMESTAMP);
        h = Blake2s.hash(32, h, Arrays.copyOfRange(msg, INITIATION_TIMESTAMP, INITIATION_TIMESTAMP + 28));
        chainKey = c;
        hash = h;
        localEphemeral = ephemeral;
        localIndex = index;
        state = State.INITIATION_CREATED;
        return msg;
    }

    /**
     * Decrypts an initiation addressed to {@code local} (the responder's first steps); null if
     * it does not authenticate. Does not change any handshake state.
     */
    static Initiation decryptInitiation(NoisePrivateKey local, byte[] localPublic, byte[] msg) {
        try {
            ChaCha20Poly1305 aead = new ChaCha20Poly1305();
            byte[] c = Protocol.INITIAL_CHAIN_KEY.clone();
            byte[] h = Blake2s.hash(32, Protocol.INITIAL_HASH, localPublic);
            byte[] ephemeral = Arrays.copyOfRange(msg, INITIATION_EPHEMERAL, INITIATION_EPHEMERAL + 32);
            c = WireGuardKdf.kdf1(c, ephemeral);
            h = Blake2s.hash(32, h, ephemeral);
            byte[][] ck = WireGuardKdf.kdf2(c, local.sharedSecret(NoisePublicKey.fromBytes(ephemeral)));
            c = ck[0];
            byte[] remoteStatic = new byte[32];
            aead.open(ck[1], 0, msg, INITIATION_STATIC, 48, h, remoteStatic, 0);
            h = Blake2s.hash(32, h, Arrays.copyOfRange(msg, INITIATION_STATIC, INITIATION_STATIC + 48));
            NoisePublicKey remote = NoisePublicKey.fromBytes(remoteStatic);
            ck = WireGuardKdf.kdf2(c, local.sharedSecret(remote));
            c = ck[0];
            byte[] timestamp = new byte[Tai64n.LENGTH];
            aead.open(ck[1], 0, msg, INITIATION_TIMESTAMP, 28, h, timestamp, 0);
            h = Blake2s.hash(32, h, Arrays.copyOfRange(msg, INITIATION_TIMESTAMP, INITIATION_TIMESTAMP + 28));
            return new Initiation(remote, ephemeral, Messages.readIntLe(msg, INITIATION_SENDER),
                    Tai64n.fromBytes(timestamp), c, h);
        } catch (AuthenticationFailedException | IllegalArgumentException e) {
            return null; // bad AEAD tag, or a low-order point giving an all-zero DH
        }
    }

    /**
     * Accepts a decrypted initiation from our peer unless it replays an old timestamp or comes
     * within {@link Protocol#HANDSHAKE_INITIATION_RATE} of the last accepted one.
     */
    boolean acceptInitiation(Initiation initiation, long now) {
        if (!initiation.remoteStatic().equals(id.remotePublic)) {
            return false;
        }
        if (latestTimestamp != null && !initiation.timestamp().isAfter(latestTimestamp)) {
            return false;
        }
        if (acceptedAny && now - lastInitiationAcceptedAt < Protocol.HANDSHAKE_INITIATION_RATE.toNanos()) {
            return false;
        }
        latestTimestamp = initiation.timestamp();
        lastInitiationAcceptedAt = now;
        acceptedAny = true;
        chainKey = initiation.chainKey();
        hash = initiation.hash();
        remoteEphemeral = initiation.remoteEphemeral();
        remoteIndex = initiation.senderIndex();
        localEphemeral = null;
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
        byte[] ephemeralPublic = ephemeral.publicKey().toBytes();
        System.arraycopy(ephemeralPublic, 0, msg, RESPONSE_EPHEMERAL, 32);
        byte[] c = WireGuardKdf.kdf1(chainKey, ephemeralPublic);
        byte[] h = Blake2s.hash(32, hash, ephemeralPublic);
        c = WireGuardKdf.kdf1(c, ephemeral.sharedSecret(NoisePublicKey.fromBytes(remoteEphemeral)));
        c = WireGuardKdf.kdf1(c, ephemeral.sharedSecret(id.remotePublic));
        byte[][] ctk = WireGuardKdf.kdf3(c, id.presharedKey);
        c = ctk[0];
        h = Blake2s.hash(32, h, ctk[1]);
        aead.seal(ctk[2], 0, new byte[0], 0, 0, h, msg, RESPONSE_EMPTY);
        h = Blake2s.hash(32, h, Arrays.copyOfRange(msg, RESPONSE_EMPTY, RESPONSE_EMPTY + 16));
        chainKey = c;
        hash = h;
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
            byte[] c = WireGuardKdf.kdf1(chainKey, ephemeral);
            byte[] h = Blake2s.hash(32, hash, ephemeral);
            c = WireGuardKdf.kdf1(c, localEphemeral.sharedSecret(remoteEphemeralKey));
            c = WireGuardKdf.kdf1(c, id.localPrivate.sharedSecret(remoteEphemeralKey));
            byte[][] ctk = WireGuardKdf.kdf3(c, id.presharedKey);
            c = ctk[0];
            h = Blake2s.hash(32, h, ctk[1]);
            aead.open(ctk[2], 0, msg, RESPONSE_EMPTY, 16, h, new byte[0], 0);
            h = Blake2s.hash(32, h, Arrays.copyOfRange(msg, RESPONSE_EMPTY, RESPONSE_EMPTY + 16));
            chainKey = c;
            hash = h;
            remoteIndex = Messages.readIntLe(msg, RESPONSE_SENDER);
            state = State.RESPONSE_CONSUMED;
            return true;
        } catch (AuthenticationFailedException | IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Derives the transport keypair after RESPONSE_CONSUMED (initiator) or RESPONSE_CREATED
     * (responder) and wipes the handshake; null in any other state.
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
        byte[][] keys = WireGuardKdf.kdf2(chainKey, new byte[0]);
        Keypair keypair = new Keypair(initiator ? keys[0] : keys[1], initiator ? keys[1] : keys[0],
                localIndex, remoteIndex, now, initiator);
        clear();
        return keypair;
    }

    /** Forgets the handshake in progress (keeps the replay timestamp). */
    void clear() {
        if (chainKey != null) {
            Arrays.fill(chainKey, (byte) 0);
        }
        if (hash != null) {
            Arrays.fill(hash, (byte) 0);
        }
        chainKey = null;
        hash = null;
        localEphemeral = null;
        remoteEphemeral = null;
        state = State.ZEROED;
    }
}
