package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.ATTACKER;
import static io.pinhole.peer.PeerHarness.PEER;
import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER_ROAMED;
import static io.pinhole.peer.PeerHarness.PEER_SESSION;
import static io.pinhole.peer.PeerHarness.RENDEZVOUS;
import static io.pinhole.peer.PeerHarness.SELF;
import static io.pinhole.peer.PeerHarness.SESSION;
import static io.pinhole.peer.PeerHarness.STRANGER;
import static io.pinhole.peer.PeerHarness.plainData;
import static io.pinhole.wire.WireSamples.endpoint;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.peer.PeerHarness.Sent;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.DatagramFuzzer;
import io.pinhole.wire.Header;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.PlainData;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PeerMachineFuzzTest: a long seeded stream of valid, mutated and random datagrams, TUN packets
 * and ticks. Nothing may throw; the TUN device receives exactly the payloads of well-formed
 * PLAIN_DATA of the peer's current session; everything sent is well-formed and goes only to the
 * rendezvous or to an address the peer was learned at.
 */
class PeerMachineFuzzTest {
    private static final int STEPS = 200_000;
    private static final Logger MACHINE_LOG = Logger.getLogger(PeerMachine.class.getName());
    private static Level savedLevel;

    private final List<InetSocketAddress> addresses = List.of(RENDEZVOUS, PEER_PUBLIC, PEER_LAN, PEER_ROAMED,
            ATTACKER, endpoint("2001:db8::77", 51820), endpoint("10.9.9.9", 1));
    private final List<Long> sessions = List.of(PEER_SESSION, PEER_SESSION + 1, 0L, SESSION, -1L);

    private PeerHarness h;
    private Random random;
    /** The peer's session as the machine should know it: set by a PUNCH from the peer or a PEER_INFO. */
    private long peerSession;
    /** A valid LEAVE for peerSession arrived since it was set (data of that session may then go either way). */
    private boolean peerLeft;
    /** Where the machine may legitimately send punches and data. */
    private final Set<InetSocketAddress> learned = new HashSet<>();

    @BeforeAll
    static void quietMachineLog() {
        savedLevel = MACHINE_LOG.getLevel();
        MACHINE_LOG.setLevel(Level.OFF);
    }

    @AfterAll
    static void restoreMachineLog() {
        MACHINE_LOG.setLevel(savedLevel);
    }

    @Test
    void noInputMakesTheMachineThrowMisdeliverOrSendAStrayDatagram() {
        h = new PeerHarness(Long.MAX_VALUE - 600_000_000_000L); // crosses the long overflow after 10 min
        DatagramFuzzer fuzzer = new DatagramFuzzer(0xf022_0002L, seeds());
        random = fuzzer.random();
        h.start();
        int deliveries = 0;
        int connects = 0;

        for (int step = 0; step < STEPS; step++) {
            int dice = random.nextInt(100);
            int sentBefore = h.sentCount();
            PeerState stateBefore = h.machine.state();
            if (dice < 10) {
                h.advance(Duration.ofMillis(random.nextInt(400)));
            } else if (dice < 20) {
                byte[] packet = new byte[random.nextInt(10) == 0 ? 0 : 1 + random.nextInt(1500)];
                random.nextBytes(packet);
                h.tun(packet);
            } else {
                deliveries += receiveOne(step, fuzzer);
            }
            if (stateBefore != PeerState.CONNECTED && h.machine.state() == PeerState.CONNECTED) {
                connects++;
            }
            for (Sent s : h.sentSince(sentBefore)) {
                assertWellFormedAndWellAddressed(step, s);
            }
            h.takeSent();
        }
        assertTrue(deliveries > 5_000, "the fuzz delivers packets: " + deliveries);
        assertTrue(connects > 100, "and connects often: " + connects);
    }

    /** Feeds one datagram; returns how many packets it delivered. */
    private int receiveOne(int step, DatagramFuzzer fuzzer) {
        InetSocketAddress from = addresses.get(random.nextInt(addresses.size()));
        byte[] raw = nextDatagram(fuzzer);

        Long dataSession = plainDataSession(raw);
        boolean sessionMatches = dataSession != null && peerSession != 0 && dataSession == peerSession;
        boolean mustDeliver = sessionMatches && !peerLeft && raw.length > PlainData.OVERHEAD;
        boolean mayDeliver = sessionMatches && raw.length > PlainData.OVERHEAD;
        updateModel(from, raw, sessionMatches);

        int before = h.delivered().size();
        try {
            h.receive(from, raw);
            int delivered = h.delivered().size() - before;
            if (mustDeliver) {
                assertEquals(1, delivered, "PLAIN_DATA of the peer's session is delivered");
            } else if (!mayDeliver) {
                assertEquals(0, delivered, "delivered something that is not the peer's data");
            }
            if (delivered > 0) {
                assertArrayEquals(Arrays.copyOfRange(raw, PlainData.OVERHEAD, raw.length),
                        h.delivered().get(h.delivered().size() - 1), "the payload, intact");
            }
            return delivered;
        } catch (RuntimeException | AssertionError e) {
            throw new AssertionError("step " + step + ", datagram from " + from + ": "
                    + HexFormat.of().formatHex(raw) + ": " + e, e);
        }
    }

