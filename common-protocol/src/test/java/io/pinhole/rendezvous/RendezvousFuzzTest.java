package io.pinhole.rendezvous;

import static io.pinhole.wire.WireSamples.endpoint;
import static io.pinhole.wire.WireSamples.privateKey;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.rendezvous.RecordingTransmit.Reply;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.DatagramFuzzer;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.Relay;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RendezvousFuzzTest: a long seeded stream of authentic, forged, replayed, mutated and random
 * datagrams, RELAY frames among them, from a few addresses, in virtual time across the long
 * overflow, with bursts from one address. After every datagram: nothing thrown, no reply larger
 * than its request, replies only to the sender or to the registered partner it asked for, every
 * reply MACed for its recipient, a relayed frame only the identical bytes from the endpoint of a
 * registration to its partner's, nothing registered or removed without the peer's MAC, and every
 * datagram accounted for (answered, challenged, relayed, or counted as a drop).
 */
class RendezvousFuzzTest {
    private static final int DATAGRAMS = 100_000;
    private static final long SECOND = 1_000_000_000L;
    private static final Logger SERVER_LOG = Logger.getLogger(io.pinhole.config.LogNames.RENDEZVOUS);
    private static Level savedLevel;

    private static final NoisePrivateKey SERVER_KEY = privateKey(0x5e);
    private static final NoisePublicKey LOW_ORDER = NoisePublicKey.fromBytes(new byte[32]);

    private final List<NoisePrivateKey> privates = new ArrayList<>();
    private final List<NoisePublicKey> keys = new ArrayList<>();
    private final Map<NoisePublicKey, byte[]> macKeys = new HashMap<>();
    private final List<InetSocketAddress> addresses = List.of(endpoint("192.0.2.1", 1000), endpoint("192.0.2.1", 1001),
            endpoint("198.51.100.7", 51820), endpoint("203.0.113.9", 9), endpoint("2001:db8::1", 443),
            endpoint("2001:db8::2", 51820), endpoint("10.1.2.3", 65535), endpoint("::1", 1));

    /** Cookies the server handed out, by address and key. */
    private final Map<String, byte[]> cookies = new HashMap<>();
    private final Set<String> cookiesIssued = new HashSet<>();
    private final Map<NoisePublicKey, Long> timestamps = new HashMap<>();
    private final List<byte[]> captured = new ArrayList<>();
    private final List<InetSocketAddress> capturedFrom = new ArrayList<>();

    /** A registration: a key and the partner it wants (one key may hold several). */
    private record Pair(NoisePublicKey self, NoisePublicKey wanted) {
    }

    /** Where each key was last registered (for any partner), as the replies tell: where the fuzz aims. */
    private final Map<NoisePublicKey, InetSocketAddress> registeredAt = new HashMap<>();
    /** Where each registration was last registered, as the replies tell. */
    private final Map<Pair, InetSocketAddress> pairAt = new HashMap<>();
    /** The last REGISTER the server accepted for each registration. */
    private final Map<Pair, Register> accepted = new HashMap<>();
    /** The registration last registered from each endpoint, while it is registered there: a RELAY's sender. */
    private final Map<InetSocketAddress, Pair> ownerOf = new HashMap<>();

    private record Input(InetSocketAddress from, byte[] datagram) {
    }

    @BeforeAll
    static void quietServerLog() {
        savedLevel = SERVER_LOG.getLevel();
        SERVER_LOG.setLevel(Level.OFF); // thousands of registrations would flood the build log
    }

    @AfterAll
    static void restoreServerLog() {
        SERVER_LOG.setLevel(savedLevel);
    }

