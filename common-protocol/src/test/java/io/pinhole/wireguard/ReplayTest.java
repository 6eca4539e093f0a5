package io.pinhole.wireguard;

import static io.pinhole.wireguard.SessionPair.drops;
import static io.pinhole.wireguard.SessionPair.ipv4;
import static io.pinhole.wireguard.SessionPair.typeOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.replay.ReplayFilter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * ReplayTest: replayed or flooded handshake initiations (TAI64N timestamp and the 20 ms guard)
 * and replayed, stale or reordered transport messages.
 */
class ReplayTest {
    private static final long MS = 1_000_000L;

    // ------------------------------------------------------------------ initiations

    @Test
    void aReplayedInitiationIsRejectedAndChangesNothing() {
        SessionPair pair = new SessionPair(41);
        pair.a.initiate(pair.now, pair.sideA, true);
        ByteBuffer initiation = pair.sideA.toPeer.get(0).duplicate();
        pair.deliverAll();
        Keypair before = pair.b.currentKeypair();

        for (int i = 0; i < 3; i++) {
            pair.advanceSeconds(1);
            assertFalse(pair.receive(pair.b, initiation));
        }
        assertEquals(3L, drops(pair.b, SessionDrop.HANDSHAKE_REPLAYED));
        assertTrue(pair.sideB.toPeer.isEmpty(), "no response to a replay");
        assertTrue(pair.sideB.authenticatedFrom.size() == 2, "a replay does not count as the peer being alive");
        assertEquals(1, pair.b.handshakesCompleted());
        assertTrue(before == pair.b.currentKeypair());
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideB);
        pair.deliverAll();
        assertEquals(1, pair.sideA.delivered.size());
        assertEquals(1, pair.sideB.delivered.size());
    }

    @Test
    void anInitiationWithAnOlderTimestampIsRejected() {
        SessionPair pair = new SessionPair(42);
        pair.handshake();
        pair.advanceSeconds(1);
        pair.wallSkewNanos = -10_000 * MS; // the initiator's wall clock went back 10 s
        pair.a.initiate(pair.now, pair.sideA, true);
        assertFalse(pair.receive(pair.b, pair.take(pair.a).get(0)));
        assertEquals(1L, drops(pair.b, SessionDrop.HANDSHAKE_REPLAYED));
        // once the wall clock has passed the last accepted timestamp again, it works
        pair.wallSkewNanos = 0;
        pair.advanceSeconds(1);
        pair.handshake();
    }

    @Test
    void anInitiationWithinTwentyMillisecondsOfTheLastAcceptedIsRejected() {
        SessionPair pair = new SessionPair(43);
        pair.handshake();
        // The wall clock jumps so each new initiation carries a strictly newer timestamp: only
        // the 20 ms flood guard (monotonic time) can reject it.
        pair.now += 19 * MS;
        pair.wallSkewNanos += 1000 * MS;
        pair.a.initiate(pair.now, pair.sideA, true);
        assertFalse(pair.receive(pair.b, pair.take(pair.a).get(0)));
        assertEquals(1L, drops(pair.b, SessionDrop.HANDSHAKE_REPLAYED));

        pair.now += MS; // 20 ms after the last accepted one
        pair.wallSkewNanos += 1000 * MS;
        pair.a.initiate(pair.now, pair.sideA, true);
        assertTrue(pair.receive(pair.b, pair.take(pair.a).get(0)));
        assertEquals(2, pair.b.handshakesCompleted());
        pair.deliverAll();
        assertEquals(2, pair.a.handshakesCompleted());
        assertTrue(pair.b.canSend(pair.now));
    }

    @Test
    void theFloodGuardCountsFromTheLastAcceptedNotTheLastRejected() {
        SessionPair pair = new SessionPair(44);
        pair.handshake();
        for (int i = 1; i <= 4; i++) {
            pair.now += 5 * MS;
            pair.wallSkewNanos += 1000 * MS;
            pair.a.initiate(pair.now, pair.sideA, true);
            boolean accepted = pair.receive(pair.b, pair.take(pair.a).get(0));
            assertEquals(i == 4, accepted, "initiation " + i + " at " + 5 * i + " ms");
        }
    }

    // ------------------------------------------------------------------ transport

    /** Transport messages from A with the given counters (set through the keypair), in that order. */
    private static List<ByteBuffer> withCounters(SessionPair pair, long... counters) {
        List<ByteBuffer> out = new ArrayList<>();
        Keypair kp = pair.a.currentKeypair();
        for (long c : counters) {
            kp.setSendCounter(c);
            pair.a.send(pair.now, ByteBuffer.wrap(ipv4((int) c, 40)), pair.sideA);
            out.addAll(pair.take(pair.a));
        }
        return out;
    }

    @Test
    void aReplayedTransportMessageIsRejectedEveryTime() {
        SessionPair pair = new SessionPair(45);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        ByteBuffer m = pair.take(pair.a).get(0);
        assertTrue(pair.receive(pair.b, m));
        int alive = pair.sideB.authenticatedFrom.size();
        for (int i = 0; i < 5; i++) {
            assertFalse(pair.receive(pair.b, m));
        }
        assertEquals(5L, drops(pair.b, SessionDrop.REPLAYED));
        assertEquals(1, pair.sideB.delivered.size());
        assertEquals(alive, pair.sideB.authenticatedFrom.size(), "replays do not count as the peer being alive");
    }

    @Test
    void countersOutsideTheWindowAreRejectedInsideAccepted() {
        SessionPair pair = new SessionPair(46);
        pair.handshake();
        long w = ReplayFilter.WINDOW_SIZE;
        long high = 100_000;
        List<ByteBuffer> m = withCounters(pair, high, high - w - 1, high - w, high - 1, high - w - 1000, 5);
        assertTrue(pair.receive(pair.b, m.get(0)));
        assertFalse(pair.receive(pair.b, m.get(1)), "just outside the window");
        assertTrue(pair.receive(pair.b, m.get(2)), "the oldest counter in the window");
        assertTrue(pair.receive(pair.b, m.get(3)));
        assertFalse(pair.receive(pair.b, m.get(4)));
        assertFalse(pair.receive(pair.b, m.get(5)));
        assertEquals(3L, drops(pair.b, SessionDrop.REPLAYED));
        assertEquals(3, pair.sideB.delivered.size());
        assertArrayEquals(ipv4((int) (high - w), 40), pair.sideB.delivered.get(1));
    }

    @Test
    void aStaleCounterIsRejectedButNewerTrafficFlows() {
        SessionPair pair = new SessionPair(47);
        pair.handshake();
        List<ByteBuffer> old = withCounters(pair, 10);
        List<ByteBuffer> jump = withCounters(pair, 50_000);
        assertTrue(pair.receive(pair.b, jump.get(0)));
        assertFalse(pair.receive(pair.b, old.get(0)), "10 is more than the window behind 50000");
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(9, 60)), pair.sideA);
        pair.deliverAll();
        assertEquals(2, pair.sideB.delivered.size());
    }

    @Test
    void reorderingWithinTheWindowIsAcceptedExactlyOnce() {
        SessionPair pair = new SessionPair(48);
        pair.handshake();
        List<ByteBuffer> msgs = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            pair.a.send(pair.now, ByteBuffer.wrap(ipv4(i, 20 + i % 50)), pair.sideA);
            msgs.addAll(pair.take(pair.a));
        }
        List<ByteBuffer> shuffled = new ArrayList<>(msgs);
        Collections.shuffle(shuffled, new Random(48));
        for (ByteBuffer m : shuffled) {
            assertTrue(pair.receive(pair.b, m));
        }
        assertEquals(2000, pair.sideB.delivered.size());
        Set<Integer> ids = new HashSet<>();
        for (byte[] p : pair.sideB.delivered) {
            ids.add(ByteBuffer.wrap(p, 12, 4).getInt());
        }
        assertEquals(2000, ids.size(), "each packet exactly once");
        assertTrue(pair.b.drops().isEmpty());
        for (ByteBuffer m : shuffled) {
            assertFalse(pair.receive(pair.b, m));
        }
        assertEquals(2000L, drops(pair.b, SessionDrop.REPLAYED));
        assertEquals(2000, pair.sideB.delivered.size());
    }

    @Test
    void eachKeypairHasItsOwnReplayWindow() {
        SessionPair pair = new SessionPair(49);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        ByteBuffer old = pair.take(pair.a).get(0);
        pair.advanceSeconds(1);
        pair.handshake();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideA);
        ByteBuffer fresh = pair.take(pair.a).get(0);
        long counter = Messages.readLongLe(SessionPair.bytes(old), Messages.TRANSPORT_COUNTER);
        assertEquals(counter, Messages.readLongLe(SessionPair.bytes(fresh), Messages.TRANSPORT_COUNTER),
                "the same counter under two keypairs");
        assertTrue(pair.receive(pair.b, fresh));
        assertTrue(pair.receive(pair.b, old), "the old keypair's window is separate");
        assertFalse(pair.receive(pair.b, old));
        assertFalse(pair.receive(pair.b, fresh));
        assertEquals(Messages.TYPE_TRANSPORT, typeOf(old));
    }
}
