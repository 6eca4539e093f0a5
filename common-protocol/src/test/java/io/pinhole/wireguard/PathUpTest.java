package io.pinhole.wireguard;

import static io.pinhole.wireguard.SessionPair.ipv4;
import static io.pinhole.wireguard.SessionPair.typeOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * PathUpTest: who initiates when a path to the peer comes up (only the side whose public key
 * sorts first; the other waits REKEY_TIMEOUT), and that initiations that cross anyway still
 * end in a working tunnel after a bounded number of retries.
 */
class PathUpTest {
    private static final long MS = 1_000_000L;
    private static final long S = 1_000_000_000L;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void onlyTheSideWhoseKeySortsFirstInitiates(long seed) {
        SessionPair pair = new SessionPair(seed);
        WireGuardSession first = pair.firstByKey();
        WireGuardSession second = pair.other(first);

        second.pathUp(pair.now, pair.side(second));
        assertTrue(pair.side(second).toPeer.isEmpty(), "the second side waits");
        first.pathUp(pair.now, pair.side(first));
        List<ByteBuffer> out = List.copyOf(pair.side(first).toPeer);
        assertEquals(1, out.size());
        assertEquals(Messages.TYPE_INITIATION, typeOf(out.get(0)));

        pair.deliverAll();
        assertTrue(first.canSend(pair.now));
        assertTrue(second.canSend(pair.now));
        for (long t = 0; t < 20 * S; t += 100 * MS) {
            pair.now += 100 * MS;
            pair.tickBoth();
            second.pathUp(pair.now, pair.side(second));
            first.pathUp(pair.now, pair.side(first));
        }
        assertTrue(pair.sideA.toPeer.isEmpty() && pair.sideB.toPeer.isEmpty(),
                "pathUp with a usable keypair does nothing");
        assertEquals(1, first.handshakesCompleted());
    }

