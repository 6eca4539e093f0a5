package io.pinhole.wireguard;

import static io.pinhole.wireguard.SessionPair.drops;
import static io.pinhole.wireguard.SessionPair.ipv4;
import static io.pinhole.wireguard.SessionPair.typeOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * WireGuardTimersTest: the timers of whitepaper section 6 in virtual time: handshake retries
 * and giving up, rekeying by time (sending and receiving) and by message count, keypair expiry,
 * the new handshake after unanswered data, and wiping the keys.
 */
class WireGuardTimersTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    private static long count(List<ByteBuffer> datagrams, int type) {
        return datagrams.stream().filter(d -> typeOf(d) == type).count();
    }

    private static List<Integer> types(List<ByteBuffer> datagrams) {
        List<Integer> t = new ArrayList<>();
        for (ByteBuffer d : datagrams) {
            t.add(typeOf(d));
        }
        return t;
    }

    /** Ticks {@code s} every {@code stepNanos} until {@code untilNanos} after now; returns when it first sent something, or -1. */
    private static long tickUntilSent(SessionPair pair, WireGuardSession s, long stepNanos, long untilNanos) {
        long end = pair.now + untilNanos;
        while (pair.now - end <= 0) {
            s.tick(pair.now, pair.side(s));
            if (!pair.side(s).toPeer.isEmpty()) {
                return pair.now;
            }
            pair.now += stepNanos;
        }
        return -1;
    }

    // ------------------------------------------------------------------ retries and giving up

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void anUnansweredInitiationIsRetriedAfterRekeyTimeoutPlusJitter(long seed) {
        SessionPair pair = new SessionPair(seed);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        byte[] first = SessionPair.bytes(pair.take(pair.a).get(0));
        long sentAt = pair.now;
        byte[] previous = first;
        for (int retry = 1; retry <= 3; retry++) {
            long at = tickUntilSent(pair, pair.a, MS, 6 * S);
            long waited = at - sentAt;
            assertTrue(waited >= 5 * S && waited <= 5 * S + 333 * MS + MS,
                    "retry " + retry + " after " + waited / MS + " ms");
            List<ByteBuffer> out = pair.take(pair.a);
            assertEquals(List.of(Messages.TYPE_INITIATION), types(out));
            byte[] again = SessionPair.bytes(out.get(0));
            assertFalse(java.util.Arrays.equals(
                    java.util.Arrays.copyOfRange(previous, 8, 40), java.util.Arrays.copyOfRange(again, 8, 40)),
                    "each retry has a fresh ephemeral key");
            previous = again;
            sentAt = at;
        }
        // The latest retry is answered: the handshake completes and the staged packet arrives.
        pair.sideA.toPeer.add(ByteBuffer.wrap(previous));
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size());
        assertEquals(1, pair.a.handshakesCompleted());
        assertEquals(-1, tickUntilSent(pair, pair.a, 100 * MS, 10 * S), "no retries once complete");
    }

    @Test
    void aResponseToAnEarlierAttemptIsNotAccepted() {
        SessionPair pair = new SessionPair(21);
        pair.a.initiate(pair.now, pair.sideA, true);
        ByteBuffer first = pair.take(pair.a).get(0);
        tickUntilSent(pair, pair.a, MS, 6 * S);
        pair.dropAll();
        pair.receive(pair.b, first);
        assertFalse(pair.receive(pair.a, pair.take(pair.b).get(0)), "the retry replaced the first attempt");
        assertEquals(1L, drops(pair.a, SessionDrop.HANDSHAKE_FAILED));
        assertFalse(pair.a.canSend(pair.now));
    }

    @Test
    void aHandshakeIsGivenUpAfterRekeyAttemptTimeAndItsPacketsDroppedAndCounted() {
        SessionPair pair = new SessionPair(22);
        long start = pair.now;
        long initiations = 0;
        long gaveUpAt = -1;
        int staged = 0;
        for (long t = 0; t <= 120 * S; t += 100 * MS) {
            pair.now = start + t;
            if (t % (10 * S) == 0 && t <= 80 * S) {
                pair.a.send(pair.now, ByteBuffer.wrap(ipv4(staged, 60)), pair.sideA);
                staged++;
            }
            pair.a.tick(pair.now, pair.sideA);
            initiations += count(pair.take(pair.a), Messages.TYPE_INITIATION);
            if (gaveUpAt < 0 && drops(pair.a, SessionDrop.HANDSHAKE_GAVE_UP) > 0) {
                gaveUpAt = t;
            }
        }
        assertEquals(9, staged);
        assertTrue(gaveUpAt >= 90 * S && gaveUpAt <= 90 * S + 5333 * MS + 100 * MS, "gave up after " + gaveUpAt / MS + " ms");
        assertEquals(9L, drops(pair.a, SessionDrop.HANDSHAKE_GAVE_UP), "every staged packet counted");
        assertEquals(0, pair.a.stagedPackets());
        // one initiation plus a retry every 5-5.333 s until 90 s had passed
        assertTrue(initiations >= 17 && initiations <= 19, initiations + " initiations");
        assertFalse(pair.a.canSend(pair.now));

        // A later packet starts a fresh attempt, which works when the peer answers.
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(77, 60)), pair.sideA);
        assertEquals(1, count(pair.sideA.toPeer, Messages.TYPE_INITIATION));
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size());
        assertArrayEquals(ipv4(77, 60), pair.sideB.delivered.get(0));
    }

    // ------------------------------------------------------------------ rekeying by time

    @Test
    void theInitiatorRekeysWhenSendingAfterRekeyAfterTimeTheResponderDoesNot() {
        SessionPair pair = new SessionPair(23);
        pair.handshake();
        long t0 = pair.now;

        pair.now = t0 + 120 * S - MS;
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        assertEquals(List.of(Messages.TYPE_TRANSPORT), types(pair.sideA.toPeer), "not yet");
        pair.deliverAll();

        pair.now = t0 + 120 * S;
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideB);
        assertEquals(List.of(Messages.TYPE_TRANSPORT), types(pair.sideB.toPeer), "the responder never rekeys by time");
        pair.deliverAll();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(3, 60)), pair.sideA);
        assertEquals(List.of(Messages.TYPE_TRANSPORT, Messages.TYPE_INITIATION), types(pair.sideA.toPeer),
                "the packet still goes out with the old keypair, then the initiator rekeys");
        pair.deliverAll();
        assertEquals(2, pair.a.handshakesCompleted());
        assertEquals(2, pair.sideB.delivered.size());

        pair.advanceSeconds(1);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(4, 60)), pair.sideA);
        assertEquals(List.of(Messages.TYPE_TRANSPORT), types(pair.sideA.toPeer), "the new keypair is young");
        pair.deliverAll();
        assertEquals(3, pair.sideB.delivered.size());
    }

    @Test
    void theInitiatorRekeysWhenReceivingAfterRejectAfterTimeMinus15Seconds() {
        SessionPair pair = new SessionPair(24);
        pair.handshake();
        long t0 = pair.now;

        pair.now = t0 + 165 * S - MS;
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideB);
        pair.receive(pair.a, pair.take(pair.b).get(0));
        assertTrue(pair.sideA.toPeer.isEmpty(), "not yet");

        pair.now = t0 + 165 * S;
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideB);
        pair.receive(pair.a, pair.take(pair.b).get(0));
        assertEquals(List.of(Messages.TYPE_INITIATION), types(pair.sideA.toPeer));
        assertEquals(2, pair.sideA.delivered.size());
        pair.deliverAll();
        assertEquals(2, pair.a.handshakesCompleted());
        assertTrue(pair.b.canSend(pair.now));
    }

    @Test
    void theResponderDoesNotRekeyWhenReceivingLate() {
        SessionPair pair = new SessionPair(25);
        pair.handshake();
        pair.advanceSeconds(170);
        // Keys made by the responder: forge with the initiator's keypair so the initiator's own send rule stays out of it.
        Keypair kp = pair.a.currentKeypair();
        assertTrue(pair.receive(pair.b, SessionPair.transport(kp, ipv4(1, 60))));
        assertEquals(1, pair.sideB.delivered.size());
        assertTrue(pair.sideB.toPeer.isEmpty(), "the responder waits for the initiator to rekey");
    }

    @Test
    void aKeypairIsUnusableAfterRejectAfterTime() {
        SessionPair pair = new SessionPair(26);
        pair.handshake();
        long t0 = pair.now;
        pair.now = t0 + 180 * S - 1;
        assertTrue(pair.a.canSend(pair.now));
        assertTrue(pair.b.canSend(pair.now));
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideB);
        ByteBuffer late = pair.take(pair.b).get(0);

        pair.now = t0 + 180 * S;
        assertFalse(pair.a.canSend(pair.now));
        assertFalse(pair.b.canSend(pair.now));
        assertFalse(pair.a.sendKeepalive(pair.now, pair.sideA));
        assertFalse(pair.receive(pair.a, late), "a message for an expired keypair is not accepted");
        assertEquals(1L, drops(pair.a, SessionDrop.EXPIRED_KEYPAIR));
        assertTrue(pair.sideA.delivered.isEmpty());

        byte[] p = ipv4(2, 60);
        pair.a.send(pair.now, ByteBuffer.wrap(p), pair.sideA);
        assertEquals(1, pair.a.stagedPackets(), "staged, not sent with the expired keypair");
        assertEquals(List.of(Messages.TYPE_INITIATION), types(pair.sideA.toPeer));
        pair.deliverAll();
        assertEquals(List.of(), List.copyOf(pair.sideA.delivered));
        assertEquals(1, pair.sideB.delivered.size());
        assertArrayEquals(p, pair.sideB.delivered.get(0));
        assertTrue(pair.b.canSend(pair.now));
    }

    @Test
    void theResponderAlsoStagesAndInitiatesWhenItsKeypairExpired() {
        SessionPair pair = new SessionPair(27);
        pair.handshake();
        pair.advanceSeconds(180);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideB);
        assertEquals(1, pair.b.stagedPackets());
        assertEquals(List.of(Messages.TYPE_INITIATION), types(pair.sideB.toPeer));
        pair.deliverAll();
        assertEquals(1, pair.sideA.delivered.size());
    }

    // ------------------------------------------------------------------ unanswered data

    @Test
    void dataSentWithNothingReceivedFor15SecondsStartsANewHandshake() {
        SessionPair pair = new SessionPair(28);
        pair.handshake();
        pair.a.sendKeepalive(pair.now, pair.sideA);
        pair.deliverAll();
        assertEquals(-1, tickUntilSent(pair, pair.a, 100 * MS, 30 * S), "keepalives alone arm nothing");

        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        long sentAt = pair.now;
        pair.deliverAll(); // the peer gets it but never answers
        pair.advanceSeconds(1);
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideA); // does not restart the timer
        pair.deliverAll();
        long at = tickUntilSent(pair, pair.a, MS, 20 * S);
        assertEquals(15 * S, at - sentAt);
        assertEquals(List.of(Messages.TYPE_INITIATION), types(pair.take(pair.a)));
    }

    @Test
    void anAnswerWithin15SecondsPreventsTheNewHandshake() {
        SessionPair pair = new SessionPair(29);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.deliverAll();
        assertEquals(-1, tickUntilSent(pair, pair.a, 100 * MS, 14 * S));
        assertTrue(pair.b.sendKeepalive(pair.now, pair.sideB));
        pair.deliverAll();
        assertEquals(-1, tickUntilSent(pair, pair.a, 100 * MS, 30 * S));
    }

    // ------------------------------------------------------------------ wiping

    @Test
    void keysAreWipedAfter540SecondsWithoutAHandshake() {
        SessionPair pair = new SessionPair(30);
        pair.handshake();
        long t0 = pair.now;
        // forged with B's keys, so B's own "data sent without an answer" timer stays out of it
        List<ByteBuffer> held = List.of(SessionPair.transport(pair.b.currentKeypair(), ipv4(1, 60)),
                SessionPair.transport(pair.b.currentKeypair(), ipv4(2, 60)));

        for (long t = 0; t < 540 * S; t += 500 * MS) {
            pair.now = t0 + t;
            pair.tickBoth();
        }
        pair.now = t0 + 540 * S - 1;
        pair.tickBoth();
        assertFalse(pair.receive(pair.a, held.get(0)));
        assertEquals(1L, drops(pair.a, SessionDrop.EXPIRED_KEYPAIR), "still known, merely expired");

        pair.now = t0 + 540 * S;
        pair.tickBoth();
        assertFalse(pair.receive(pair.a, held.get(1)));
        assertEquals(1L, drops(pair.a, SessionDrop.UNKNOWN_INDEX), "wiped");
        assertTrue(pair.sideA.toPeer.isEmpty() && pair.sideB.toPeer.isEmpty(), "no traffic of its own");
        assertEquals(null, pair.a.currentKeypair());
        assertEquals(null, pair.b.currentKeypair());

        // and the tunnel comes back with a new handshake
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(3, 60)), pair.sideA);
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size());
    }

    @Test
    void theWipeCountsFromTheLatestHandshake() {
        SessionPair pair = new SessionPair(31);
        pair.handshake();
        long t0 = pair.now;
        pair.now = t0 + 400 * S;
        pair.handshake();
        for (long t = 400 * S; t <= 560 * S; t += 500 * MS) {
            pair.now = t0 + t;
            pair.tickBoth();
        }
        assertTrue(pair.a.canSend(pair.now), "the new keypair is 160 s old and kept");
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size());
    }

    // ------------------------------------------------------------------ the previous keypair

    @Test
    void thePreviousKeypairStillDecryptsPacketsInFlightAfterARekey() {
        SessionPair pair = new SessionPair(32);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideB);
        ByteBuffer fromAOld = pair.take(pair.a).get(0);
        ByteBuffer fromBOld = pair.take(pair.b).get(0);
        Keypair oldA = pair.a.currentKeypair();

        pair.advanceSeconds(1);
        pair.handshake();
        assertNotEquals(oldA.localIndex, pair.a.currentKeypair().localIndex);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(3, 60)), pair.sideB);
        pair.deliverAll(); // the responder has switched to the new keypair too

        assertTrue(pair.receive(pair.b, fromAOld), "the responder's previous keypair");
        assertTrue(pair.receive(pair.a, fromBOld), "the initiator's previous keypair");
        assertArrayEquals(ipv4(1, 60), pair.sideB.delivered.get(0));
        assertEquals(2, pair.sideA.delivered.size());
        assertArrayEquals(ipv4(2, 60), pair.sideA.delivered.get(1));

        // Two rekeys later the first keypair is gone.
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(4, 60)), pair.sideA);
        ByteBuffer fromAMiddle = pair.take(pair.a).get(0);
        pair.advanceSeconds(1);
        pair.handshake();
        pair.advanceSeconds(1);
        pair.handshake();
        assertFalse(pair.receive(pair.b, fromAMiddle));
        assertEquals(1L, drops(pair.b, SessionDrop.UNKNOWN_INDEX));
    }

    @Test
    void aNewInitiationEndsTheRespondersPreviousKeypairAtOnceAsWireGuardGoDoes() {
        SessionPair pair = new SessionPair(34);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        ByteBuffer underFirst = pair.take(pair.a).get(0); // captured in flight, never delivered
        pair.advanceSeconds(1);
        pair.handshake(); // B confirms the second keypair: the first becomes its previous one
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideA);
        ByteBuffer underSecond = pair.take(pair.a).get(0);

        pair.advanceSeconds(1);
        pair.a.initiate(pair.now, pair.sideA, true); // a third handshake starts; B answers, not confirmed yet
        pair.receive(pair.b, pair.take(pair.a).get(0));

        assertFalse(pair.receive(pair.b, underFirst), "the previous keypair is gone with the new initiation");
        assertEquals(1L, drops(pair.b, SessionDrop.UNKNOWN_INDEX));
        assertTrue(pair.receive(pair.b, underSecond), "the current one still decrypts what is in flight");
    }

    @Test
    void packetsFromTheUnconfirmedNextKeypairConfirmItOnTheResponder() {
        SessionPair pair = new SessionPair(33);
        pair.handshake();
        pair.advanceSeconds(1);
        pair.a.initiate(pair.now, pair.sideA, true);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        pair.receive(pair.a, pair.take(pair.b).get(0));
        Keypair fresh = pair.a.currentKeypair();
        ByteBuffer keepalive = pair.take(pair.a).get(0);
        // Until the responder sees the new keypair used, it keeps sending with the old one.
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideB);
        ByteBuffer withOld = pair.take(pair.b).get(0);
        assertNotEquals(fresh.localIndex, readReceiver(withOld));
        assertTrue(pair.receive(pair.a, withOld), "the initiator still decrypts with its previous keypair");
        assertTrue(pair.receive(pair.b, keepalive));
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideB);
        assertEquals(fresh.localIndex, readReceiver(pair.take(pair.b).get(0)), "switched after confirmation");
    }

    private static int readReceiver(ByteBuffer transport) {
        return Messages.readIntLe(SessionPair.bytes(transport), Messages.TRANSPORT_RECEIVER);
    }

    // ------------------------------------------------------------------ message limits

    @Test
    void eitherSideRekeysAfterRekeyAfterMessages() {
        SessionPair pair = new SessionPair(34);
        pair.handshake();
        Keypair responderKeys = pair.b.currentKeypair();
        responderKeys.setSendCounter(Protocol.REKEY_AFTER_MESSAGES - 100);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideB);
        assertEquals(List.of(Messages.TYPE_TRANSPORT), types(pair.sideB.toPeer));
        pair.deliverAll();

        // A response counts as a handshake sent, as in WireGuard: the responder's own initiation
        // waits REKEY_TIMEOUT after it.
        pair.advanceSeconds(Protocol.REKEY_TIMEOUT.toSeconds() + 1);
        responderKeys.setSendCounter(Protocol.REKEY_AFTER_MESSAGES + 1);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideB);
        assertEquals(List.of(Messages.TYPE_TRANSPORT, Messages.TYPE_INITIATION), types(pair.sideB.toPeer),
                "the responder too rekeys by message count");
        pair.deliverAll();
        assertEquals(2, pair.sideA.delivered.size());
        assertEquals(2, pair.b.handshakesCompleted());
        assertTrue(pair.b.currentKeypair().initiator);
        assertEquals(1, pair.b.currentKeypair().sendCounter(), "fresh keypair (one keepalive sent)");
    }

    @Test
    void aKeypairIsNotUsedAtRejectAfterMessages() {
        SessionPair pair = new SessionPair(35);
        pair.handshake();
        Keypair kp = pair.a.currentKeypair();
        pair.advanceSeconds(1); // so the rekey initiation has a newer timestamp than the first one
        kp.setSendCounter(Protocol.REJECT_AFTER_MESSAGES - 1);
        assertTrue(pair.a.canSend(pair.now));
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        List<ByteBuffer> out = pair.take(pair.a);
        assertEquals(List.of(Messages.TYPE_TRANSPORT, Messages.TYPE_INITIATION), types(out),
                "the last usable counter is sent, and a rekey starts");
        assertTrue(pair.receive(pair.b, out.get(0)), "and accepted");
        assertEquals(1, pair.sideB.delivered.size());

        assertFalse(pair.a.canSend(pair.now));
        assertFalse(pair.a.sendKeepalive(pair.now, pair.sideA));
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideA);
        assertEquals(1, pair.a.stagedPackets());
        assertTrue(pair.sideA.toPeer.isEmpty(), "nothing sent; the handshake is already under way");

        // The receiver refuses counters at or above the limit even when they authenticate.
        kp.setSendCounter(Protocol.REJECT_AFTER_MESSAGES);
        assertFalse(pair.receive(pair.b, SessionPair.transport(kp, ipv4(3, 60))));
        kp.setSendCounter(-1L);
        assertFalse(pair.receive(pair.b, SessionPair.transport(kp, ipv4(4, 60))));
        assertEquals(2L, drops(pair.b, SessionDrop.REPLAYED));
        assertEquals(1, pair.sideB.delivered.size());

        pair.sideA.toPeer.add(out.get(1));
        pair.deliverAll();
        assertEquals(2, pair.sideB.delivered.size());
        assertArrayEquals(ipv4(2, 60), pair.sideB.delivered.get(1));
    }

    @Test
    void aResponderWithDataWaitsForTheConfirmationInsteadOfStartingItsOwnHandshake() {
        SessionPair pair = new SessionPair(36);
        pair.a.initiate(pair.now, pair.sideA, true);
        pair.b.receive(pair.now, SessionPair.A_ADDR, pair.sideA.toPeer.remove(0), pair.sideB); // b answers
        assertEquals(List.of(Messages.TYPE_RESPONSE), types(pair.sideB.toPeer));
        ByteBuffer response = pair.sideB.toPeer.remove(0);

        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideB); // data before a's confirmation

        assertEquals(List.of(), types(pair.sideB.toPeer), "staged, no second handshake");
        assertEquals(1, pair.b.stagedPackets());
        pair.a.receive(pair.now, SessionPair.B_ADDR, response, pair.sideA);
        pair.deliverAll(); // a's confirmation reaches b, which then sends its staged packet
        assertEquals(0, pair.b.stagedPackets());
        assertEquals(1, pair.sideA.delivered.size());
        assertEquals(1, pair.a.handshakesCompleted());
    }

    @Test
    void aHandshakeMessageFromThePeerAnswersTheFifteenSecondRule() {
        SessionPair pair = new SessionPair(37);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA); // data sent, no reply yet
        pair.sideA.toPeer.clear(); // lost
        pair.advanceSeconds(14);
        pair.b.initiate(pair.now, pair.sideB, true); // the peer's initiation is an authenticated packet
        pair.a.receive(pair.now, SessionPair.B_ADDR, pair.sideB.toPeer.remove(0), pair.sideA);
        pair.sideA.toPeer.clear(); // a's response is lost: no transport message reaches a afterwards
        pair.sideB.toPeer.clear();

        pair.advanceSeconds(2); // 16 s after the unanswered data
        pair.a.tick(pair.now, pair.sideA);

        assertEquals(List.of(), types(pair.sideA.toPeer), "no new handshake: the peer was heard from");
    }
}