    private void updateModel(InetSocketAddress from, byte[] raw, boolean peerData) {
        if (peerData) {
            learned.add(from);
        }
        ControlMessage message = decodeOrNull(raw);
        if (message instanceof Punch punch && punch.sender().equals(PEER) && punch.receiver().equals(SELF)) {
            peerSession = punch.senderSession();
            peerLeft = false;
            learned.add(from);
        } else if (message instanceof PeerInfo info && from.equals(RENDEZVOUS) && info.peer().equals(PEER)) {
            peerSession = info.peerSession();
            peerLeft = false;
            learned.add(info.observed());
            learned.addAll(info.candidates());
        } else if (message instanceof Leave leave && leave.sender().equals(PEER) && peerSession != 0
                && leave.session() == peerSession) {
            peerLeft = true;
        }
    }

    private void assertWellFormedAndWellAddressed(int step, Sent s) {
        String what = "step " + step + ": sent " + s;
        MessageType type = s.type();
        if (type == MessageType.PLAIN_DATA) {
            try {
                assertEquals(SESSION, PlainData.senderSession(ByteBuffer.wrap(s.bytes())), what);
            } catch (MalformedMessageException e) {
                throw new AssertionError(what + " is malformed: " + e.getMessage());
            }
            assertTrue(learned.contains(s.to()), what + ": data to an address the peer was never seen at");
            return;
        }
        ControlMessage message = s.message(); // throws if malformed
        if (message instanceof ControlMessage.Register) {
            assertEquals(RENDEZVOUS, s.to(), what);
        } else if (message instanceof Punch p) {
            assertEquals(new Punch(SELF, PEER, SESSION, p.ack()), p, what);
            assertTrue(learned.contains(s.to()), what + ": punch to an address the peer was never seen at");
        } else {
            throw new AssertionError(what + ": a client never sends " + message.type() + " unprompted");
        }
    }

    private byte[] nextDatagram(DatagramFuzzer fuzzer) {
        int dice = random.nextInt(100);
        long session = sessions.get(random.nextInt(sessions.size()));
        NoisePublicKey key = random.nextInt(5) == 0 ? STRANGER : PEER;
        if (dice < 25) {
            byte[] packet = new byte[random.nextInt(8) == 0 ? 0 : 1 + random.nextInt(200)];
            random.nextBytes(packet);
            return plainData(random.nextInt(3) == 0 ? session : peerSession, packet);
        }
        if (dice < 35) {
            return WireSamples.bytes(new Punch(key, random.nextInt(5) == 0 ? STRANGER : SELF, session,
                    random.nextBoolean()).encode());
        }
        if (dice < 42) {
            List<InetSocketAddress> candidates = new ArrayList<>();
            for (int n = random.nextInt(4); n > 0; n--) {
                candidates.add(addresses.get(random.nextInt(addresses.size())));
            }
            InetSocketAddress observed = addresses.get(1 + random.nextInt(addresses.size() - 1));
            return WireSamples.bytes(new PeerInfo(key, session, observed, candidates).encode());
        }
        if (dice < 45) {
            return WireSamples.bytes(new Leave(key, random.nextBoolean() ? peerSession : session).encode());
        }
        if (dice < 48) {
            return WireSamples.bytes(new Registered(random.nextBoolean() ? SESSION : session, random.nextInt(30),
                    ATTACKER).encode());
        }
        return fuzzer.next();
    }

    private List<byte[]> seeds() {
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(plainData(PEER_SESSION, new byte[] {0x45, 0, 0, 20, 1, 2, 3}));
        seeds.add(plainData(PEER_SESSION, new byte[0]));
        seeds.add(WireSamples.bytes(new Punch(PEER, SELF, PEER_SESSION, false).encode()));
        seeds.add(WireSamples.bytes(new Punch(PEER, SELF, PEER_SESSION, true).encode()));
        seeds.add(WireSamples.bytes(new PeerInfo(PEER, PEER_SESSION, PEER_PUBLIC, List.of(PEER_LAN)).encode()));
        seeds.add(WireSamples.bytes(new Registered(SESSION, 20, ATTACKER).encode()));
        seeds.add(WireSamples.bytes(new Leave(PEER, PEER_SESSION).encode()));
        for (ControlMessage m : WireSamples.validMessages()) {
            seeds.add(WireSamples.bytes(m.encode()));
        }
        return seeds;
    }

    /** The sender session if {@code raw} is a well-formed PLAIN_DATA, else null. */
    private static Long plainDataSession(byte[] raw) {
        try {
            if (Header.peekType(ByteBuffer.wrap(raw)) != MessageType.PLAIN_DATA) {
                return null;
            }
            return PlainData.senderSession(ByteBuffer.wrap(raw));
        } catch (MalformedMessageException e) {
            return null;
        }
    }

    private static ControlMessage decodeOrNull(byte[] raw) {
        try {
            return ControlMessage.decode(ByteBuffer.wrap(raw));
        } catch (MalformedMessageException e) {
            return null;
        }
    }
}
