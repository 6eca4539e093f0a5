package io.pinhole.device;

import static io.pinhole.wire.WireSamples.endpoint;
import static io.pinhole.wire.WireSamples.privateKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.peer.AllowedIps;
import io.pinhole.peer.PeerConfig;
import io.pinhole.peer.PeerMachine;
import io.pinhole.peer.PeerOutput;
import io.pinhole.peer.PeerTimers;
import io.pinhole.peer.Traversal;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.Relay;
import io.pinhole.wire.WireSamples;
import io.pinhole.wireguard.GateDrop;
import io.pinhole.wireguard.Identity;
import io.pinhole.wireguard.SessionOutput;
import io.pinhole.wireguard.SessionTimers;
import io.pinhole.wireguard.WireGuardSession;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * DeviceDemuxTest: the device's demultiplexer alone, without a network: each datagram reaches the
 * one machine it is for, and whatever is for none (unknown keys, indices, sessions, nonces,
 * senders that are not the server, malformed bytes) is dropped and counted at the device, never
 * thrown, never handed to a machine.
 */
class DeviceDemuxTest {
    private static final long SECOND = 1_000_000_000L;
    private static final InetSocketAddress SERVER = endpoint("203.0.113.10", 7777);
    private static final InetSocketAddress B_AT = endpoint("192.0.2.2", 51820);
    private static final InetSocketAddress STRANGER_AT = endpoint("198.51.100.66", 4444);
    private static final NoisePrivateKey D_KEY = privateKey(0x10);
    private static final NoisePrivateKey B_KEY = privateKey(0x30);
    private static final NoisePrivateKey C_KEY = privateKey(0x50);
    private static final NoisePrivateKey X_KEY = privateKey(0x66);
    private static final NoisePublicKey B = B_KEY.publicKey();
    private static final NoisePublicKey C = C_KEY.publicKey();
    private static final Clock WALL = Clock.fixed(Instant.parse("2026-12-02T18:00:00Z"), ZoneOffset.UTC);

    private final long now = 1_000 * SECOND;
    private final Recorder out = new Recorder();

    /** What the device sent and delivered. */
    private static final class Recorder implements PeerOutput {
        final List<InetSocketAddress> to = new ArrayList<>();
        final List<byte[]> sent = new ArrayList<>();
        final List<byte[]> delivered = new ArrayList<>();

        @Override
        public void send(InetSocketAddress where, ByteBuffer datagram) {
            to.add(where);
            sent.add(WireSamples.bytes(datagram.duplicate()));
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
            delivered.add(WireSamples.bytes(ipPacket.duplicate()));
        }

        void clear() {
            to.clear();
            sent.clear();
            delivered.clear();
        }
    }

    /** A WireGuard session's output for the far side in a test: what it sends to the peer. */
    private static final class Wire implements SessionOutput {
        final ArrayDeque<byte[]> toPeer = new ArrayDeque<>();

        @Override
        public void sendToPeer(ByteBuffer datagram) {
            toPeer.add(WireSamples.bytes(datagram.duplicate()));
        }

        @Override
        public void send(InetSocketAddress where, ByteBuffer datagram) {
            toPeer.add(WireSamples.bytes(datagram.duplicate()));
        }

        @Override
        public void deliver(ByteBuffer ipPacket) {
        }

        @Override
        public void authenticated(InetSocketAddress from) {
        }
    }

    private static PeerConfig config(NoisePublicKey peer, String allowed) {
        return new PeerConfig(D_KEY, peer, null, SERVER, null, null, List.of(endpoint("10.0.1.2", 51820)),
                PeerTimers.defaults(), SessionTimers.defaults(), Traversal.defaults())
                .withAllowedIps(AllowedIps.parse(allowed));
    }

    private static Device device(SecureRandom random) {
        return new Device(D_KEY, List.of(config(B, "10.9.0.2/32"), config(C, "10.9.0.3/32")), random, WALL);
    }

