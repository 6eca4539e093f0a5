package io.pinhole.wireguard;

import static io.pinhole.wireguard.SessionPair.bytes;
import static io.pinhole.wireguard.SessionPair.ipv4;
import static io.pinhole.wireguard.SessionPair.ipv6;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * SessionFuzzTest: 200,000 seeded random and mutated datagrams (random bytes, well-sized
 * random messages, genuine messages with flipped bits or bytes, truncated, extended, spliced,
 * replayed, with counters or indices changed) into both ends of a live tunnel. Nothing may
 * throw, be delivered, be answered or complete a handshake, and the tunnel keeps working (it is
 * checked with genuine traffic throughout). Seed: -Dpinhole.fuzz.seed.
 */
class SessionFuzzTest {
    private static final int ITERATIONS = 200_000;

    /** Delivers all queued datagrams, recording each in {@code corpus} first. */
    private static void deliverRecording(SessionPair pair, List<byte[]> corpus) {
        while (!pair.sideA.toPeer.isEmpty() || !pair.sideB.toPeer.isEmpty()) {
            for (ByteBuffer d : pair.take(pair.a)) {
                corpus.add(bytes(d));
                pair.receive(pair.b, d);
            }
            for (ByteBuffer d : pair.take(pair.b)) {
                corpus.add(bytes(d));
                pair.receive(pair.a, d);
            }
        }
    }

    /** Genuine traffic both ways must arrive exactly. */
    private static void checkTunnel(SessionPair pair, List<byte[]> corpus, int id) {
        int a = pair.sideA.delivered.size();
        int b = pair.sideB.delivered.size();
        byte[] toB = ipv4(id, 20 + id % 1400);
        byte[] toA = ipv6(id, id % 1380);
        pair.a.send(pair.now, ByteBuffer.wrap(toB), pair.sideA);
        pair.b.send(pair.now, ByteBuffer.wrap(toA), pair.sideB);
        deliverRecording(pair, corpus);
        assertEquals(a + 1, pair.sideA.delivered.size(), "tunnel b->a after " + id);
        assertEquals(b + 1, pair.sideB.delivered.size(), "tunnel a->b after " + id);
        assertArrayEquals(toA, pair.sideA.delivered.get(a));
        assertArrayEquals(toB, pair.sideB.delivered.get(b));
    }

    private static byte[] mutate(Random r, List<byte[]> corpus, SessionPair pair) {
        byte[] base = corpus.get(r.nextInt(corpus.size())).clone();
        switch (r.nextInt(10)) {
            case 0 -> {
                byte[] m = new byte[r.nextInt(r.nextBoolean() ? 40 : 1600)];
                r.nextBytes(m);
                return m;
            }
            case 1 -> {
                int type = 1 + r.nextInt(4);
                int n = switch (type) {
                    case 1 -> Messages.INITIATION_LENGTH;
                    case 2 -> Messages.RESPONSE_LENGTH;
                    case 3 -> Messages.COOKIE_REPLY_LENGTH;
                    default -> Messages.TRANSPORT_MIN_LENGTH + r.nextInt(1450);
                };
                byte[] m = new byte[n];
                r.nextBytes(m);
                m[0] = (byte) type;
                m[1] = 0;
                m[2] = 0;
                m[3] = 0;
                return m;
            }
            case 2 -> {
                int k = 1 + r.nextInt(8);
                for (int i = 0; i < k; i++) {
                    base[r.nextInt(base.length)] = (byte) r.nextInt(256);
                }
                return base;
            }
            case 3 -> {
                int bit = r.nextInt(base.length * 8);
                base[bit >>> 3] ^= (byte) (1 << (bit & 7));
                return base;
            }
            case 4 -> {
                return Arrays.copyOf(base, r.nextInt(base.length + 64));
            }
            case 5 -> {
                return base; // a replay
            }
            case 6 -> {
                byte[] other = corpus.get(r.nextInt(corpus.size()));
                int cut = r.nextInt(Math.min(base.length, other.length) + 1);
                System.arraycopy(other, cut, base, cut, Math.min(base.length, other.length) - cut);
                return base;
            }
            case 7 -> {
                if (base[0] == Messages.TYPE_TRANSPORT) {
                    Messages.writeLongLe(base, Messages.TRANSPORT_COUNTER,
                            r.nextBoolean() ? r.nextLong() : r.nextInt(100_000));
                }
                return base;
            }
            case 8 -> {
                if (base[0] == Messages.TYPE_TRANSPORT) {
                    // aimed at a live keypair of either side
                    Keypair kp = (r.nextBoolean() ? pair.a : pair.b).currentKeypair();
                    if (kp != null) {
                        Messages.writeIntLe(base, Messages.TRANSPORT_RECEIVER, r.nextBoolean() ? kp.localIndex : kp.remoteIndex);
                    }
                    base[Messages.TRANSPORT_HEADER_LENGTH + r.nextInt(base.length - Messages.TRANSPORT_HEADER_LENGTH)]
                            ^= (byte) (1 + r.nextInt(255));
                }
                return base;
            }
            default -> {
                // the mac2 field (or, for others, a tail) rewritten: unchecked when not under load
                int from = switch (base[0]) {
                    case Messages.TYPE_INITIATION -> Messages.INITIATION_MAC2;
                    case Messages.TYPE_RESPONSE -> Messages.RESPONSE_MAC2;
                    default -> Math.max(0, base.length - 16);
                };
                for (int i = from; i < base.length; i++) {
                    base[i] = (byte) r.nextInt(256);
                }
                return base;
            }
        }
    }

