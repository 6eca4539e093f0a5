package io.pinhole.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * WireFuzzTest: seeded random and mutated datagrams through the decoders. The only exception a
 * decoder may throw is MalformedMessageException, and whatever it accepts is canonical.
 */
class WireFuzzTest {
    private static final int DATAGRAMS = 200_000;

    private static List<byte[]> validDatagrams() {
        List<byte[]> seeds = new java.util.ArrayList<>();
        for (ControlMessage m : WireSamples.validMessages()) {
            seeds.add(WireSamples.bytes(m.encode()));
        }
        seeds.add(WireSamples.bytes(PlainData.encode(9L, ByteBuffer.wrap(new byte[] {0x45, 0, 0, 20}))));
        return seeds;
    }

    @Test
    void randomDatagramsNeverThrowAnythingButMalformedMessage() {
        DatagramFuzzer fuzzer = new DatagramFuzzer(0x5eed_0001L, validDatagrams());
        Outcomes outcomes = new Outcomes();
        for (int i = 0; i < DATAGRAMS; i++) {
            outcomes.feed(fuzzer.noise());
        }
        outcomes.assertSawEveryReason();
    }

    @Test
    void mutatedValidDatagramsNeverThrowAnythingButMalformedMessage() {
        DatagramFuzzer fuzzer = new DatagramFuzzer(0x5eed_0002L, validDatagrams());
        Outcomes outcomes = new Outcomes();
        for (int i = 0; i < DATAGRAMS; i++) {
            outcomes.feed(fuzzer.next());
        }
        outcomes.assertSawEveryReason();
        assertTrue(outcomes.decoded > 1000, "mutations of keys and sessions decode: " + outcomes.decoded);
    }

    /** Feeds datagrams to peekType, decode and PlainData, and tallies what happened. */
    private static final class Outcomes {
        final Map<MalformedMessageException.Reason, Integer> reasons =
                new EnumMap<>(MalformedMessageException.Reason.class);
        int decoded;

        void feed(byte[] raw) {
            try {
                try {
                    MessageType type = Header.peekType(ByteBuffer.wrap(raw));
                    assertEquals(raw[0] & 0xff, type.code());
                } catch (MalformedMessageException e) {
                    // counted through decode below
                }
                try {
                    ControlMessage message = ControlMessage.decode(ByteBuffer.wrap(raw));
                    decoded++;
                    assertArrayEquals(raw, WireSamples.bytes(message.encode()));
                } catch (MalformedMessageException e) {
                    reasons.merge(e.reason(), 1, Integer::sum);
                }
                try {
                    long session = PlainData.senderSession(ByteBuffer.wrap(raw));
                    assertEquals(ByteBuffer.wrap(raw, 4, 8).getLong(), session);
                    assertEquals(raw.length - PlainData.OVERHEAD, PlainData.payload(ByteBuffer.wrap(raw)).remaining());
                } catch (MalformedMessageException e) {
                    // not a PLAIN_DATA: fine
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