    /**
     * The path moves (relay to direct) while the first initiation is in flight: the same bytes
     * go again on the new path. The responder answers whichever copy it gets first and drops the
     * other as a replay, and either way the answer completes the handshake at once. (A new
     * initiation made in the same timestamp tick was dropped as a replay whenever the old one
     * arrived first, and the answer to the old one no longer matched: 5 s lost.)
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void onAPathMoveTheInitiationInFlightIsSentAgainAndEitherCopyCompletesTheHandshake(long seed) {
        for (boolean oldCopyFirst : new boolean[] {true, false}) {
            SessionPair pair = new SessionPair(seed);
            WireGuardSession first = pair.firstByKey();
            WireGuardSession second = pair.other(first);
            first.pathUp(pair.now, pair.side(first));
            ByteBuffer onOldPath = pair.take(first).get(0);

            pair.now += 30 * MS;
            first.pathMoved(pair.now, pair.side(first));
            List<ByteBuffer> onNewPath = pair.take(first);
            assertEquals(1, onNewPath.size());
            assertEquals(onOldPath, onNewPath.get(0), "the same initiation, byte for byte");

            ByteBuffer arrivesFirst = oldCopyFirst ? onOldPath : onNewPath.get(0);
            ByteBuffer arrivesSecond = oldCopyFirst ? onNewPath.get(0) : onOldPath;
            assertTrue(pair.receive(second, arrivesFirst));
            assertFalse(pair.receive(second, arrivesSecond), "the second copy is a replay");
            assertEquals(1, pair.side(second).toPeer.size(), "one response");
            pair.deliverAll();
            assertTrue(first.canSend(pair.now), "the handshake completed without a retry");
            assertTrue(second.canSend(pair.now));
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void theSecondSideWaitsFiveSecondsBeforeInitiatingForItsStagedData(long seed) {
        SessionPair pair = new SessionPair(seed);
        WireGuardSession second = pair.other(pair.firstByKey());
        long t0 = pair.now;
        second.pathUp(pair.now, pair.side(second));
        second.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.side(second));
        assertEquals(1, second.stagedPackets());
        assertTrue(pair.side(second).toPeer.isEmpty(), "waits for the first side's initiation");
        while (pair.now - t0 < 5 * S - MS) {
            pair.now += MS;
            second.tick(pair.now, pair.side(second));
            if (pair.now - t0 == 4 * S) {
                second.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.side(second));
            }
        }
        assertTrue(pair.side(second).toPeer.isEmpty(), "still waiting 1 ms before REKEY_TIMEOUT");
        pair.now = t0 + 5 * S;
        second.tick(pair.now, pair.side(second));
        assertEquals(1, pair.side(second).toPeer.size());
        assertEquals(Messages.TYPE_INITIATION, typeOf(pair.side(second).toPeer.get(0)));
        pair.deliverAll();
        List<byte[]> got = pair.side(pair.firstByKey()).delivered;
        assertEquals(2, got.size());
        assertArrayEquals(ipv4(1, 60), got.get(0));
        assertArrayEquals(ipv4(2, 60), got.get(1));
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2})
    void theSecondSideInitiatesItselfOnceTheWaitIsOverEvenWithoutData(long seed) {
        // a peer that never initiates (a WireGuard server that has no endpoint for us) is still reached
        SessionPair pair = new SessionPair(seed);
        WireGuardSession second = pair.other(pair.firstByKey());
        second.pathUp(pair.now, pair.side(second));
        for (int i = 0; i < 49; i++) {
            pair.now += 100 * MS;
            second.tick(pair.now, pair.side(second));
        }
        assertTrue(pair.side(second).toPeer.isEmpty(), "silent during the 5 s wait");
        pair.now += 100 * MS;
        second.tick(pair.now, pair.side(second));
        assertEquals(1, pair.side(second).toPeer.size(), "one initiation when the wait is over");
        assertEquals(Messages.TYPE_INITIATION, pair.side(second).toPeer.get(0).get(0));
        pair.deliverAll();
        assertTrue(second.canSend(pair.now), "and the tunnel comes up from the second side");
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2})
    void theFirstSidesInitiationDuringTheWaitServesTheSecondSidesData(long seed) {
        SessionPair pair = new SessionPair(seed);
        WireGuardSession first = pair.firstByKey();
        WireGuardSession second = pair.other(first);
        second.pathUp(pair.now, pair.side(second));
        second.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.side(second));
        pair.now += 2 * S;
        first.pathUp(pair.now, pair.side(first));
        pair.deliverAll();
        assertEquals(1, pair.side(first).delivered.size());
        for (int i = 0; i < 100; i++) {
            pair.now += 100 * MS;
            pair.tickBoth();
        }
        assertTrue(pair.sideA.toPeer.isEmpty() && pair.sideB.toPeer.isEmpty());
        assertEquals(1, second.handshakesCompleted());
    }

    /**
     * Both sides have data at the same moment and initiate at once; each accepts the other's
     * initiation, which replaces its own, so both responses fail. The retry timers must still
     * produce a working tunnel.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
    void crossingInitiationsStillEndInAWorkingTunnel(long seed) {
        SessionPair pair = new SessionPair(seed);
        long t0 = pair.now;
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 60)), pair.sideA);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(2, 60)), pair.sideB);
        assertEquals(1, pair.sideA.toPeer.size());
        assertEquals(1, pair.sideB.toPeer.size());
        pair.deliverAll();

        while (pair.sideA.delivered.isEmpty() || pair.sideB.delivered.isEmpty()) {
            assertTrue(pair.now - t0 < 30 * S, "no working tunnel 30 s after crossing initiations; drops a="
                    + pair.a.drops() + " b=" + pair.b.drops());
            pair.now += 10 * MS;
            pair.tickBoth();
            pair.deliverAll();
        }
        assertArrayEquals(ipv4(2, 60), pair.sideA.delivered.get(0));
        assertArrayEquals(ipv4(1, 60), pair.sideB.delivered.get(0));
        assertTrue(pair.a.canSend(pair.now) && pair.b.canSend(pair.now));
        // and it settles: no further handshakes from left-over retry timers (10 s: within the
        // 15 s after which unanswered data would rightly start one, as no keepalives are sent here)
        long handshakes = pair.a.handshakesCompleted() + pair.b.handshakesCompleted();
        for (int i = 0; i < 100; i++) {
            pair.now += 100 * MS;
            pair.tickBoth();
            pair.deliverAll();
        }
        assertEquals(handshakes, pair.a.handshakesCompleted() + pair.b.handshakesCompleted());
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(3, 60)), pair.sideA);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(4, 60)), pair.sideB);
        pair.deliverAll();
        assertEquals(2, pair.sideA.delivered.size());
        assertEquals(2, pair.sideB.delivered.size());
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void crossingRekeysOfALiveTunnelKeepItWorking(long seed) {
        SessionPair pair = new SessionPair(seed);
        pair.handshake();
        pair.advanceSeconds(1);
        pair.a.initiate(pair.now, pair.sideA, true);
        pair.b.initiate(pair.now, pair.sideB, true);
        pair.deliverAll();
        for (int i = 0; i < 3000; i++) {
            pair.now += 10 * MS;
            pair.tickBoth();
            pair.deliverAll();
        }
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(3, 60)), pair.sideA);
        pair.b.send(pair.now, ByteBuffer.wrap(ipv4(4, 60)), pair.sideB);
        pair.deliverAll();
        assertEquals(1, pair.sideA.delivered.size());
        assertEquals(1, pair.sideB.delivered.size());
        assertFalse(pair.a.stagedPackets() > 0 || pair.b.stagedPackets() > 0);
    }
}