    @Test
    void hostileDatagramsIntoALiveTunnelChangeNothing() {
        long seed = Long.getLong("pinhole.fuzz.seed", 20_261_121L);
        Random r = new Random(seed);
        SessionPair pair = new SessionPair(seed);
        List<byte[]> corpus = new ArrayList<>();

        // A genuine history: a handshake each way, traffic, keepalives, and a cookie reply.
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 100)), pair.sideA);
        deliverRecording(pair, corpus);
        pair.advanceSeconds(1);
        pair.b.initiate(pair.now, pair.sideB, true);
        deliverRecording(pair, corpus);
        for (int i = 0; i < 20; i++) {
            checkTunnel(pair, corpus, i);
            pair.a.sendKeepalive(pair.now, pair.sideA);
            deliverRecording(pair, corpus);
        }
        SessionPair loaded = new SessionPair(seed + 1, 0, SessionTimers.defaults(), new SessionTimers(1420, 128, 0, 16),
                null);
        loaded.a.initiate(loaded.now, loaded.sideA, true);
        loaded.receive(loaded.b, loaded.take(loaded.a).get(0));
        corpus.add(bytes(loaded.sideB.sentTo.get(0)));

        long handshakesA = pair.a.handshakesCompleted();
        long handshakesB = pair.b.handshakesCompleted();
        int checks = 0;
        for (int i = 0; i < ITERATIONS; i++) {
            pair.now += r.nextInt(100_000);
            WireGuardSession to = r.nextBoolean() ? pair.a : pair.b;
            byte[] d = mutate(r, corpus, pair);
            int delivered = pair.sideA.delivered.size() + pair.sideB.delivered.size();
            boolean accepted;
            try {
                accepted = pair.receive(to, ByteBuffer.wrap(d));
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + ", datagram " + i + " threw: " + HexFormat.of().formatHex(d), e);
            }
            if (accepted || delivered != pair.sideA.delivered.size() + pair.sideB.delivered.size()
                    || !pair.sideA.toPeer.isEmpty() || !pair.sideB.toPeer.isEmpty()) {
                fail("seed " + seed + ", datagram " + i + " was accepted, delivered or answered: "
                        + HexFormat.of().formatHex(d));
            }
            if (i % 10_000 == 9_999) {
                pair.sideA.sentTo.clear(); // cookie replies while "under load" from replayed initiations
                pair.sideB.sentTo.clear();
                pair.tickBoth();
                assertTrue(pair.sideA.toPeer.isEmpty() && pair.sideB.toPeer.isEmpty(), "timers stay quiet");
                checkTunnel(pair, corpus, 1000 + checks++);
            }
        }
        assertEquals(handshakesA, pair.a.handshakesCompleted(), "no handshake completed by fuzz");
        assertEquals(handshakesB, pair.b.handshakesCompleted(), "no handshake completed by fuzz");
        checkTunnel(pair, corpus, 5000);
        // and a new handshake still works
        pair.advanceSeconds(1);
        pair.handshake();
        checkTunnel(pair, corpus, 5001);
    }

    @Test
    void hostileDatagramsDuringAHandshakeDoNotCompleteOrBreakIt() {
        long seed = Long.getLong("pinhole.fuzz.seed", 20_261_121L) + 7;
        Random r = new Random(seed);
        SessionPair pair = new SessionPair(seed);
        List<byte[]> corpus = new ArrayList<>();
        pair.a.send(pair.now, ByteBuffer.wrap(ipv4(1, 100)), pair.sideA);
        deliverRecording(pair, corpus);
        pair.advanceSeconds(1);
        pair.a.initiate(pair.now, pair.sideA, true);
        ByteBuffer initiation = pair.take(pair.a).get(0);
        corpus.add(bytes(initiation));
        pair.receive(pair.b, initiation);
        ByteBuffer response = pair.take(pair.b).get(0);
        corpus.add(bytes(response)); // (the genuine response, held back; mutations only)
        byte[] genuine = bytes(response);
        for (int i = 0; i < 20_000; i++) {
            byte[] d = mutate(r, corpus, pair);
            if (d.length == genuine.length && Arrays.equals(d, 0, Messages.RESPONSE_MAC2, genuine, 0,
                    Messages.RESPONSE_MAC2)) {
                continue; // the genuine response (mac2 is not checked when not under load)
            }
            WireGuardSession to = r.nextBoolean() ? pair.a : pair.b;
            try {
                pair.receive(to, ByteBuffer.wrap(d));
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + ", datagram " + i + " threw", e);
            }
            if (pair.a.handshakesCompleted() != 1 || !pair.sideA.toPeer.isEmpty() || !pair.sideB.toPeer.isEmpty()) {
                fail("seed " + seed + ", datagram " + i + " completed or answered: " + HexFormat.of().formatHex(d));
            }
        }
        // The fuzz put A under load (mutated responses with a valid mac1 count); a second later it is not.
        pair.advanceSeconds(1);
        assertTrue(pair.receive(pair.a, response), "the genuine response still completes the handshake");
        pair.deliverAll();
        checkTunnel(pair, corpus, 1);
    }
}