    private final Device device = device(WireSamples.seededRandom(3));

    private void receive(InetSocketAddress from, byte[] datagram) {
        device.onDatagram(now, from, ByteBuffer.wrap(datagram), out);
    }

    /** A far-side session of {@code key} towards the device, and its first initiation. */
    private static byte[] initiationFrom(NoisePrivateKey key, NoisePublicKey to, Wire wire) {
        WireGuardSession far = new WireGuardSession(new Identity(key, to, null), WireSamples.seededRandom(9), WALL,
                SessionTimers.defaults());
        far.initiate(1_000 * SECOND, wire, true);
        return wire.toPeer.poll();
    }

    private long machineDrops() {
        long n = 0;
        for (PeerMachine m : device.machines()) {
            n += m.drops().values().stream().mapToLong(Long::longValue).sum();
            n += m.wireGuard().drops().values().stream().mapToLong(Long::longValue).sum();
        }
        return n;
    }

    private long dropped(DeviceDrop drop) {
        return device.drops().getOrDefault(drop, 0L);
    }

    @Test
    void anInitiationFromAPeerIsDecryptedOnceAndAnsweredByItsMachineOnlyThenItsTransportFollowsByIndex() {
        Wire b = new Wire();
        WireGuardSession far = new WireGuardSession(new Identity(B_KEY, D_KEY.publicKey(), null),
                WireSamples.seededRandom(9), WALL, SessionTimers.defaults());
        far.initiate(now, b, true);
        receive(B_AT, b.toPeer.poll());

        assertEquals(List.of(B_AT), out.to, "one answer, to B");
        assertEquals(2, out.sent.get(0)[0], "a handshake response");
        assertEquals(1, device.machine(B).wireGuard().handshakesCompleted());
        assertEquals(0, device.machine(C).wireGuard().handshakesCompleted());

        far.receive(now, SERVER, ByteBuffer.wrap(out.sent.get(0)), b); // B completes, and confirms with a keepalive
        assertTrue(far.canSend(now));
        out.clear();
        receive(B_AT, b.toPeer.poll());
        assertTrue(device.machine(B).wireGuard().canSend(now), "the transport message reached B's machine by index");
        assertEquals(Map.of(), device.drops());
        assertEquals(Map.of(), device.gateDrops());
        assertEquals(0, machineDrops());
    }

    @Test
    void wireGuardDatagramsForNoPeerAreCountedAtTheDeviceAndReachNoMachine() {
        receive(STRANGER_AT, initiationFrom(X_KEY, D_KEY.publicKey(), new Wire()));
        assertEquals(1, dropped(DeviceDrop.UNKNOWN_INITIATOR), "decrypted: a key that is none of our peers");

        receive(STRANGER_AT, initiationFrom(X_KEY, B, new Wire()));
        assertEquals(1L, device.gateDrops().get(GateDrop.BAD_MAC1), "made for another key: refused before any DH");

        byte[] transport = WireSamples.sequence(0x40, 48);
        transport[0] = 4;
        transport[1] = transport[2] = transport[3] = 0;
        receive(STRANGER_AT, transport);
        byte[] response = WireSamples.sequence(0x20, 92);
        response[0] = 2;
        response[1] = response[2] = response[3] = 0;
        receive(STRANGER_AT, response);
        byte[] cookie = WireSamples.sequence(0x60, 64);
        cookie[0] = 3;
        cookie[1] = cookie[2] = cookie[3] = 0;
        receive(STRANGER_AT, cookie);
        assertEquals(3, dropped(DeviceDrop.UNKNOWN_INDEX), "response, cookie reply and transport of no session");

        receive(STRANGER_AT, new byte[] {4, 0, 0, 0, 1});
        receive(STRANGER_AT, new byte[0]);
        receive(STRANGER_AT, new byte[] {(byte) 0x99, 1, 0, 0, 5, 6, 7, 8});
        assertEquals(3, dropped(DeviceDrop.MALFORMED), "truncated, empty, unknown type");

        assertEquals(List.of(), out.sent, "nothing answered");
        assertEquals(0, machineDrops(), "no machine saw any of them");
        assertEquals(0, device.machine(B).wireGuard().handshakesCompleted()
                + device.machine(C).wireGuard().handshakesCompleted());
    }