    @Test
    void noInputMakesTheServerThrowAmplifyReplyToAStrangerOrRegisterWithoutTheKey() {
        for (int i = 0; i < 8; i++) {
            NoisePrivateKey k = privateKey(0x20 + i);
            privates.add(k);
            keys.add(k.publicKey());
            macKeys.put(k.publicKey(), ControlKeys.peerServer(k, SERVER_KEY.publicKey()));
        }
        keys.add(LOW_ORDER);
        macKeys.put(LOW_ORDER, WireSamples.sequence(0x99, 32)); // no key exists; the fuzz still tries

        // 6 of the 9 keys fit: the table fills (evicting unpaired ones, or TABLE_FULL when all are paired) yet new
        // keys still need Diffie-Hellmans (RATE_LIMITED); small relay budgets, so that floods of RELAY frames meet
        // the limits; 2 registrations per source (SOURCE_FULL), and small global budgets shared by the 7 sources
        // (the two IPv6 addresses share a /64) so the fuzz meets them too (DH_SHARE, RELAY_BUDGET, RELAY_SHARE)
        RendezvousConfig config = RendezvousConfig.defaults().withMaxRegistrations(6)
                .withRelay(4096, RendezvousConfig.RELAY_MIN_BURST).withBudgets(2, 8, 64);
        Rendezvous server = new Rendezvous(config, SERVER_KEY, WireSamples.seededRandom(0xf022_0001L));
        RecordingTransmit out = new RecordingTransmit();
        DatagramFuzzer fuzzer = new DatagramFuzzer(0xf022_0001L, seeds());
        Random random = fuzzer.random();

        long now = Long.MAX_VALUE - 100 * SECOND;
        int pairingReplies = 0;
        int registeredReplies = 0;
        int challengeReplies = 0;
        int leaves = 0;
        int relayed = 0;
        int burstLeft = 0;
        int burstKind = 0;
        int burstKey = 0;
        InetSocketAddress burstFrom = null;
        for (int i = 0; i < DATAGRAMS; i++) {
            if (burstLeft > 0) {
                burstLeft--;
            } else {
                now += random.nextInt(10) < 7 ? random.nextInt(5_000_000) : random.nextInt(1_000_000_000);
                if (random.nextInt(50) == 0) {
                    burstLeft = 12; // a flood from one address at one instant:
                    burstKind = random.nextInt(3); // REGISTERs of any keys, of one key, or RELAYs
                    burstKey = random.nextInt(keys.size());
                    burstFrom = burstKind == 2 ? registeredOrAny(random) : addresses.get(random.nextInt(addresses.size()));
                }
            }
            if (i % 20 == 0) {
                server.expire(now);
            }
            Input input = burstLeft == 0 ? nextInput(fuzzer, random)
                    : new Input(burstFrom, switch (burstKind) {
                        case 0 -> register(random, burstFrom, random.nextInt(keys.size()));
                        case 1 -> register(random, burstFrom, burstKey); // unknown or low-order: Diffie-Hellmans
                        default -> relay(random);
                    });
            InetSocketAddress from = input.from();
            byte[] datagram = input.datagram();
            long dropsBefore = server.droppedTotal();
            long challengesBefore = server.challenges();
            int registrationsBefore = server.registrations();
            long relayedBefore = server.relayedPackets();
            try {
                server.onDatagram(now, from, ByteBuffer.wrap(datagram), out);
                List<Reply> replies = out.take();
                ControlMessage decoded = decodeOrNull(datagram);

                Map<InetSocketAddress, Integer> bytesTo = new HashMap<>();
                for (Reply r : replies) {
                    assertTrue(r.size() <= datagram.length, "reply " + r + " is larger than the request");
                    bytesTo.merge(r.to(), r.size(), Integer::sum);
                }
                bytesTo.forEach((to, bytes) -> assertTrue(bytes <= datagram.length,
                        bytes + " bytes to " + to + " for one request"));
                assertTrue(server.registrations() <= config.maxRegistrations());

                if (decoded instanceof Register register && replies.isEmpty()) {
                    assertEquals(dropsBefore + 1, server.droppedTotal(), "unanswered: counted as exactly one drop");
                } else if (decoded instanceof Register register && replies.get(0).message() instanceof Challenge c) {
                    challengeReplies++;
                    assertEquals(1, replies.size(), "a CHALLENGE comes alone");
                    assertEquals(from, replies.get(0).to());
                    assertEquals(server.publicKey(), c.server());
                    assertArrayEquals(register.nonce(), c.nonce(), "the CHALLENGE echoes the REGISTER's nonce");
                    assertEquals(challengesBefore + 1, server.challenges());
                    assertTrue(server.droppedTotal() - dropsBefore <= 1, "at most the BAD_MAC it answers");
                    // registers nothing (a new registration's admission may expire stale ones on a full table)
                    assertTrue(server.registrations() <= registrationsBefore, "a CHALLENGE registered something");
                    cookies.put(from + "|" + register.self(), c.cookie());
                    cookiesIssued.add(from + "|" + register.self() + "|" + HexFormat.of().formatHex(c.cookie()));
                } else if (decoded instanceof Register register) {
                    registeredReplies++;
                    assertTrue(ControlMessage.macValid(ByteBuffer.wrap(datagram), macKeys.get(register.self())),
                            "registered without the peer's MAC");
                    assertTrue(cookiesIssued.contains(from + "|" + register.self() + "|"
                            + HexFormat.of().formatHex(register.cookie())), "with a cookie never given to " + from);
                    assertEquals(new Registered(register.session(), register.timestamp(), 20, from),
                            replies.get(0).message(), "it answers this REGISTER");
                    assertEquals(from, replies.get(0).to());
                    assertTrue(replies.get(0).macValid(macKeys.get(register.self())), "REGISTERED MACed for it");
                    for (Reply r : replies.subList(1, replies.size())) {
                        PeerInfo info = (PeerInfo) r.message();
                        pairingReplies++;
                        Register partner = accepted.get(new Pair(register.wanted(), register.self()));
                        if (r.to().equals(from)) {
                            assertEquals(register.wanted(), info.peer(), "told the sender about its partner");
                            assertEquals(List.of(register.session(), register.timestamp(), partner.timestamp()),
                                    List.of(info.session(), info.timestamp(), info.peerTimestamp()),
                                    "answering this REGISTER, about the partner's latest");
                            assertTrue(r.macValid(macKeys.get(register.self())));
                        } else {
                            assertEquals(pairAt.get(new Pair(register.wanted(), register.self())), r.to(),
                                    "sent to the wanted key's registered endpoint");
                            assertEquals(new PeerInfo(partner.session(), partner.timestamp(), register.self(),
                                    register.session(), register.timestamp(), from, register.candidates()), info,
                                    "answering the partner's latest REGISTER, about this one");
                            assertTrue(r.macValid(macKeys.get(register.wanted())), "PEER_INFO MACed for the partner");
                        }
                    }
                    Pair pair = new Pair(register.self(), register.wanted());
                    accepted.put(pair, register);
                    registeredAt.put(register.self(), from);
                    InetSocketAddress previous = pairAt.put(pair, from);
                    if (previous != null) {
                        ownerOf.remove(previous, pair);
                    }
                    ownerOf.put(from, pair);
                    assertEquals(dropsBefore, server.droppedTotal(), "acted on, not dropped");
                } else if (decoded instanceof Leave leave) {
                    assertEquals(List.of(), replies);
                    boolean removed = server.registrations() == registrationsBefore - 1;
                    boolean dropped = server.droppedTotal() == dropsBefore + 1;
                    assertTrue(removed != dropped, "a LEAVE either removes a registration or is a drop");
                    if (removed) {
                        leaves++;
                        assertTrue(ControlMessage.macValid(ByteBuffer.wrap(datagram), macKeys.get(leave.sender())),
                                "removed without the peer's MAC");
                        List<Pair> ended = accepted.keySet().stream().filter(p -> p.self().equals(leave.sender())
                                && from.equals(pairAt.get(p)) && accepted.get(p).session() == leave.session()
                                && !server.isRegistered(p.self(), p.wanted())).toList();
                        assertFalse(ended.isEmpty(), "removed a registration of another session or address");
                        ended.forEach(p -> ownerOf.remove(from, p));
                    }
                } else if (!replies.isEmpty() && datagram[0] == MessageType.RELAY.code()) {
                    relayed++;
                    Pair sender = ownerOf.get(from);
                    Pair partner = new Pair(sender.wanted(), sender.self());
                    assertTrue(accepted.containsKey(partner), "relayed only between two keys that want each other");
                    assertEquals(List.of(Reply.relayed(pairAt.get(partner), datagram)), replies,
                            "the identical bytes, once, to the partner's registered endpoint");
                    assertEquals(relayedBefore + 1, server.relayedPackets());
                    assertEquals(dropsBefore, server.droppedTotal(), "relayed, not dropped");
                } else {
                    assertEquals(List.of(), replies, "only a REGISTER is ever answered, and a RELAY relayed");
                    assertEquals(dropsBefore + 1, server.droppedTotal(), "counted as exactly one drop");
                    assertEquals(relayedBefore, server.relayedPackets());
                }
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError("datagram " + i + " from " + from + ": "
                        + HexFormat.of().formatHex(datagram) + ": " + e, e);
            }
        }
        assertTrue(registeredReplies > 5_000, "the fuzz registers often: " + registeredReplies);
        assertTrue(pairingReplies > 1_000, "and pairs often: " + pairingReplies);
        assertTrue(challengeReplies > 5_000, "and is challenged often: " + challengeReplies);
        assertTrue(leaves > 100, "and leaves: " + leaves);
        assertTrue(relayed > 1_000, "and relays: " + relayed);
        for (ServerDrop drop : ServerDrop.values()) {
            if (drop == ServerDrop.RELAY_OFF) {
                continue; // needs a server with the relay off: RendezvousTest
            }
            if (drop == ServerDrop.DH_BUDGET) {
                continue; // needs more sources than the budget's rate (FairBudget's shares leave room): RendezvousTest
            }
            assertTrue(server.drops().getOrDefault(drop, 0L) > 0, "the fuzz reached " + drop + ": " + server.drops());
        }
    }

