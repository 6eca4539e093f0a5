package io.pinhole.wireguard;

import static io.pinhole.wireguard.SessionPair.drops;
import static io.pinhole.wireguard.SessionPair.ipv4;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.ChaCha20Poly1305;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.Tai64n;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * KeyZeroingTest: the secrets of a WireGuard session are zeroed when they are no longer needed:
 * ephemeral keys when a handshake completes, is replaced or is abandoned; a keypair's transport
 * keys when it is dropped (expired, replaced, ended by a responder's new handshake, session
 * close), after which it refuses to seal or open; an initiation that is not accepted; and
 * everything at {@link WireGuardSession#close()}.
 */
class KeyZeroingTest {
    private static final long S = 1_000_000_000L;

    /** For the tests of bare handshake machines: the keys, and A's and B's machines (no pre-shared key). */
    private final SessionPair keys = new SessionPair(105);
    private final Handshake initiator = handshakeOf(keys.keyA, keys.keyB, 7);
    private final Handshake responder = handshakeOf(keys.keyB, keys.keyA, 8);

    private static boolean allZero(byte[] a) {
        for (byte b : a) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** A bare handshake machine of {@code local} with {@code remote} (no pre-shared key). */
    private static Handshake handshakeOf(NoisePrivateKey local, NoisePrivateKey remote, long seed) {
        return new Handshake(new Identity(local, remote.publicKey(), null), SessionPair.seeded(seed));
    }

    private static byte[] initiation(Handshake initiator) {
        return initiator.createInitiation(Tai64n.of(Instant.parse("2026-12-01T00:00:00Z")), 1);
    }

    private static Handshake.Initiation decrypt(NoisePrivateKey responder, byte[] msg) {
        return Handshake.decryptInitiation(responder, responder.publicKey().toBytes(), msg);
    }

    // ------------------------------------------------------------------ ephemeral keys

    @Test
    void bothEphemeralKeysAreZeroedWhenTheHandshakeCompletes() {
        SessionPair pair = new SessionPair(101);
        pair.a.initiate(pair.now, pair.sideA, true);
        NoisePrivateKey initiatorEphemeral = pair.a.handshake().latestEphemeral();
        assertFalse(initiatorEphemeral.isDestroyed(), "still needed for the response");

        pair.receive(pair.b, pair.take(pair.a).get(0));
        NoisePrivateKey responderEphemeral = pair.b.handshake().latestEphemeral();
        assertNotSame(initiatorEphemeral, responderEphemeral);
        assertTrue(responderEphemeral.isDestroyed(), "the responder's ephemeral is done once the response is built");
        assertThrows(IllegalStateException.class, () -> responderEphemeral.sharedSecret(pair.keyA.publicKey()));

        pair.receive(pair.a, pair.take(pair.b).get(0));
        assertEquals(1, pair.a.handshakesCompleted());
        assertTrue(initiatorEphemeral.isDestroyed(), "the initiator's ephemeral is done once the response is consumed");
        assertEquals(Handshake.State.ZEROED, pair.a.handshake().state());
        pair.deliverAll();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size(), "the keys derived before zeroing work");
    }

    @Test
    void aRetriedInitiationZeroesTheEphemeralOfTheOneItReplaces() {
        SessionPair pair = new SessionPair(102);
        pair.a.initiate(pair.now, pair.sideA, true);
        NoisePrivateKey first = pair.a.handshake().latestEphemeral();
        pair.dropAll();
        pair.advanceSeconds(5.4); // past REKEY_TIMEOUT plus the largest jitter
        pair.a.tick(pair.now, pair.sideA);
        assertEquals(1, pair.sideA.toPeer.size(), "the retry went out");
        NoisePrivateKey second = pair.a.handshake().latestEphemeral();

        assertNotSame(first, second);
        assertTrue(first.isDestroyed());
        assertFalse(second.isDestroyed());
        pair.deliverAll();
        assertEquals(1, pair.a.handshakesCompleted(), "the retry completes");
        assertTrue(second.isDestroyed());
    }

    @Test
    void anAbandonedHandshakeZeroesItsEphemeral() {
        SessionPair pair = new SessionPair(103);
        pair.a.initiate(pair.now, pair.sideA, true);
        for (int i = 0; i < 2000 && pair.a.handshake().state() != Handshake.State.ZEROED; i++) {
            pair.dropAll();
            pair.advanceSeconds(0.1);
            pair.a.tick(pair.now, pair.sideA);
        }
        assertEquals(Handshake.State.ZEROED, pair.a.handshake().state(), "given up after REKEY_ATTEMPT_TIME");
        assertTrue(pair.a.handshake().latestEphemeral().isDestroyed());
    }

    @Test
    void acceptingThePeersInitiationZeroesTheEphemeralOfOurOwn() {
        SessionPair pair = new SessionPair(104);
        pair.a.initiate(pair.now, pair.sideA, true);
        NoisePrivateKey ours = pair.a.handshake().latestEphemeral();
        pair.take(pair.a);
        pair.b.initiate(pair.now, pair.sideB, true);

        assertTrue(pair.receive(pair.a, pair.take(pair.b).get(0)));
        assertTrue(ours.isDestroyed(), "our initiation was replaced by the peer's");
        pair.deliverAll();
        assertEquals(1, pair.b.handshakesCompleted());
    }

    // ------------------------------------------------------------------ handshake intermediates

    @Test
    void anInitiationThatIsNotAcceptedHasItsChainingKeyAndHashZeroed() {
        byte[] msg = initiation(initiator);

        Handshake.Initiation first = decrypt(keys.keyB, msg);
        assertNotNull(first);
        assertTrue(responder.acceptInitiation(first, 0));
        assertFalse(allZero(first.chainKey()), "an accepted initiation's chaining key is kept");

        Handshake.Initiation replay = decrypt(keys.keyB, msg);
        assertNotNull(replay);
        assertFalse(allZero(replay.chainKey()));
        assertFalse(responder.acceptInitiation(replay, 10 * S), "the same timestamp again is a replay");
        assertTrue(allZero(replay.chainKey()), "the refused initiation's chaining key is zeroed");
        assertTrue(allZero(replay.hash()));
    }

    @Test
    void aForgedResponseLeavesTheInitiatorsEphemeralForTheGenuineOne() {
        byte[] msg = initiation(initiator);
        NoisePrivateKey ephemeral = initiator.latestEphemeral();
        assertTrue(responder.acceptInitiation(decrypt(keys.keyB, msg), 0));
        byte[] response = responder.createResponse(2);
        byte[] forged = response.clone();
        forged[Messages.RESPONSE_EMPTY] ^= 1;

        assertFalse(initiator.consumeResponse(forged));
        assertEquals(Handshake.State.INITIATION_CREATED, initiator.state());
        assertFalse(ephemeral.isDestroyed(), "a forged response must not end our handshake");
        assertTrue(initiator.consumeResponse(response));
        assertTrue(ephemeral.isDestroyed());
        Keypair mine = initiator.deriveKeypair(0);
        Keypair theirs = responder.deriveKeypair(0);
        assertNotNull(mine);
        assertNotNull(theirs);
        assertFalse(mine.keysAreZero());
    }

    // ------------------------------------------------------------------ transport keys

    @Test
    void aWipedKeypairIsZeroAndRefusesToSealOrOpen() throws Exception {
        byte[] send = new byte[32];
        byte[] receive = new byte[32];
        java.util.Arrays.fill(send, (byte) 1);
        java.util.Arrays.fill(receive, (byte) 2);
        Keypair kp = new Keypair(send, receive, 7, 8, 0, true);
        ChaCha20Poly1305 aead = new ChaCha20Poly1305();
        byte[] buf = new byte[4 + 16];
        kp.seal(aead, 0, buf, 0, 4, null);
        assertFalse(kp.wiped());

        kp.wipe();
        assertTrue(kp.wiped());
        assertTrue(kp.keysAreZero());
        assertTrue(allZero(send) && allZero(receive), "zeroed in place, not just dropped");
        assertThrows(KeypairWipedException.class, () -> kp.seal(aead, 1, new byte[20], 0, 4, null));
        byte[] sealedUnderZero = new byte[20];
        new ChaCha20Poly1305().seal(new byte[32], 1, sealedUnderZero, 0, 4, null, sealedUnderZero, 0);
        assertThrows(KeypairWipedException.class,
                () -> kp.open(aead, 1, sealedUnderZero, 0, 20, null, new byte[4]),
                "a message sealed under the all-zero key is not opened either");
        kp.wipe(); // idempotent
        assertTrue(kp.wiped());
    }

    @Test
    void anExpiredKeypairIsZeroedAtTheNextTickAndLatePacketsForItAreDropped() {
        SessionPair pair = new SessionPair(107);
        pair.handshake();
        Keypair onA = pair.a.currentKeypair();
        Keypair onB = pair.b.currentKeypair();
        pair.advanceSeconds(179);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideB);
        ByteBuffer late = pair.take(pair.b).get(0);
        pair.tickBoth();
        assertFalse(onA.wiped(), "not expired yet");

        pair.advanceSeconds(1); // REJECT_AFTER_TIME
        pair.tickBoth();
        assertTrue(onA.keysAreZero() && onA.wiped());
        assertTrue(onB.keysAreZero() && onB.wiped());
        assertSame(onA, pair.a.currentKeypair(), "it keeps its slot until a new handshake replaces it");
        assertFalse(pair.receive(pair.a, late));
        assertEquals(1L, drops(pair.a, SessionDrop.EXPIRED_KEYPAIR));
        assertTrue(pair.sideA.delivered.isEmpty());
        assertFalse(pair.a.canSend(pair.now));
        assertFalse(pair.a.sendKeepalive(pair.now, pair.sideA));

        pair.deliverAll();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideA);
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size(), "a new handshake replaces the expired keypair");
        assertNotSame(onA, pair.a.currentKeypair());
    }

    /** Two handshakes (A initiating); returns {@code s}'s first keypair, now its live previous one. */
    private static Keypair firstKeypairNowPrevious(SessionPair pair, WireGuardSession s) {
        pair.handshake();
        Keypair first = s.currentKeypair();
        pair.advanceSeconds(1);
        pair.handshake();
        assertSame(first, s.previousKeypair(), "still decrypts what is in flight");
        assertFalse(first.wiped());
        pair.advanceSeconds(1);
        return first;
    }

    @Test
    void aKeypairReplacedOnTheInitiatorIsZeroed() {
        SessionPair pair = new SessionPair(108);
        Keypair first = firstKeypairNowPrevious(pair, pair.a);
        pair.handshake();
        assertTrue(first.keysAreZero() && first.wiped(), "fell out of the previous slot");
    }

    @Test
    void theResponderEndingItsPreviousKeypairZeroesIt() {
        SessionPair pair = new SessionPair(109);
        Keypair first = firstKeypairNowPrevious(pair, pair.b);
        pair.a.initiate(pair.now, pair.sideA, true);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        assertNull(pair.b.previousKeypair());
        assertTrue(first.keysAreZero() && first.wiped());
    }

    @Test
    void thePeerRestartingZeroesAllKeypairs() {
        SessionPair pair = new SessionPair(110);
        pair.handshake();
        Keypair kp = pair.a.currentKeypair();
        pair.a.peerRestarted();
        assertTrue(kp.keysAreZero() && kp.wiped());
        assertFalse(pair.a.canSend(pair.now));
    }

    // ------------------------------------------------------------------ close

    @Test
    void closeZeroesEverySecretAndRefusesAllFurtherUse() {
        SessionPair pair = new SessionPair(111);
        byte[] psk = new byte[32];
        java.util.Arrays.fill(psk, (byte) 5);
        Identity id = new Identity(pair.keyA, pair.keyB.publicKey(), psk);
        WireGuardSession a = new WireGuardSession(id, SessionPair.seeded(12), pair.wall, SessionTimers.defaults());
        WireGuardSession b = new WireGuardSession(new Identity(pair.keyB, pair.keyA.publicKey(), psk),
                SessionPair.seeded(13), pair.wall, SessionTimers.defaults());
        SessionPair.Side sideA = pair.sideA;
        SessionPair.Side sideB = pair.sideB;
        a.initiate(pair.now, sideA, true);
        b.receive(pair.now, SessionPair.A_ADDR, sideA.toPeer.remove(0), sideB);
        a.receive(pair.now, SessionPair.B_ADDR, sideB.toPeer.remove(0), sideA);
        b.receive(pair.now, SessionPair.A_ADDR, sideA.toPeer.remove(0), sideB); // the confirming keepalive
        Keypair kp = a.currentKeypair();
        assertTrue(a.canSend(pair.now));
        b.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), sideB);
        ByteBuffer inFlight = sideB.toPeer.remove(0);
        pair.advanceSeconds(1);
        a.initiate(pair.now, sideA, true); // a handshake in progress at close
        sideA.toPeer.clear();
        NoisePrivateKey ephemeral = a.handshake().latestEphemeral();
        assertFalse(allZero(id.staticStatic));

        a.close();
        assertTrue(a.closed());
        assertTrue(kp.keysAreZero() && kp.wiped());
        assertNull(a.currentKeypair());
        assertTrue(ephemeral.isDestroyed());
        assertEquals(Handshake.State.ZEROED, a.handshake().state());
        assertTrue(allZero(id.staticStatic), "the static-static DH");
        assertTrue(allZero(id.presharedKey), "the identity's copy of the pre-shared key");
        assertArrayEquals(new byte[] {5, 5, 5, 5}, java.util.Arrays.copyOf(psk, 4), "the caller's array is its own");
        assertFalse(pair.keyA.isDestroyed(), "the static private key is the caller's");

        assertFalse(a.canSend(pair.now));
        a.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), sideA);
        assertFalse(a.receive(pair.now, SessionPair.B_ADDR, inFlight, sideA));
        assertEquals(2L, drops(a, SessionDrop.CLOSED));
        assertEquals(0, a.stagedPackets());
        a.initiate(pair.now, sideA, true);
        a.pathUp(pair.now, sideA);
        a.pathMoved(pair.now, sideA);
        for (int i = 0; i < 100; i++) {
            pair.advanceSeconds(1);
            a.tick(pair.now, sideA);
        }
        assertEquals(List.of(), sideA.toPeer, "a closed session sends nothing, no handshake either");
        assertTrue(sideA.delivered.isEmpty());
        a.close(); // idempotent
    }
}
