package io.pinhole.wire;

import static io.pinhole.wire.WireSamples.MAC_KEY;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * WireFuzzTest: seeded random and mutated datagrams through the decoders. The only exception a
 * decoder may throw is MalformedMessageException, whatever it accepts is canonical, and no
 * datagram but an unchanged authentic one carries a valid MAC.
 */
class WireFuzzTest {
    private static final int DATAGRAMS = 200_000;

    private static List<byte[]> validDatagrams() {
        List<byte[]> seeds = new java.util.ArrayList<>();
        for (ControlMessage m : WireSamples.validMessages()) {
            seeds.add(WireSamples.sealed(m));
        }
        byte[] keepalive = new byte[32]; // a WireGuard transport message of an empty packet
        keepalive[0] = 4;
        seeds.add(keepalive);
        byte[] initiation = new byte[148];
        initiation[0] = 1;
        seeds.add(initiation);
        return seeds;
    }

    @Test
    void randomDatagramsNeverThrowAnythingButMalformedMessage() {
        DatagramFuzzer fuzzer = new DatagramFuzzer(0x5eed_0001L, validDatagrams());
        Outcomes outcomes = new Outcomes(validDatagrams());
        for (int i = 0; i < DATAGRAMS; i++) {
            outcomes.feed(fuzzer.noise());
        }
        outcomes.assertSawEveryReason();
    }

    @Test
    void mutatedValidDatagramsNeverThrowAnythingButMalformedMessage() {
        DatagramFuzzer fuzzer = new DatagramFuzzer(0x5eed_0002L, validDatagrams());
        Outcomes outcomes = new Outcomes(validDatagrams());
        for (int i = 0; i < DATAGRAMS; i++) {
            outcomes.feed(fuzzer.next());
        }
        outcomes.assertSawEveryReason();
        assertTrue(outcomes.decoded > 1000, "mutations of keys, sessions and MACs decode: " + outcomes.decoded);
        assertTrue(outcomes.forgeriesDecoded > 1000, "and many of them are forgeries: " + outcomes.forgeriesDecoded);
    }

    /** Feeds datagrams to peekType, decode and macValid, and tallies what happened. */
    private static final class Outcomes {
        final Map<MalformedMessageException.Reason, Integer> reasons =
                new EnumMap<>(MalformedMessageException.Reason.class);
        final Set<String> authentic = new HashSet<>();
        int decoded;
        int forgeriesDecoded;

        Outcomes(List<byte[]> authentic) {
            authentic.forEach(a -> this.authentic.add(HexFormat.of().formatHex(a)));
        }

        void feed(byte[] raw) {
            try {
                try {
                    MessageType type = Header.peekType(ByteBuffer.wrap(raw));
                    assertEquals(raw[0] & 0xff, type.code());
                } catch (MalformedMessageException e) {
                    // counted through decode below
                }
                boolean isAuthentic = authentic.contains(HexFormat.of().formatHex(raw));
                boolean macValid = ControlMessage.macValid(ByteBuffer.wrap(raw), MAC_KEY);
                try {
                    ControlMessage message = ControlMessage.decode(ByteBuffer.wrap(raw));
                    decoded++;
                    int body = WireSamples.authenticated(message) ? raw.length - ControlMessage.MAC_LENGTH : raw.length;
                    assertArrayEquals(Arrays.copyOf(raw, body),
                            Arrays.copyOf(WireSamples.bytes(message.encode(MAC_KEY)), body), "canonical");
                    if (WireSamples.authenticated(message)) {
                        assertEquals(isAuthentic, macValid, "a valid MAC on exactly the authentic datagrams");
                        forgeriesDecoded += isAuthentic ? 0 : 1;
                    }
                } catch (MalformedMessageException e) {
                    reasons.merge(e.reason(), 1, Integer::sum);
                    assertTrue(!macValid || isAuthentic, "a malformed datagram with a valid MAC");
                }
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError("datagram " + HexFormat.of().formatHex(raw) + ": " + e, e);
            }
        }

        void assertSawEveryReason() {
            for (MalformedMessageException.Reason reason : MalformedMessageException.Reason.values()) {
                assertTrue(reasons.getOrDefault(reason, 0) > 0, "the fuzz reached " + reason + ": " + reasons);
            }
        }
    }
}