    @Test
    void controlMessagesGoByKeySessionAndNonceAndOnlyFromTheServerWhereTheServerSendsThem() throws Exception {
        device.start(now, out);
        List<Register> registers = new ArrayList<>();
        for (byte[] sent : out.sent) {
            registers.add((Register) ControlMessage.decode(ByteBuffer.wrap(sent)));
        }
        assertEquals(List.of(B, C), registers.stream().map(Register::wanted).toList(), "one REGISTER per partner");
        assertNotEquals(registers.get(0).session(), registers.get(1).session(), "each machine has its own session");
        out.clear();

        // a CHALLENGE goes to the machine whose REGISTER it echoes: C's answers with a new REGISTER
        byte[] challenge = WireSamples.bytes(new Challenge(privateKey(0x5e).publicKey(), WireSamples.sequence(1, 16),
                registers.get(1).nonce()).encode(null));
        receive(SERVER, challenge);
        assertEquals(1, out.sent.size());
        Register again = (Register) ControlMessage.decode(ByteBuffer.wrap(out.sent.get(0)));
        assertEquals(C, again.wanted(), "C's machine answered its CHALLENGE");
        out.clear();

        receive(STRANGER_AT, challenge);
        receive(STRANGER_AT, WireSamples.bytes(new Registered(registers.get(0).session(), registers.get(0).timestamp(),
                20, B_AT).encode(WireSamples.MAC_KEY)));
        byte[] relayed = WireSamples.bytes(Relay.wrap(ByteBuffer.wrap(new byte[] {4, 0, 0, 0, 9, 9, 9, 9, 0, 0, 0, 0,
            0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})));
        receive(STRANGER_AT, relayed);
        assertEquals(3, dropped(DeviceDrop.NOT_FROM_RENDEZVOUS), "server messages from a stranger");

        receive(SERVER, WireSamples.bytes(new Challenge(privateKey(0x5e).publicKey(), WireSamples.sequence(1, 16),
                WireSamples.sequence(0x77, 16)).encode(null)));
        assertEquals(1, dropped(DeviceDrop.UNKNOWN_NONCE));
        receive(SERVER, WireSamples.bytes(new Registered(12345, 1, 20, B_AT).encode(WireSamples.MAC_KEY)));
        assertEquals(1, dropped(DeviceDrop.UNKNOWN_SESSION));
        receive(SERVER, relayed);
        assertEquals(1, dropped(DeviceDrop.UNKNOWN_INDEX), "a relayed transport message of no session");

        receive(STRANGER_AT, WireSamples.bytes(new Punch(X_KEY.publicKey(), D_KEY.publicKey(), 1, 2, 3, false)
                .encode(WireSamples.MAC_KEY)));
        assertEquals(1, dropped(DeviceDrop.UNKNOWN_SENDER));
        receive(STRANGER_AT, registerOf(registers.get(0)));
        assertEquals(1, dropped(DeviceDrop.UNSUPPORTED_TYPE), "a REGISTER is for the server");

        assertEquals(List.of(), out.sent, "nothing answered");
        assertEquals(0, machineDrops(), "no machine saw any of them");
    }

    private static byte[] registerOf(Register register) {
        return WireSamples.bytes(register.encode(WireSamples.MAC_KEY));
    }