    private Input nextInput(DatagramFuzzer fuzzer, Random random) {
        InetSocketAddress from = addresses.get(random.nextInt(addresses.size()));
        if (random.nextInt(10) == 0) { // a RELAY frame, usually from where some key registered
            return new Input(random.nextInt(4) == 0 ? from : registeredOrAny(random), relay(random));
        }
        int dice = random.nextInt(100);
        if (dice < 40) {
            return new Input(from, register(random, from, random.nextInt(keys.size())));
        }
        if (dice < 48 && !captured.isEmpty()) {
            int pick = random.nextInt(captured.size());
            return new Input(random.nextBoolean() ? capturedFrom.get(pick) : from, captured.get(pick));
        }
        if (dice < 58) {
            NoisePublicKey self = keys.get(random.nextInt(keys.size()));
            long ts = random.nextInt(8) == 0 ? timestamps.getOrDefault(self, 0L) : nextTimestamp(self);
            byte[] mac = random.nextInt(4) == 0 ? macKeys.get(keys.get(random.nextInt(keys.size()))) : macKeys.get(self);
            byte[] leave = WireSamples.bytes(new Leave(self, 1 + random.nextInt(3), ts).encode(mac));
            InetSocketAddress at = registeredAt.get(self);
            InetSocketAddress source = at != null && random.nextBoolean() ? at : from;
            capture(source, leave);
            return new Input(source, leave);
        }
        return new Input(from, fuzzer.next());
    }

