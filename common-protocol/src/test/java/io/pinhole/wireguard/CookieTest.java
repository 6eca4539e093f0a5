package io.pinhole.wireguard;

import static io.pinhole.wireguard.SessionPair.bytes;
import static io.pinhole.wireguard.SessionPair.drops;
import static io.pinhole.wireguard.SessionPair.ipv4;
import static io.pinhole.wireguard.SessionPair.totalDrops;
import static io.pinhole.wireguard.SessionPair.typeOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePrivateKey;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CookieTest: WireGuard's DoS defence in a session: mac1 checked before anything else, cookie
 * replies under load (never larger than what they answer), mac2 from a consumed cookie, and the
 * per-address rate limit of handshakes processed under load.
 */
class CookieTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;
    /** Under load above two handshake messages per second. */
    private static final SessionTimers LOADED_AT_2 = new SessionTimers(1420, 128, 2, 4096);
    /** Always under load. */
    private static final SessionTimers ALWAYS_LOADED = new SessionTimers(1420, 128, 0, 4096);

    private static SessionPair pair(long seed, SessionTimers a, SessionTimers b) {
        return new SessionPair(seed, 1_000_000_000_000L, a, b, null);
    }

    private static byte[] mac2(ByteBuffer initiation) {
        byte[] m = bytes(initiation);
        return Arrays.copyOfRange(m, Messages.INITIATION_MAC2, Messages.INITIATION_MAC2 + 16);
    }

    /** A sends a fresh initiation (a newer timestamp) and hands it back without delivering it. */
    private static ByteBuffer freshInitiation(SessionPair pair) {
        pair.a.initiate(pair.now, pair.sideA, true);
        List<ByteBuffer> out = pair.take(pair.a);
        assertEquals(1, out.size());
        return out.get(0);
    }

    @Test
    void theThirdHandshakeMessageInASecondGetsACookieAndTheRetryWithMac2IsProcessed() {
        SessionPair pair = pair(51, SessionTimers.defaults(), LOADED_AT_2);
        byte[] packet = ipv4(1, 60);
        pair.a.send(pair.now, ByteBuffer.wrap(packet), pair.sideA);
        ByteBuffer first = pair.take(pair.a).get(0);
        assertTrue(pair.receive(pair.b, first));
        pair.now += 100 * MS;
        ByteBuffer second = freshInitiation(pair);
        assertTrue(pair.receive(pair.b, second), "two per second are fine");
        pair.dropAll(); // the responses are lost
        pair.now += 100 * MS;
        ByteBuffer third = freshInitiation(pair);
        assertFalse(pair.receive(pair.b, third));

        assertEquals(1L, drops(pair.b, SessionDrop.COOKIE_DEMANDED));
        assertEquals(2, pair.b.handshakesCompleted(), "the third was not processed");
        assertTrue(pair.sideB.toPeer.isEmpty(), "no response");
        assertEquals(1, pair.sideB.sentTo.size(), "a cookie reply, to the sender's address");
        ByteBuffer reply = pair.sideB.sentTo.remove(0);
        assertEquals(Messages.TYPE_COOKIE_REPLY, typeOf(reply));
        assertEquals(Messages.COOKIE_REPLY_LENGTH, reply.remaining());
        assertTrue(reply.remaining() <= third.remaining(), "no amplification");
        assertEquals(Messages.readIntLe(bytes(third), Messages.INITIATION_SENDER),
                Messages.readIntLe(bytes(reply), Messages.COOKIE_RECEIVER), "addressed to the initiation's sender index");
        assertArrayEquals(new byte[16], mac2(third), "no cookie yet, so no mac2");

        assertFalse(pair.receive(pair.a, reply));
        assertTrue(pair.a.drops().isEmpty(), "the initiator took the cookie: " + pair.a.drops());

        // The retry after REKEY_TIMEOUT carries mac2.
        long deadline = pair.now + 6 * S;
        while (pair.sideA.toPeer.isEmpty()) {
            assertTrue(pair.now - deadline < 0, "no retry");
            pair.now += 10 * MS;
            pair.a.tick(pair.now, pair.sideA);
        }
        ByteBuffer retry = pair.take(pair.a).get(0);
        assertFalse(Arrays.equals(new byte[16], mac2(retry)), "mac2 from the cookie");

        // B is under load again in this second: two old initiations (valid mac1) come first.
        assertFalse(pair.receive(pair.b, first));
        assertFalse(pair.receive(pair.b, second));
        assertEquals(2L, drops(pair.b, SessionDrop.HANDSHAKE_REPLAYED));
        assertTrue(pair.receive(pair.b, retry), "mac2 valid: processed although under load");
        assertEquals(1L, drops(pair.b, SessionDrop.COOKIE_DEMANDED));
        assertTrue(pair.sideB.sentTo.isEmpty());
        assertEquals(3, pair.b.handshakesCompleted());
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size());
        assertArrayEquals(packet, pair.sideB.delivered.get(0));
    }

    @Test
    void aFreshInitiationWithoutMac2UnderLoadGetsACookieNotProcessing() {
        SessionPair pair = pair(52, SessionTimers.defaults(), ALWAYS_LOADED);
        for (int i = 0; i < 3; i++) {
            pair.now += S;
            assertFalse(pair.receive(pair.b, freshInitiation(pair)));
        }
        assertEquals(3L, drops(pair.b, SessionDrop.COOKIE_DEMANDED));
        assertEquals(0, pair.b.handshakesCompleted());
        assertEquals(3, pair.sideB.sentTo.size());
        assertTrue(pair.sideB.authenticatedFrom.isEmpty(), "a message we did not process proves nothing");
    }

    @Test
    void anInitiatorUnderLoadDemandsACookieForTheResponseAndCompletesAfterItsRetry() {
        SessionPair pair = pair(53, ALWAYS_LOADED, SessionTimers.defaults());
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        ByteBuffer response = pair.take(pair.b).get(0);
        assertFalse(pair.receive(pair.a, response));
        assertEquals(1L, drops(pair.a, SessionDrop.COOKIE_DEMANDED));
        assertEquals(1, pair.sideA.sentTo.size());
        ByteBuffer reply = pair.sideA.sentTo.remove(0);
        assertTrue(reply.remaining() <= response.remaining(), "64 <= 92: no amplification");
        assertEquals(Messages.readIntLe(bytes(response), Messages.RESPONSE_SENDER),
                Messages.readIntLe(bytes(reply), Messages.COOKIE_RECEIVER));

        // The responder takes the cookie for its response (as WireGuard does), so its answer to
        // the initiator's retry carries mac2 and gets through.
        pair.receive(pair.b, reply);
        assertEquals(0L, drops(pair.b, SessionDrop.BAD_COOKIE_REPLY), "cookie reply to our response accepted");
        for (int i = 0; i < 600 && pair.sideB.delivered.isEmpty(); i++) {
            pair.now += 10 * MS;
            pair.a.tick(pair.now, pair.sideA);
            pair.deliverAll();
            for (ByteBuffer r : List.copyOf(pair.sideA.sentTo)) {
                pair.receive(pair.b, r);
            }
            pair.sideA.sentTo.clear();
        }
        assertEquals(1, pair.sideB.delivered.size(), "drops at a: " + pair.a.drops() + ", b: " + pair.b.drops());
        assertEquals(1L, drops(pair.a, SessionDrop.COOKIE_DEMANDED), "only the first response needed a cookie");
    }

    @Test
    void mac1IsCheckedBeforeAnythingElse() {
        SessionPair pair = pair(54, SessionTimers.defaults(), ALWAYS_LOADED);
        java.security.SecureRandom r = SessionPair.seeded(540);
        NoisePrivateKey stranger = NoisePrivateKey.generate(r);
        NoisePrivateKey someoneElse = NoisePrivateKey.generate(r);
        WireGuardSession forOther = new WireGuardSession(new Identity(stranger, someoneElse.publicKey(), null),
                SessionPair.seeded(541), pair.wall, SessionTimers.defaults());
        SessionPair.Side out = pair.new Side("stranger");
        forOther.initiate(pair.now, out, true);
        ByteBuffer notForB = out.toPeer.get(0);
        assertFalse(pair.receive(pair.b, notForB));
        assertEquals(1L, drops(pair.b, SessionDrop.BAD_MAC1));

        // Our peer's initiation with a low-order ephemeral key would fail its first DH (and be
        // counted HANDSHAKE_FAILED); with a broken mac1 it never gets that far.
        byte[] evil = bytes(freshInitiation(pair));
        Arrays.fill(evil, Messages.INITIATION_EPHEMERAL, Messages.INITIATION_EPHEMERAL + 32, (byte) 0);
        assertFalse(pair.receive(pair.b, ByteBuffer.wrap(evil)));
        assertEquals(2L, drops(pair.b, SessionDrop.BAD_MAC1));
        assertEquals(0L, drops(pair.b, SessionDrop.HANDSHAKE_FAILED));

        // Under load, a bad mac1 gets no cookie reply either: nothing is sent for it at all.
        assertTrue(pair.sideB.sentTo.isEmpty());
        assertTrue(pair.sideB.toPeer.isEmpty());
        assertEquals(2L, totalDrops(pair.b));
    }

    @Test
    void messagesWithABadMac1DoNotCountTowardsLoad() {
        SessionPair pair = pair(55, SessionTimers.defaults(), LOADED_AT_2);
        byte[] good = bytes(freshInitiation(pair));
        for (int i = 0; i < 20; i++) {
            byte[] bad = good.clone();
            bad[Messages.INITIATION_MAC1 + i % 16] ^= 1;
            assertFalse(pair.receive(pair.b, ByteBuffer.wrap(bad)));
        }
        assertEquals(20L, drops(pair.b, SessionDrop.BAD_MAC1));
        assertTrue(pair.receive(pair.b, ByteBuffer.wrap(good)), "the first valid message of the second");
        assertEquals(0L, drops(pair.b, SessionDrop.COOKIE_DEMANDED));
    }

    @Test
    void aResponseWithABadMac1IsDroppedAndTheHandshakeStaysOpen() {
        SessionPair pair = new SessionPair(56);
        pair.a.initiate(pair.now, pair.sideA, true);
        pair.receive(pair.b, pair.take(pair.a).get(0));
        byte[] response = bytes(pair.take(pair.b).get(0));
        response[Messages.RESPONSE_MAC1] ^= (byte) 0x80;
        assertFalse(pair.receive(pair.a, ByteBuffer.wrap(response)));
        assertEquals(1L, drops(pair.a, SessionDrop.BAD_MAC1));
        response[Messages.RESPONSE_MAC1] ^= (byte) 0x80;
        assertTrue(pair.receive(pair.a, ByteBuffer.wrap(response)));
    }

    @Test
    void cookieRepliesThatAnswerNothingAreRejected() {
        SessionPair pair = pair(57, SessionTimers.defaults(), ALWAYS_LOADED);
        ByteBuffer initiation = freshInitiation(pair);
        pair.receive(pair.b, initiation);
        byte[] reply = bytes(pair.sideB.sentTo.remove(0));

        byte[] wrongIndex = reply.clone();
        wrongIndex[Messages.COOKIE_RECEIVER] ^= 1;
        assertFalse(pair.receive(pair.a, ByteBuffer.wrap(wrongIndex)));
        assertEquals(1L, drops(pair.a, SessionDrop.BAD_COOKIE_REPLY));

        // after a retry (new index, new mac1) the old reply answers nothing we have outstanding
        pair.now += S;
        ByteBuffer retry = freshInitiation(pair);
        assertFalse(pair.receive(pair.a, ByteBuffer.wrap(reply)));
        assertEquals(2L, drops(pair.a, SessionDrop.BAD_COOKIE_REPLY));
        assertArrayEquals(new byte[16], mac2(freshInitiationAfter(pair, S)), "no cookie taken");

        // and a session with no handshake of its own rejects any cookie reply
        SessionPair idle = new SessionPair(58);
        assertFalse(idle.receive(idle.a, ByteBuffer.wrap(reply)));
        assertEquals(1L, drops(idle.a, SessionDrop.BAD_COOKIE_REPLY));
        assertEquals(Messages.TYPE_INITIATION, typeOf(retry));
    }

    private static ByteBuffer freshInitiationAfter(SessionPair pair, long nanos) {
        pair.now += nanos;
        return freshInitiation(pair);
    }

    @Test
    void aCookieIsUsedForTwoMinutesOnly() {
        SessionPair pair = pair(59, SessionTimers.defaults(), ALWAYS_LOADED);
        pair.receive(pair.b, freshInitiation(pair));
        pair.receive(pair.a, pair.sideB.sentTo.remove(0));
        long gotAt = pair.now;
        pair.now = gotAt + 120 * S - MS;
        assertFalse(Arrays.equals(new byte[16], mac2(freshInitiation(pair))));
        pair.now = gotAt + 120 * S;
        assertArrayEquals(new byte[16], mac2(freshInitiation(pair)));
    }

    @Test
    void aCookieIsBoundToTheSourceAddress() {
        SessionPair pair = pair(60, SessionTimers.defaults(), ALWAYS_LOADED);
        pair.receive(pair.b, freshInitiation(pair));
        pair.receive(pair.a, pair.sideB.sentTo.remove(0));
        pair.now += S;
        ByteBuffer withMac2 = freshInitiation(pair);
        InetSocketAddress roamed = new InetSocketAddress("198.51.100.2", 40009);
        assertFalse(pair.b.receive(pair.now, roamed, withMac2.duplicate(), pair.sideB));
        assertEquals(2L, drops(pair.b, SessionDrop.COOKIE_DEMANDED), "another port, another cookie");
        assertTrue(pair.receive(pair.b, withMac2), "from the address the cookie was made for");
    }

    @Test
    void underLoadEachAddressIsRateLimitedToABurstOfFive() {
        SessionPair pair = pair(61, SessionTimers.defaults(), ALWAYS_LOADED);
        pair.receive(pair.b, freshInitiation(pair));
        pair.receive(pair.a, pair.sideB.sentTo.remove(0));
        pair.now += S;
        int processedOrReplayed = 0;
        for (int i = 0; i < 8; i++) {
            pair.wallSkewNanos += S; // always a newer timestamp
            ByteBuffer m = freshInitiation(pair);
            pair.receive(pair.b, m);
        }
        processedOrReplayed += (int) (pair.b.handshakesCompleted() + drops(pair.b, SessionDrop.HANDSHAKE_REPLAYED));
        assertEquals(5, processedOrReplayed, "five got past the rate limiter");
        assertEquals(1, pair.b.handshakesCompleted(), "the other four within 20 ms of the first");
        assertEquals(3L, drops(pair.b, SessionDrop.RATE_LIMITED));
        pair.now += 50 * MS; // one more token
        pair.wallSkewNanos += S;
        assertTrue(pair.receive(pair.b, freshInitiation(pair)));
        pair.wallSkewNanos += S;
        assertFalse(pair.receive(pair.b, freshInitiation(pair)));
        assertEquals(4L, drops(pair.b, SessionDrop.RATE_LIMITED));
    }
}
