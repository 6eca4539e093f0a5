package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.ATTACKER;
import static io.pinhole.peer.PeerHarness.OUR_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER;
import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER_ROAMED;
import static io.pinhole.peer.PeerHarness.PEER_SESSION;
import static io.pinhole.peer.PeerHarness.RENDEZVOUS;
import static io.pinhole.peer.PeerHarness.SELF;
import static io.pinhole.peer.PeerHarness.SESSION;
import static io.pinhole.peer.PeerHarness.STRANGER;
import static io.pinhole.wire.WireSamples.endpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PeerHarness.Sent;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.DatagramFuzzer;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
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
 * PeerMachineFuzzTest: a long seeded stream of authentic server and partner traffic (the
 * partner's WireGuard is real), replays of it from anywhere, mutations of it, random
 * datagrams, TUN packets and ticks, across the long overflow. Nothing may throw; the TUN device
 * receives only packets the partner really sent, each at most once, intact; everything sent is
 * well-formed and goes only to the rendezvous or to an address the partner was learned at.
 */
class PeerMachineFuzzTest {
    private static final int STEPS = 100_000;
    private static final Logger MACHINE_LOG = Logger.getLogger(io.pinhole.config.LogNames.PATH);
    private static final Logger SESSION_LOG = Logger.getLogger(io.pinhole.config.LogNames.WIREGUARD);
    private static Level savedLevel;
    private static Level savedSessionLevel;

    private final List<InetSocketAddress> partnerAddresses = List.of(PEER_PUBLIC, PEER_LAN, PEER_ROAMED);
    private final List<InetSocketAddress> addresses = List.of(RENDEZVOUS, PEER_PUBLIC, PEER_LAN, PEER_ROAMED,
            ATTACKER, endpoint("2001:db8::77", 51820), endpoint("10.9.9.9", 1));
    private final List<Long> sessions = List.of(PEER_SESSION, PEER_SESSION, PEER_SESSION, PEER_SESSION + 1, 0L, -1L);

    private PeerHarness h;
    private Random random;
    /** Where the machine may legitimately send punches and WireGuard: learned from authentic input. */
    private final Set<InetSocketAddress> learned = new HashSet<>();
    /** Packets the partner sent through its WireGuard, and those already delivered. */
    private final Set<String> partnerPackets = new HashSet<>();
    private final Set<String> deliveredPackets = new HashSet<>();
    /** Authentic datagrams (as hex) and a list of them to replay and mutate. */
    private final Set<String> authentic = new HashSet<>();
    private final List<byte[]> captured = new ArrayList<>();
    private long probeCounter = 1_000;
    private int packetId;

    @BeforeAll
    static void quietLogs() {
        savedLevel = MACHINE_LOG.getLevel();
        savedSessionLevel = SESSION_LOG.getLevel();
        MACHINE_LOG.setLevel(Level.OFF);
        SESSION_LOG.setLevel(Level.OFF);
    }

    @AfterAll
    static void restoreLogs() {
        MACHINE_LOG.setLevel(savedLevel);
        SESSION_LOG.setLevel(savedSessionLevel);
    }

    @Test
    void noInputMakesTheMachineThrowMisdeliverOrSendAStrayDatagram() {
        h = new PeerHarness(Long.MAX_VALUE - 600_000_000_000L); // crosses the long overflow after 10 min
        h.answerRegisters = true;
        DatagramFuzzer fuzzer = new DatagramFuzzer(0xf022_0002L, captured);
        random = fuzzer.random();
        learned.add(PEER_PUBLIC); // the partner's WireGuard sends from partnerAt
        h.start();
        int partnerSentBefore = 0;
        int connects = 0;
        int delivered = 0;

        for (int step = 0; step < STEPS; step++) {
            int dice = random.nextInt(100);
            int sentBefore = h.sentCount();
            int deliveredBefore = h.delivered().size();
            PeerState stateBefore = h.machine.state();
            String what = "?";
            try {
                if (dice < 8) {
                    what = "time";
                    h.advance(Duration.ofMillis(random.nextInt(400)));
                } else if (dice < 16) {
                    what = "tun";
                    byte[] packet = new byte[random.nextInt(10) == 0 ? 0 : 1 + random.nextInt(1500)];
                    random.nextBytes(packet);
                    h.tun(packet);
                } else if (dice < 28) {
                    what = "partner data";
                    if (random.nextInt(4) == 0) {
                        h.partnerAt = partnerAddresses.get(random.nextInt(partnerAddresses.size()));
                        learned.add(h.partnerAt);
                    }
                    byte[] packet = PeerHarness.packet(10 + random.nextInt(200));
                    ByteBuffer.wrap(packet, 12, 4).putInt(++packetId);
                    partnerPackets.add(HexFormat.of().formatHex(packet));
                    h.partnerSends(packet);
                } else if (dice < 32) {
                    what = "partner handshake";
                    h.partner.initiate(h.now, new Forward(), random.nextBoolean());
                } else {
                    InetSocketAddress from = addresses.get(random.nextInt(addresses.size()));
                    byte[] raw = nextDatagram(dice, fuzzer, from);
                    if (authentic.contains(HexFormat.of().formatHex(raw))) {
                        learned.add(from); // an authentic datagram from there: answering it is legitimate
                    }
                    what = "datagram from " + from + ": " + HexFormat.of().formatHex(raw);
                    h.receive(from, raw);
                }
                // the partner's own datagrams are authentic too, whatever happens to them next
                for (; partnerSentBefore < h.partnerSent.size(); partnerSentBefore++) {
                    remember(h.partnerSent.get(partnerSentBefore));
                }
                for (byte[] d : h.delivered().subList(deliveredBefore, h.delivered().size())) {
                    String hex = HexFormat.of().formatHex(d);
                    assertTrue(partnerPackets.contains(hex), "delivered a packet the partner never sent: " + hex);
                    assertTrue(deliveredPackets.add(hex), "delivered a packet twice: " + hex);
                    delivered++;
                }
                for (Sent s : h.sentSince(sentBefore)) {
                    assertWellFormedAndWellAddressed(s);
                }
                if (stateBefore != PeerState.CONNECTED && h.machine.state() == PeerState.CONNECTED) {
                    connects++;
                }
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError("step " + step + " (" + what + "): " + e, e);
            }
            h.takeSent();
        }
        assertTrue(delivered > 3_000, "the fuzz delivers packets: " + delivered);
        assertTrue(connects > 100, "and connects often: " + connects);
    }

    /** Sends what the partner's WireGuard emits straight to the machine, from where the partner is. */
    private final class Forward implements io.pinhole.wireguard.SessionOutput {
        @Override
        public void sendToPeer(ByteBuffer datagram) {
            byte[] bytes = WireSamples.bytes(datagram);
            remember(bytes);
            learned.add(h.partnerAt);
            h.receive(h.partnerAt, bytes);
        }

        @Override
        public void send(InetSocketAddress to, ByteBuffer datagram) {
            sendToPeer(datagram);
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
        }

        @Override
        public void authenticated(InetSocketAddress from) {
        }
    }

    private byte[] nextDatagram(int dice, DatagramFuzzer fuzzer, InetSocketAddress from) {
        long session = sessions.get(random.nextInt(sessions.size()));
        if (dice < 40) {
            // an authentic PEER_INFO (the fuzz sends it from anywhere; only the rendezvous' counts)
            List<InetSocketAddress> candidates = new ArrayList<>();
            for (int n = random.nextInt(3); n > 0; n--) {
                candidates.add(partnerAddresses.get(random.nextInt(partnerAddresses.size())));
            }
            InetSocketAddress observed = partnerAddresses.get(random.nextInt(partnerAddresses.size()));
            if (from.equals(RENDEZVOUS)) {
                learned.add(observed);
                learned.addAll(candidates);
            }
            // answering our latest REGISTER, with a newer REGISTER of the partner: fresh (its replays are not)
            return remember(WireSamples.bytes(h.peerInfoMessage(session, observed, candidates).encode(h.serverMac)));
        }
        if (dice < 50) {
            // an authentic PUNCH of the partner, usually fresh
            long counter = random.nextInt(5) == 0 ? probeCounter - random.nextInt(3) : ++probeCounter;
            boolean ack = random.nextInt(3) == 0;
            long ourProbe = ack ? lastOurProbe - random.nextInt(3) : 0;
            Punch punch = new Punch(PEER, SELF, session, SESSION, ack ? ourProbe : counter, ack);
            return remember(WireSamples.bytes(punch.encode(h.punchMac)));
        }
        if (dice < 53) {
            return remember(WireSamples.bytes(new Leave(PEER, session, 1L).encode(h.punchMac)));
        }
        if (dice < 56) {
            return remember(WireSamples.bytes(new Registered(random.nextBoolean() ? SESSION : session,
                    h.lastRegister().timestamp(), 20, OUR_PUBLIC).encode(h.serverMac)));
        }
        if (dice < 58) {
            return WireSamples.bytes(new Punch(STRANGER, SELF, session, SESSION, 1L, false).encode(h.punchMac));
        }
        if (dice < 70 && !captured.isEmpty()) {
            return captured.get(random.nextInt(captured.size())); // a replay, from anywhere
        }
        return fuzzer.next(); // noise, or a mutation of something authentic
    }

    /** The counter of the latest probe the machine sent (the partner acks recent ones). */
    private long lastOurProbe;

    private byte[] remember(byte[] datagram) {
        if (authentic.add(HexFormat.of().formatHex(datagram))) {
            if (captured.size() < 256) {
                captured.add(datagram);
            } else {
                captured.set(random.nextInt(captured.size()), datagram);
            }
        }
        return datagram;
    }

    private void assertWellFormedAndWellAddressed(Sent s) {
        String what = "sent " + s;
        MessageType type = s.type();
        assertTrue(type != null, what + ": an unknown type");
        if (type.isWireGuard()) {
            int n = s.bytes().length;
            switch (type) {
                case WG_HANDSHAKE_INITIATION -> assertEquals(148, n, what);
                case WG_HANDSHAKE_RESPONSE -> assertEquals(92, n, what);
                case WG_COOKIE_REPLY -> assertEquals(64, n, what);
                default -> assertTrue(n >= 32 && (n - 32) % 16 == 0 || n - 32 > 1420 - 16, what);
            }
            if (type != MessageType.WG_COOKIE_REPLY) { // a cookie reply answers whoever asked, smaller than asked
                assertTrue(learned.contains(s.to()), what + ": WireGuard to an address the peer was never seen at");
            }
            return;
        }
        ControlMessage message = s.message(); // throws if malformed
        if (message instanceof ControlMessage.Register r) {
            assertEquals(RENDEZVOUS, s.to(), what);
            assertEquals(SELF, r.self(), what);
            assertEquals(PEER, r.wanted(), what);
            assertTrue(java.util.Arrays.equals(new byte[16], r.cookie()) || s.macValid(h.serverMac),
                    what + ": a REGISTER with a cookie is MACed for the server");
        } else if (message instanceof Punch p) {
            assertEquals(SELF, p.sender(), what);
            assertEquals(PEER, p.receiver(), what);
            assertEquals(SESSION, p.senderSession(), what);
            assertTrue(s.macValid(h.punchMac), what + ": without the peers' MAC");
            assertTrue(learned.contains(s.to()), what + ": punch to an address the peer was never seen at");
            if (!p.ack()) {
                lastOurProbe = Math.max(lastOurProbe, p.counter());
            }
        } else {
            throw new AssertionError(what + ": a client never sends " + message.type() + " unprompted");
        }
    }
}