    /** A REGISTER from {@code from}: usually with the cookie it was given and a correct MAC, sometimes not. */
    private byte[] register(Random random, InetSocketAddress from, int selfIndex) {
        NoisePublicKey self = keys.get(selfIndex);
        // keys come in pairs (0 and 1, 2 and 3, ...) that usually want each other
        int wantedIndex = random.nextInt(10) < 7 && selfIndex < 8 ? selfIndex ^ 1 : random.nextInt(keys.size() - 1);
        NoisePublicKey wanted = keys.get(wantedIndex);
        long session = 1 + random.nextInt(3);
        List<InetSocketAddress> candidates = new ArrayList<>();
        for (int n = random.nextInt(9); n > 0; n--) {
            candidates.add(addresses.get(random.nextInt(addresses.size())));
        }
        int cookieDice = random.nextInt(20);
        byte[] cookie;
        if (cookieDice < 15) {
            cookie = cookies.get(from + "|" + self);
        } else if (cookieDice < 17) {
            cookie = cookies.get(addresses.get(random.nextInt(addresses.size())) + "|"
                    + keys.get(random.nextInt(keys.size())));
        } else {
            cookie = null;
        }
        byte[] mac = random.nextInt(8) == 0 ? macKeys.get(keys.get(random.nextInt(keys.size()))) : macKeys.get(self);
        long ts = random.nextInt(12) == 0 ? timestamps.getOrDefault(self, 0L) : nextTimestamp(self);
        byte[] nonce = new byte[Register.NONCE_LENGTH];
        random.nextBytes(nonce);
        byte[] datagram = WireSamples.bytes(new Register(self, wanted, session, ts, cookie, candidates, nonce)
                .encode(cookie == null && random.nextBoolean() ? null : mac));
        capture(from, datagram);
        return datagram;
    }