    @Test
    void tunPacketsGoToThePeerHoldingTheDestinationAndTheRestIsCounted() {
        device.onTunPacket(now, ByteBuffer.wrap(ipv4("10.9.0.3")), out);
        assertEquals(0, device.machine(B).stagedPackets());
        assertEquals(1, device.machine(C).stagedPackets(), "C holds 10.9.0.3 (no path yet: staged)");

        device.onTunPacket(now, ByteBuffer.wrap(ipv4("10.9.0.99")), out);
        assertEquals(1, dropped(DeviceDrop.NO_ROUTE));
        device.onTunPacket(now, ByteBuffer.wrap(new byte[] {0x15, 0, 0}), out);
        device.onTunPacket(now, ByteBuffer.allocate(0), out);
        assertEquals(2, dropped(DeviceDrop.NOT_IP));
        assertEquals(1, device.machine(C).stagedPackets() + device.machine(B).stagedPackets());
    }

    @Test
    void receiverIndicesAreUniqueAcrossTheDeviceEvenWhenTheRandomSourceRepeatsOne() {
        ScriptedRandom random = new ScriptedRandom();
        Device twins = device(random);
        random.script(42, 42, 42, 77);
        Wire b = new Wire();
        Wire c = new Wire();
        // Both machines answer an initiation: each response takes a local index from the device's allocator
        twins.onDatagram(now, B_AT, ByteBuffer.wrap(initiationFrom(B_KEY, D_KEY.publicKey(), b)), out);
        twins.onDatagram(now, STRANGER_AT, ByteBuffer.wrap(initiationFrom(C_KEY, D_KEY.publicKey(), c)), out);
        assertEquals(2, out.sent.size(), "both answered: " + twins.drops() + twins.gateDrops());
        PeerMachine toB = twins.machine(B);
        PeerMachine toC = twins.machine(C);
        assertTrue(toB.wireGuard().ownsIndex(42), "B's session got the first 42");
        assertFalse(toC.wireGuard().ownsIndex(42), "C's session did not get it again");
        assertTrue(toC.wireGuard().ownsIndex(77));
        assertEquals(42, indexIn(out.sent.get(0)));
        assertEquals(77, indexIn(out.sent.get(1)));
    }

    /** The sender index of a handshake response. */
    private static int indexIn(byte[] response) {
        return ByteBuffer.wrap(response, 4, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
    }

    @Test
    void aConfigurationTheDeviceCannotRunIsRefused() {
        SecureRandom random = WireSamples.seededRandom(1);
        assertThrows(IllegalArgumentException.class, () -> new Device(D_KEY, List.of(), random, WALL));
        assertThrows(IllegalArgumentException.class, () -> new Device(D_KEY, List.of(config(B, "10.9.0.2/32"),
                config(B, "10.9.0.3/32")), random, WALL), "one partner twice");
        PeerConfig otherKey = new PeerConfig(X_KEY, B, null, SERVER, null, null, List.of(), PeerTimers.defaults(),
                SessionTimers.defaults(), Traversal.defaults());
        assertThrows(IllegalArgumentException.class, () -> new Device(D_KEY, List.of(otherKey), random, WALL));
    }

    /** A seeded random whose {@code nextInt()} returns scripted values first. */
    private static final class ScriptedRandom extends SecureRandom {
        private final SecureRandom seeded = WireSamples.seededRandom(5);
        private final ArrayDeque<Integer> script = new ArrayDeque<>();

        ScriptedRandom() {
            super(new byte[0]);
        }

        void script(int... values) {
            for (int v : values) {
                script.add(v);
            }
        }

        @Override
        public int nextInt() {
            return script.isEmpty() ? seeded.nextInt() : script.poll();
        }

        @Override
        public void nextBytes(byte[] bytes) {
            if (seeded != null) { // (null while SecureRandom's constructor runs)
                seeded.nextBytes(bytes);
            }
        }
    }

    private static byte[] ipv4(String destination) {
        byte[] p = new byte[40];
        ByteBuffer b = ByteBuffer.wrap(p);
        b.put(0, (byte) 0x45).putShort(2, (short) 40).put(9, (byte) 17);
        b.put(12, new byte[] {10, 9, 0, 1});
        try {
            b.put(16, java.net.InetAddress.getByName(destination).getAddress());
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
        return p;
    }
}
