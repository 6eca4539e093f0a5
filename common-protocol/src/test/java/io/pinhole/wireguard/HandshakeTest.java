package io.pinhole.wireguard;

import static io.pinhole.wireguard.SessionPair.drops;
import static io.pinhole.wireguard.SessionPair.ipv4;
import static io.pinhole.wireguard.SessionPair.ipv6;
import static io.pinhole.wireguard.SessionPair.typeOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HandshakeTest: the Noise_IKpsk2 handshake between two sessions: either side may initiate,
 * the responder waits for key confirmation, the initiator confirms at once, packets staged
 * during the handshake go out in order afterwards, and the pre-shared key takes part.
 */
class HandshakeTest {

    private static List<ByteBuffer> ofType(List<ByteBuffer> datagrams, int type) {
        List<ByteBuffer> out = new ArrayList<>();
        for (ByteBuffer d : datagrams) {
            if (typeOf(d) == type) {
                out.add(d);
            }
        }
        return out;
    }

    @ParameterizedTest(name = "initiator {0}")
    @ValueSource(strings = {"a", "b"})
    void eitherSideCanInitiateAndStagedPacketsArriveInOrder(String who) {
        SessionPair pair = new SessionPair(11);
        WireGuardSession initiator = who.equals("a") ? pair.a : pair.b;
        WireGuardSession responder = pair.other(initiator);
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            byte[] p = i % 2 == 0 ? ipv4(100 + i, 40 + 37 * i) : ipv6(100 + i, 13 * i);
            sent.add(p);
            initiator.send(pair.now, ByteBuffer.wrap(p), pair.side(initiator));
        }
        assertEquals(5, initiator.stagedPackets());
        List<ByteBuffer> out = pair.take(initiator);
        assertEquals(1, out.size(), "only one initiation for five staged packets");
        assertEquals(Messages.TYPE_INITIATION, typeOf(out.get(0)));
        assertEquals(Messages.INITIATION_LENGTH, out.get(0).remaining());
        pair.side(initiator).toPeer.addAll(out);

        pair.deliverAll();

