package io.pinhole.wireguard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** WireGuardSessionTest: two sessions in memory, from handshake to data, told as scripts. */
class WireGuardSessionTest {

    @Test
    void aHandshakeThenPacketsBothWaysArriveIntact() {
        SessionPair pair = new SessionPair(1);
        byte[] ping = SessionPair.ipv4(7, 84);

        pair.a.send(pair.now, ByteBuffer.wrap(ping), pair.sideA); // staged, and an initiation goes out
        assertEquals(1, pair.a.stagedPackets());
        pair.deliverAll();

        assertEquals(1, pair.b.handshakesCompleted());
        assertEquals(1, pair.a.handshakesCompleted());
        assertEquals(1, pair.sideB.delivered.size());
        assertArrayEquals(ping, pair.sideB.delivered.get(0), "padding stripped, bytes intact");

        byte[] pong = SessionPair.ipv4(8, 1420);
        pair.b.send(pair.now, ByteBuffer.wrap(pong), pair.sideB);
        pair.deliverAll();
        assertArrayEquals(pong, pair.sideA.delivered.get(0));
        assertTrue(pair.sideA.authenticatedFrom.contains(SessionPair.B_ADDR));
    }

    @Test
    void aReplayedTransportMessageIsDroppedAndCounted() {
        SessionPair pair = new SessionPair(2);
        pair.a.initiate(pair.now, pair.sideA, true);
        pair.deliverAll();
        pair.a.send(pair.now, ByteBuffer.wrap(SessionPair.ipv4(1, 60)), pair.sideA);
        ByteBuffer captured = pair.sideA.toPeer.get(0).duplicate();
        pair.deliverAll();
        assertEquals(1, pair.sideB.delivered.size());

        assertFalse(pair.b.receive(pair.now, SessionPair.A_ADDR, captured, pair.sideB));

        assertEquals(1, pair.sideB.delivered.size());
        assertEquals(1L, pair.b.drops().get(SessionDrop.REPLAYED));
    }
}
