package io.pinhole.rendezvous;

import static io.pinhole.wire.WireSamples.endpoint;
import static io.pinhole.wire.WireSamples.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.rendezvous.RecordingTransmit.Reply;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.DatagramFuzzer;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.PlainData;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * RendezvousFuzzTest: a long seeded stream of valid, mutated and random datagrams from a few
 * addresses, in virtual time across the long overflow. After every datagram: nothing thrown, no
 * reply larger than its request, replies only to the sender or to the registered partner it
 * asked for, and every datagram accounted for (acted on, or counted as a drop).
 */
class RendezvousFuzzTest {
    private static final int DATAGRAMS = 100_000;
    private static final long SECOND = 1_000_000_000L;
    private static final Logger SERVER_LOG = Logger.getLogger(Rendezvous.class.getName());
    private static Level savedLevel;

    private final List<NoisePublicKey> keys = List.of(key(0x01), key(0x21), key(0x41), key(0x61), key(0x81), key(0xa1));
    private final List<InetSocketAddress> addresses = List.of(endpoint("192.0.2.1", 1000), endpoint("192.0.2.1", 1001),
            endpoint("198.51.100.7", 51820), endpoint("203.0.113.9", 9), endpoint("2001:db8::1", 443),
            endpoint("2001:db8::2", 51820), endpoint("10.1.2.3", 65535), endpoint("::1", 1));

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
    void noInputMakesTheServerThrowAmplifyOrReplyToAStranger() {
        RendezvousConfig config = RendezvousConfig.defaults().withMaxRegistrations(4);
        Rendezvous server = new Rendezvous(config);
        RecordingTransmit out = new RecordingTransmit();
        DatagramFuzzer fuzzer = new DatagramFuzzer(0xf022_0001L, seeds());
        Random random = fuzzer.random();
        Map<NoisePublicKey, InetSocketAddress> registeredAt = new HashMap<>();

        long now = Long.MAX_VALUE - 100 * SECOND;
        int pairingReplies = 0;
        int registeredReplies = 0;
        for (int i = 0; i < DATAGRAMS; i++) {
            now += random.nextInt(2_000_000_000); // 0-2 s
            if (i % 20 == 0) {
                server.expire(now);
            }
            byte[] datagram = nextDatagram(fuzzer);
            InetSocketAddress from = addresses.get(random.nextInt(addresses.size()));
            long dropsBefore = server.droppedTotal();
            int registrationsBefore = server.registrations();
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

                if (decoded instanceof Register register && !replies.isEmpty()) {
                    registeredReplies++;
                    assertEquals(new Registered(register.session(), 20, from), replies.get(0).message());
                    assertEquals(from, replies.get(0).to());
                    for (Reply r : replies.subList(1, replies.size())) {
                        PeerInfo info = (PeerInfo) r.message();
                        pairingReplies++;
                        if (r.to().equals(from)) {
                            assertEquals(register.wanted(), info.peer(), "told the sender about its partner");
                        } else {
                            assertEquals(registeredAt.get(register.wanted()), r.to(),
                                    "sent to the wanted key's registered endpoint");
                            assertEquals(new PeerInfo(register.self(), register.session(), from, register.candidates()),
                                    info);
                        }
                    }
                    registeredAt.put(register.self(), from);
                    assertEquals(dropsBefore, server.droppedTotal(), "acted on, not dropped");
                } else if (decoded instanceof Leave) {
                    assertEquals(List.of(), replies);
                    boolean removed = server.registrations() == registrationsBefore - 1;
                    boolean dropped = server.droppedTotal() == dropsBefore + 1;
                    assertTrue(removed != dropped, "a LEAVE either removes a registration or is a drop");
                } else {
                    assertEquals(List.of(), replies, "only a REGISTER is ever answered");
                    assertEquals(dropsBefore + 1, server.droppedTotal(), "counted as exactly one drop");
                }
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError("datagram " + i + " from " + from + ": "
                        + HexFormat.of().formatHex(datagram) + ": " + e, e);
            }
        }
        assertTrue(registeredReplies > 10_000, "the fuzz registers often: " + registeredReplies);
        assertTrue(pairingReplies > 1_000, "and pairs often: " + pairingReplies);
        for (ServerDrop drop : ServerDrop.values()) {
            assertTrue(server.drops().getOrDefault(drop, 0L) > 0, "the fuzz reached " + drop + ": " + server.drops());
        }
    }

    private byte[] nextDatagram(DatagramFuzzer fuzzer) {
        Random random = fuzzer.random();
        int dice = random.nextInt(100);
        NoisePublicKey self = keys.get(random.nextInt(keys.size()));
        NoisePublicKey wanted = keys.get(random.nextInt(keys.size()));
        long session = 1 + random.nextInt(3);
        if (dice < 35) {
            List<InetSocketAddress> candidates = new ArrayList<>();
            for (int n = random.nextInt(9); n > 0; n--) {
                candidates.add(addresses.get(random.nextInt(addresses.size())));
            }
            return WireSamples.bytes(new Register(self, wanted, session, candidates).encode());
        }
        if (dice < 45) {
            return WireSamples.bytes(new Leave(self, session).encode());
        }
        return fuzzer.next();
    }

    private List<byte[]> seeds() {
        List<byte[]> seeds = new ArrayList<>();
        for (ControlMessage m : WireSamples.validMessages()) {
            seeds.add(WireSamples.bytes(m.encode()));
        }
        seeds.add(WireSamples.bytes(new Register(keys.get(0), keys.get(1), 1L, addresses).encode()));
        seeds.add(WireSamples.bytes(new Leave(keys.get(0), 1L).encode()));
        seeds.add(WireSamples.bytes(new Punch(keys.get(0), keys.get(1), 1L, false).encode()));
        seeds.add(WireSamples.bytes(PlainData.encode(1L, ByteBuffer.wrap(new byte[100]))));
        byte[] wireGuard = new byte[148];
        wireGuard[0] = 1;
        seeds.add(wireGuard);
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