        assertEquals(1, initiator.handshakesCompleted());
        assertEquals(1, responder.handshakesCompleted());
        assertEquals(0, initiator.stagedPackets());
        List<byte[]> got = pair.side(responder).delivered;
        assertEquals(5, got.size());
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(sent.get(i), got.get(i), "packet " + i + " in order and intact");
        }
        assertTrue(initiator.canSend(pair.now));
        assertTrue(responder.canSend(pair.now));

        byte[] back = ipv4(999, 1420);
        responder.send(pair.now, ByteBuffer.wrap(back), pair.side(responder));
        pair.deliverAll();
        assertArrayEquals(back, pair.side(initiator).delivered.get(0));
        assertTrue(initiator.drops().isEmpty(), initiator.drops().toString());
        assertTrue(responder.drops().isEmpty(), responder.drops().toString());
    }

    @Test
    void theResponderWaitsForKeyConfirmationAndTheInitiatorSendsAKeepaliveAtOnce() {
        SessionPair pair = new SessionPair(12);
        pair.a.initiate(pair.now, pair.sideA, true);
        ByteBuffer initiation = pair.take(pair.a).get(0);

        assertTrue(pair.receive(pair.b, initiation));
        assertEquals(1, pair.b.handshakesCompleted());
        assertFalse(pair.b.canSend(pair.now), "responder has no confirmed keypair yet");
        assertFalse(pair.b.sendKeepalive(pair.now, pair.sideB), "no keepalive without a confirmed keypair");
        byte[] early = ipv4(1, 60);
        byte[] early2 = ipv4(2, 61);
        pair.b.send(pair.now, ByteBuffer.wrap(early), pair.sideB);
        pair.b.send(pair.now, ByteBuffer.wrap(early2), pair.sideB);
        assertEquals(2, pair.b.stagedPackets(), "the responder stages its packets");
        List<ByteBuffer> fromB = pair.take(pair.b);
        assertTrue(ofType(fromB, Messages.TYPE_TRANSPORT).isEmpty(), "nothing encrypted before confirmation");
        List<ByteBuffer> responses = ofType(fromB, Messages.TYPE_RESPONSE);
        assertEquals(1, responses.size());
        assertEquals(Messages.RESPONSE_LENGTH, responses.get(0).remaining());

        assertTrue(pair.receive(pair.a, responses.get(0)));
        assertTrue(pair.a.canSend(pair.now));
        List<ByteBuffer> fromA = pair.take(pair.a);
        assertEquals(1, fromA.size(), "the initiator confirms the keypair with one message");
        assertEquals(Messages.TYPE_TRANSPORT, typeOf(fromA.get(0)));
        assertEquals(Messages.TRANSPORT_MIN_LENGTH, fromA.get(0).remaining(), "an empty keepalive");

        assertFalse(pair.b.canSend(pair.now));
        assertTrue(pair.receive(pair.b, fromA.get(0)), "the keepalive authenticates");
        assertTrue(pair.sideB.delivered.isEmpty(), "a keepalive delivers nothing");
        assertTrue(pair.b.canSend(pair.now), "confirmed by the first transport message");
        assertEquals(0, pair.b.stagedPackets());
        List<ByteBuffer> flushed = ofType(pair.take(pair.b), Messages.TYPE_TRANSPORT);
        assertEquals(2, flushed.size());
        for (ByteBuffer d : flushed) {
            pair.receive(pair.a, d);
        }
        assertEquals(2, pair.sideA.delivered.size());
        assertArrayEquals(early, pair.sideA.delivered.get(0));
        assertArrayEquals(early2, pair.sideA.delivered.get(1));
    }

    @Test
    void theInitiatorSendsStagedPacketsInsteadOfAKeepalive() {
        SessionPair pair = new SessionPair(13);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 100)), pair.sideA);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        pair.receive(pair.a, pair.take(pair.b).get(0));
        List<ByteBuffer> fromA = pair.take(pair.a);
        assertEquals(1, fromA.size());
        assertEquals(Messages.TRANSPORT_HEADER_LENGTH + 112 + 16, fromA.get(0).remaining(), "the staged packet, no keepalive");
    }

    @Test
    void stagingIsBoundedAndDropsTheOldestFirst() {
        SessionPair pair = new SessionPair(14);
        int limit = SessionTimers.defaults().stagedLimit();
        for (int i = 0; i < limit + 3; i++) {
            pair.a.send(pair.now, ByteBuffer.wrap(ipv4(i, 28)), pair.sideA);
        }
        assertEquals(limit, pair.a.stagedPackets());
        assertEquals(3L, drops(pair.a, SessionDrop.STAGED_OVERFLOW));
        pair.deliverAll();
        assertEquals(limit, pair.sideB.delivered.size());
        for (int i = 0; i < limit; i++) {
            assertArrayEquals(ipv4(i + 3, 28), pair.sideB.delivered.get(i));
        }
    }

    @Test
    void aHandshakeWithTheSamePresharedKeyWorks() {
        byte[] psk = new byte[32];
        SessionPair.seeded(5).nextBytes(psk);
        SessionPair pair = new SessionPair(15, 0, SessionTimers.defaults(), SessionTimers.defaults(), psk);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 64)), pair.sideA);
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size());
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(2, 64)), pair.sideB);
        pair.deliverAll();
        assertEquals(1, pair.sideA.delivered.size());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"different keys", "only initiator", "only responder"})
    void aPresharedKeyMismatchFailsTheHandshake(String how) {
        byte[] psk1 = new byte[32];
        byte[] psk2 = new byte[32];
        SessionPair.seeded(6).nextBytes(psk1);
        SessionPair.seeded(7).nextBytes(psk2);
        byte[] pskA = how.equals("only responder") ? null : psk1;
        byte[] pskB = switch (how) {
            case "different keys" -> psk2;
            case "only initiator" -> null;
            default -> psk1;
        };
        SessionPair pair = new SessionPair(16, 0, SessionTimers.defaults(), SessionTimers.defaults(), pskA, pskB);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 64)), pair.sideA);
        pair.deliverAll();
        // The initiation does not depend on the pre-shared key, so the responder answers; the
        // response does, so the initiator cannot authenticate it.
        assertEquals(1, pair.b.handshakesCompleted());
        assertEquals(0, pair.a.handshakesCompleted());
        assertEquals(1L, drops(pair.a, SessionDrop.HANDSHAKE_FAILED));
        assertFalse(pair.a.canSend(pair.now));
        assertFalse(pair.b.canSend(pair.now));
        assertTrue(pair.sideB.delivered.isEmpty());
        assertEquals(1, pair.a.stagedPackets());
    }

    @Test
    void aSecondHandshakeRotatesKeysAndTrafficContinues() {
        SessionPair pair = new SessionPair(17);
        pair.handshake(pair.a);
        pair.advanceSeconds(3);
        pair.handshake(pair.b);
        pair.advanceSeconds(3);
        pair.handshake(pair.a);
        for (int i = 0; i < 3; i++) {
            pair.a.send(pair.now, ByteBuffer.wrap(ipv4(i, 50)), pair.sideA);
            pair.b.send(pair.now, ByteBuffer.wrap(ipv4(i, 51)), pair.sideB);
        }
        pair.deliverAll();
        assertEquals(3, pair.sideA.delivered.size());
        assertEquals(3, pair.sideB.delivered.size());
        assertEquals(3, pair.a.handshakesCompleted());
        assertEquals(3, pair.b.handshakesCompleted());
        assertTrue(pair.a.drops().isEmpty(), pair.a.drops().toString());
        assertTrue(pair.b.drops().isEmpty(), pair.b.drops().toString());
    }

    @Test
    void aKeypairThatIsReplacedIsWiped() {
        SessionPair pair = new SessionPair(18);
        pair.handshake(pair.a);
        Keypair first = pair.b.currentKeypair();
        pair.advanceSeconds(1);
        // A rekeys; B answers but has not seen the new keypair used yet (A's keepalive is held back) ...
        pair.a.initiate(pair.now, pair.sideA, true);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        pair.receive(pair.a, pair.take(pair.b).get(0));
        pair.take(pair.a);
        // ... when its own handshake completes: previous <- the unconfirmed keypair, current <- its own.
        pair.advanceSeconds(1);
        pair.b.initiate(pair.now, pair.sideB, true);
        pair.deliverAll();
        assertTrue(pair.b.currentKeypair().initiator);
        assertTrue(first.keysAreZero(), "the keypair that fell out is wiped");
        assertTrue(first.wiped());
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideB);
        pair.deliverAll();
        assertEquals(1, pair.sideA.delivered.size());
        assertEquals(1, pair.sideB.delivered.size());
    }
}
