package io.pinhole.wire;

import static io.pinhole.wire.WireSamples.MAC_KEY;
import static io.pinhole.wire.WireSamples.hex;
import static io.pinhole.wire.WireSamples.key;
import static io.pinhole.wire.WireSamples.privateKey;
import static io.pinhole.wire.WireSamples.sealed;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.Register;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * ControlKeysTest: the MAC keys of control messages (peer-server and peer-peer) against values an
 * independent implementation computed (Python's cryptography X25519 and hashlib BLAKE2s, on the
 * key pair of RFC 7748 section 6.1), their symmetry and separation, and what macValid refuses.
 */
class ControlKeysTest {
    private static final NoisePrivateKey ALICE = parse("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    private static final NoisePrivateKey BOB = parse("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");

    private static NoisePrivateKey parse(String hexKey) {
        try {
            return NoisePrivateKey.parse(Base64.getEncoder().encodeToString(HexFormat.of().parseHex(hexKey)));
        } catch (io.pinhole.crypto.KeyFormatException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theRfc7748KeysHaveTheirPublishedPublicHalves() {
        assertArrayEquals(hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
                ALICE.publicKey().toBytes());
        assertArrayEquals(hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"),
                BOB.publicKey().toBytes());
    }

    @Test
    void thePeerServerKeyIsHashOfLabelDhPeerAndServerKeysOnBothSides() {
        // blake2s("pinhole rendezvous v1" || DH || alice public || bob public), alice the peer, bob the server
        byte[] expected = hex("13de8219259b2bae6cd628e2671610f94e7981ffb57498ed3568c7d2e546da84");

        assertArrayEquals(expected, ControlKeys.peerServer(ALICE, BOB.publicKey()));
        assertArrayEquals(expected, ControlKeys.serverPeer(BOB, ALICE.publicKey()));
    }

    @Test
    void thePeerPeerKeyIsHashOfLabelDhAndBothKeysInOrderTheSameOnBothSides() {
        // blake2s("pinhole punch v1" || DH || lower public key || higher public key)
        byte[] expected = hex("a2b857baca5904b4441b27045b8b458c6737d6dc4043ab38482628a93d8c01e0");

        assertArrayEquals(expected, ControlKeys.peerPeer(ALICE, BOB.publicKey()));
        assertArrayEquals(expected, ControlKeys.peerPeer(BOB, ALICE.publicKey()));
    }

    @Test
    void keysAreSeparatedByRoleAndByPair() {
        NoisePrivateKey carol = privateKey(3);
        Set<String> keys = new HashSet<>();
        for (byte[] k : List.of(ControlKeys.peerServer(ALICE, BOB.publicKey()),
                ControlKeys.peerServer(BOB, ALICE.publicKey()), // bob as the peer, alice as the server
                ControlKeys.peerPeer(ALICE, BOB.publicKey()),
                ControlKeys.peerServer(ALICE, carol.publicKey()),
                ControlKeys.peerServer(carol, BOB.publicKey()),
                ControlKeys.peerPeer(ALICE, carol.publicKey()),
                ControlKeys.peerPeer(BOB, carol.publicKey()))) {
            assertEquals(32, k.length);
            assertTrue(keys.add(HexFormat.of().formatHex(k)), "a key used twice: " + HexFormat.of().formatHex(k));
        }
    }

    @Test
    void aLowOrderPublicKeyHasNoControlKey() {
        NoisePublicKey zero = NoisePublicKey.fromBytes(new byte[32]);
        byte[] oneBytes = new byte[32];
        oneBytes[0] = 1;
        NoisePublicKey one = NoisePublicKey.fromBytes(oneBytes);
        for (NoisePublicKey lowOrder : List.of(zero, one)) {
            assertThrows(IllegalArgumentException.class, () -> ControlKeys.peerServer(ALICE, lowOrder));
            assertThrows(IllegalArgumentException.class, () -> ControlKeys.serverPeer(ALICE, lowOrder));
            assertThrows(IllegalArgumentException.class, () -> ControlKeys.peerPeer(ALICE, lowOrder));
        }
    }

    // ---------------------------------------------------------------- macValid

    @Test
    void everySingleBitChangeOfTheKeyMakesTheMacInvalid() {
        ByteBuffer leave = new Leave(key(1), 2L, 3L).encode(MAC_KEY);
        assertTrue(ControlMessage.macValid(leave, MAC_KEY));
        for (int bit = 0; bit < 256; bit++) {
            byte[] other = MAC_KEY.clone();
            other[bit / 8] ^= (byte) (1 << (bit % 8));
            assertFalse(ControlMessage.macValid(leave, other), "key bit " + bit);
        }
    }

    @Test
    void aKeyOfTheWrongPairIsRefused() {
        byte[] aliceServer = ControlKeys.peerServer(ALICE, BOB.publicKey());
        byte[] alicePeer = ControlKeys.peerPeer(ALICE, BOB.publicKey());
        ByteBuffer register = new Register(ALICE.publicKey(), BOB.publicKey(), 1L, 2L, null, List.of())
                .encode(aliceServer);

        assertTrue(ControlMessage.macValid(register, aliceServer));
        assertFalse(ControlMessage.macValid(register, alicePeer), "a punch key does not authenticate a REGISTER");
        assertFalse(ControlMessage.macValid(register, ControlKeys.peerServer(privateKey(3), BOB.publicKey())));
    }

    @Test
    void noKeyOrTooFewBytesIsNeverValid() {
        assertFalse(ControlMessage.macValid(ByteBuffer.wrap(sealed(new Leave(key(1), 2L, 3L))), null));
        for (int n = 0; n < ControlMessage.MAC_LENGTH; n++) {
            assertFalse(ControlMessage.macValid(ByteBuffer.allocate(n), MAC_KEY), n + " bytes");
        }
        // sixteen bytes are a MAC over nothing: valid only if they are that MAC
        ByteBuffer macOfNothing = ByteBuffer.wrap(io.pinhole.crypto.Blake2s.mac(16, MAC_KEY, new byte[0]));
        assertTrue(ControlMessage.macValid(macOfNothing, MAC_KEY));
        assertFalse(ControlMessage.macValid(ByteBuffer.allocate(16), MAC_KEY));
    }

    @Test
    void theMacCoversEveryByteBeforeIt() {
        byte[] raw = sealed(new Leave(key(1), 2L, 3L));
        byte[] moved = Arrays.copyOfRange(raw, 1, raw.length); // the same MAC over fewer bytes
        assertFalse(ControlMessage.macValid(ByteBuffer.wrap(moved), MAC_KEY));
        byte[] prefixed = new byte[raw.length + 1];
        System.arraycopy(raw, 0, prefixed, 1, raw.length);
        assertFalse(ControlMessage.macValid(ByteBuffer.wrap(prefixed), MAC_KEY));
        assertTrue(ControlMessage.macValid(ByteBuffer.wrap(prefixed, 1, raw.length), MAC_KEY));
    }
}
