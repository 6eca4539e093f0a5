package io.pinhole.peer;

import static io.pinhole.wire.WireSamples.endpoint;
import static io.pinhole.wire.WireSamples.key;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.PlainData;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * PeerHarness: one PeerMachine with a recording PeerOutput and a virtual clock that ticks every
 * 50 ms, plus the cast around it (the rendezvous server, the partner) as addresses and keys.
 */
final class PeerHarness implements PeerOutput {
    static final long MS = 1_000_000L;
    static final long SECOND = 1_000 * MS;
    static final long TICK = 50 * MS;

    static final NoisePublicKey SELF = key(0x11);
    static final NoisePublicKey PEER = key(0x77);
    static final NoisePublicKey STRANGER = key(0xcc);
    static final long SESSION = 0x5e55_0000_1011L;
    static final long PEER_SESSION = 0xbeef_0000_0001L;

    static final InetSocketAddress RENDEZVOUS = endpoint("203.0.113.10", 7777);
    static final InetSocketAddress OUR_PUBLIC = endpoint("198.51.100.2", 40001);
    static final List<InetSocketAddress> OUR_LAN = List.of(endpoint("10.0.1.2", 51820));
    static final InetSocketAddress PEER_PUBLIC = endpoint("192.0.2.2", 40002);
    static final InetSocketAddress PEER_LAN = endpoint("10.0.2.2", 51820);
    static final InetSocketAddress PEER_ROAMED = endpoint("192.0.2.77", 50505);
    static final InetSocketAddress ATTACKER = endpoint("203.0.113.66", 6666);

    /** One datagram the machine sent, at virtual time {@code at}. */
    record Sent(long at, InetSocketAddress to, byte[] bytes) {
        MessageType type() {
            return MessageType.ofCode(bytes[0]);
        }

        ControlMessage message() {
            try {
                return ControlMessage.decode(ByteBuffer.wrap(bytes));
            } catch (MalformedMessageException e) {
                throw new AssertionError("not a control message: " + e.getMessage());
            }
        }

        @Override
        public String toString() {
            return "Sent[at=" + at + ", to=" + to + ", " + type() + " of " + bytes.length + " bytes]";
        }
    }

    final PeerMachine machine;
    final long origin;
    long now;
    boolean answerRegisters;
    private final List<Sent> sent = new ArrayList<>();
    private final List<byte[]> delivered = new ArrayList<>();

    PeerHarness(long origin, PeerConfig config) {
        this.origin = origin;
        this.now = origin;
        this.machine = new PeerMachine(config, SESSION);
    }

    PeerHarness(long origin) {
        this(origin, PeerConfig.of(SELF, PEER, RENDEZVOUS, OUR_LAN));
    }

    PeerHarness() {
        this(7 * SECOND);
    }

    static PeerConfig configWithStagedLimit(int limit) {
        return new PeerConfig(SELF, PEER, RENDEZVOUS, OUR_LAN, PeerTimers.defaults(), limit);
    }

    // ---------------------------------------------------------------- PeerOutput

    @Override
    public void send(InetSocketAddress to, ByteBuffer datagram) {
        sent.add(new Sent(now, to, WireSamples.bytes(datagram)));
    }

    @Override
    public void deliver(ByteBuffer ipPacket) {
        delivered.add(WireSamples.bytes(ipPacket));
    }

    // ---------------------------------------------------------------- driving

    PeerHarness start() {
        machine.start(now, this);
        return this;
    }

    /** Lets {@code duration} pass, ticking every 50 ms; answers REGISTERs if asked to. */
    void advance(Duration duration) {
        long end = now + duration.toNanos();
        while (end - now > 0) {
            now += Math.min(TICK, end - now);
            int before = sent.size();
            machine.onTick(now, this);
            if (answerRegisters && sent.subList(before, sent.size()).stream()
                    .anyMatch(s -> s.to().equals(RENDEZVOUS) && s.type() == MessageType.REGISTER)) {
                registered();
            }
        }
    }

    void advanceMillis(long millis) {
        advance(Duration.ofMillis(millis));
    }

    /** Virtual milliseconds since the origin. */
    long elapsedMillis(long at) {
        return (at - origin) / MS;
    }

    void receive(InetSocketAddress from, byte[] datagram) {
        machine.onDatagram(now, from, ByteBuffer.wrap(datagram), this);
    }

    void receive(InetSocketAddress from, ControlMessage message) {
        receive(from, WireSamples.bytes(message.encode()));
    }

    void registered() {
        receive(RENDEZVOUS, new Registered(SESSION, 20, OUR_PUBLIC));
    }

    void peerInfo() {
        receive(RENDEZVOUS, new PeerInfo(PEER, PEER_SESSION, PEER_PUBLIC, List.of(PEER_LAN)));
    }

    void punchFromPeer(InetSocketAddress from, boolean ack) {
        receive(from, new Punch(PEER, SELF, PEER_SESSION, ack));
    }

    void dataFromPeer(InetSocketAddress from, long session, byte[] packet) {
        receive(from, WireSamples.bytes(PlainData.encode(session, ByteBuffer.wrap(packet))));
    }

    void tun(byte[] packet) {
        machine.onTunPacket(now, ByteBuffer.wrap(packet), this);
    }

    /** Start, REGISTERED, PEER_INFO and an answered punch from the peer's public endpoint; clears the record. */
    PeerHarness connected() {
        start();
        registered();
        peerInfo();
        punchFromPeer(PEER_PUBLIC, true);
        takeSent();
        return this;
    }

    // ---------------------------------------------------------------- observing

    List<Sent> takeSent() {
        List<Sent> taken = List.copyOf(sent);
        sent.clear();
        return taken;
    }

    List<Sent> sent() {
        return List.copyOf(sent);
    }

    int sentCount() {
        return sent.size();
    }

    /** What was sent after the first {@code count} datagrams (a view, valid until the next call). */
    List<Sent> sentSince(int count) {
        return sent.subList(count, sent.size());
    }

    List<Sent> sentTo(InetSocketAddress to) {
        return sent.stream().filter(s -> s.to().equals(to)).toList();
    }

    List<Sent> sentOfType(MessageType type) {
        return sent.stream().filter(s -> s.type() == type).toList();
    }

    List<byte[]> delivered() {
        return delivered;
    }

    long drops(PeerDrop drop) {
        return machine.drops().getOrDefault(drop, 0L);
    }

    static byte[] packet(int n) {
        byte[] p = new byte[20 + n];
        p[0] = 0x45;
        p[19] = (byte) n;
        return p;
    }

    static byte[] plainData(long session, byte[] packet) {
        return WireSamples.bytes(PlainData.encode(session, ByteBuffer.wrap(packet)));
    }
}