    /** The endpoint some key registered from last, or any address while there is none. */
    private InetSocketAddress registeredOrAny(Random random) {
        List<InetSocketAddress> registered = List.copyOf(registeredAt.values());
        return registered.isEmpty() ? addresses.get(random.nextInt(addresses.size()))
                : registered.get(random.nextInt(registered.size()));
    }

    /** A well-formed RELAY frame: a WireGuard message of some type and length, or a PUNCH. */
    private static byte[] relay(Random random) {
        int type = 1 + random.nextInt(5);
        byte[] payload = new byte[type == 5 ? Punch.LENGTH : 32 + random.nextInt(1500)];
        random.nextBytes(payload);
        payload[0] = (byte) (type == 5 ? MessageType.PUNCH.code() : type);
        return WireSamples.bytes(Relay.wrap(ByteBuffer.wrap(payload)));
    }

    private long nextTimestamp(NoisePublicKey key) {
        return timestamps.merge(key, 1_763_700_000_000_000L, (old, one) -> old + 1);
    }

    private void capture(InetSocketAddress from, byte[] datagram) {
        if (captured.size() < 64) {
            captured.add(datagram);
            capturedFrom.add(from);
        } else {
            int slot = Math.floorMod(HexFormat.of().formatHex(datagram).hashCode(), 64);
            captured.set(slot, datagram);
            capturedFrom.set(slot, from);
        }
    }

    private List<byte[]> seeds() {
        List<byte[]> seeds = new ArrayList<>();
        for (ControlMessage m : WireSamples.validMessages()) {
            seeds.add(WireSamples.sealed(m));
        }
        byte[] mac = macKeys.get(keys.get(0));
        seeds.add(WireSamples.bytes(new Register(keys.get(0), keys.get(1), 1L, 1L, null, addresses).encode(mac)));
        seeds.add(WireSamples.bytes(new Leave(keys.get(0), 1L, 2L).encode(mac)));
        byte[] punch = WireSamples.bytes(new Punch(keys.get(0), keys.get(1), 1L, 2L, 3L, false).encode(mac));
        seeds.add(punch);
        seeds.add(WireSamples.bytes(new Challenge(keys.get(0), new byte[16], new byte[16]).encode(null)));
        byte[] wireGuard = new byte[148];
        wireGuard[0] = 1;
        seeds.add(wireGuard);
        byte[] transport = new byte[32 + 64];
        transport[0] = 4;
        seeds.add(transport);
        seeds.add(WireSamples.bytes(Relay.wrap(ByteBuffer.wrap(transport))));
        seeds.add(WireSamples.bytes(Relay.wrap(ByteBuffer.wrap(punch))));
        return seeds;
    }

    private static ControlMessage decodeOrNull(byte[] datagram) {
        try {
            return ControlMessage.decode(ByteBuffer.wrap(datagram));
        } catch (MalformedMessageException e) {
            return null;
        }
    }
}
