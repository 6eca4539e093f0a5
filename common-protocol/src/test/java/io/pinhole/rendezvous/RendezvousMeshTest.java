package io.pinhole.rendezvous;

import static io.pinhole.wire.WireSamples.endpoint;
import static io.pinhole.wire.WireSamples.privateKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.rendezvous.RecordingTransmit.Reply;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * RendezvousMeshTest: one key registered for several partners from one endpoint (a device with
 * several peers behind one socket): each (key, wanted) pair is a registration of its own, with
 * its own session, timestamps, pairing and LEAVE.
 */
class RendezvousMeshTest {
    private static final long SECOND = 1_000_000_000L;
    private static final NoisePrivateKey SERVER_KEY = privateKey(0x5e);
    private static final NoisePrivateKey A_KEY = privateKey(0x10);
    private static final NoisePrivateKey B_KEY = privateKey(0x30);
    private static final NoisePrivateKey C_KEY = privateKey(0x50);
    private static final NoisePublicKey A = A_KEY.publicKey();
    private static final NoisePublicKey B = B_KEY.publicKey();
    private static final NoisePublicKey C = C_KEY.publicKey();
    private static final InetSocketAddress A_NAT = endpoint("198.51.100.2", 51820);
    private static final InetSocketAddress B_NAT = endpoint("192.0.2.2", 51820);
    private static final InetSocketAddress C_NAT = endpoint("203.0.113.30", 51820);
    private static final long T = 1_763_700_000_000_000L;

    private final Rendezvous server = new Rendezvous(RendezvousConfig.defaults(), SERVER_KEY,
            WireSamples.seededRandom(7));
    private final RecordingTransmit out = new RecordingTransmit();
    private final long t0 = 1_000 * SECOND;

    private List<Reply> send(double seconds, InetSocketAddress from, byte[] datagram) {
        server.onDatagram(t0 + (long) (seconds * SECOND), from, WireSamples.wrap(datagram), out);
        return out.take();
    }

    private static byte[] macKey(NoisePrivateKey key) {
        return ControlKeys.peerServer(key, SERVER_KEY.publicKey());
    }

    private byte[] registerBytes(NoisePrivateKey self, NoisePublicKey wanted, long session, long timestamp,
                                 InetSocketAddress from, double seconds) {
        List<Reply> challenge = send(seconds, from, WireSamples.bytes(new Register(self.publicKey(), wanted, session,
                timestamp, null, List.of()).encode(null)));
        byte[] cookie = ((Challenge) challenge.get(0).message()).cookie();
        return WireSamples.bytes(new Register(self.publicKey(), wanted, session, timestamp, cookie, List.of())
                .encode(macKey(self)));
    }

    private List<Reply> register(double seconds, InetSocketAddress from, NoisePrivateKey self, NoisePublicKey wanted,
                                 long session, long timestamp) {
        return send(seconds, from, registerBytes(self, wanted, session, timestamp, from, seconds));
    }

    /** The PEER_INFOs among {@code replies} sent to {@code to}. */
    private static List<PeerInfo> peerInfosTo(List<Reply> replies, InetSocketAddress to) {
        return replies.stream().filter(r -> r.to().equals(to) && r.message() instanceof PeerInfo)
                .map(r -> (PeerInfo) r.message()).toList();
    }

    /** A registers for B (session 11) and for C (session 12) from one endpoint, the same timestamp; B and C want A. */
    private void mesh() {
        register(0, A_NAT, A_KEY, B, 11, T);
        register(0, A_NAT, A_KEY, C, 12, T); // the same instant: a device's machines share the wall clock
        register(0.1, B_NAT, B_KEY, A, 2, T);
        register(0.2, C_NAT, C_KEY, A, 3, T);
    }

    @Test
    void oneKeyRegistersForTwoPartnersFromOneEndpointAndIsPairedWithBoth() {
        List<Reply> first = register(0, A_NAT, A_KEY, B, 11, T);
        List<Reply> second = register(0, A_NAT, A_KEY, C, 12, T);
        assertEquals(new Registered(11, T, 20, A_NAT), first.get(0).message());
        assertEquals(new Registered(12, T, 20, A_NAT), second.get(0).message(),
                "a second partner is a registration of its own, with its own session (not a replay of the first)");
        assertEquals(2, server.registrations());

        List<Reply> fromB = register(0.1, B_NAT, B_KEY, A, 2, T);
        List<PeerInfo> toA = peerInfosTo(fromB, A_NAT);
        assertEquals(1, toA.size(), "A hears of B: " + fromB);
        assertEquals(List.of(11L, B), List.of(toA.get(0).session(), toA.get(0).peer()),
                "answering A's registration for B (its session)");

        List<Reply> fromC = register(0.2, C_NAT, C_KEY, A, 3, T);
        toA = peerInfosTo(fromC, A_NAT);
        assertEquals(1, toA.size(), "A hears of C: " + fromC);
        assertEquals(List.of(12L, C), List.of(toA.get(0).session(), toA.get(0).peer()),
                "answering A's registration for C");
        assertEquals(List.of(A), peerInfosTo(fromC, C_NAT).stream().map(PeerInfo::peer).toList());

        assertEquals(4, server.registrations());
        assertTrue(server.isRegistered(A, B) && server.isRegistered(A, C) && server.isRegistered(A));
        assertEquals(2, server.pairings());
    }

    @Test
    void aRefreshOfOneRegistrationLeavesTheOtherAloneAndOnlyItsOwnPartnerHearsOfIt() {
        mesh();
        List<Reply> refresh = register(5, A_NAT, A_KEY, C, 12, T + 5);
        assertEquals(new Registered(12, T + 5, 20, A_NAT), refresh.get(0).message());
        assertTrue(refresh.stream().noneMatch(r -> r.to().equals(B_NAT)), "B is not told of A's registration for C");
        assertTrue(server.isRegistered(A, B));
    }

    @Test
    void timestampsAreCheckedPerRegistrationSoACapturedRegisterIsStillAReplay() {
        byte[] captured = registerBytes(A_KEY, B, 11, T, A_NAT, 0);
        send(0, A_NAT, captured);
        register(1, A_NAT, A_KEY, B, 11, T + 10);
        register(1, A_NAT, A_KEY, C, 12, T + 1); // older than A's latest for B: fine, another registration
        assertTrue(server.isRegistered(A, C));
        long replayed = server.drops().getOrDefault(ServerDrop.REPLAYED, 0L);
        assertEquals(List.of(), send(2, A_NAT, captured));
        assertEquals(replayed + 1, server.drops().get(ServerDrop.REPLAYED));
    }

    @Test
    void aLeaveEndsOnlyTheRegistrationOfItsSessionAndItsPartnerIsNoLongerPaired() {
        mesh();
        assertEquals(List.of(), send(3, A_NAT, WireSamples.bytes(new Leave(A, 12, T + 3).encode(macKey(A_KEY)))));
        assertFalse(server.isRegistered(A, C), "A's registration for C (session 12) ended");
        assertTrue(server.isRegistered(A, B), "its registration for B (session 11) stays");
        assertEquals(3, server.registrations());

        List<Reply> refreshC = register(4, C_NAT, C_KEY, A, 3, T + 4);
        assertEquals(List.of(), peerInfosTo(refreshC, C_NAT), "C is unpaired now");
        List<Reply> refreshB = register(4, B_NAT, B_KEY, A, 2, T + 4);
        assertEquals(List.of(A), peerInfosTo(refreshB, B_NAT).stream().map(PeerInfo::peer).toList(),
                "B is still paired with A");
    }

    @Test
    void aRelayFromAnEndpointWithTwoRegistrationsGoesToThePartnerOfTheLatestRegister() {
        mesh();
        byte[] transport = WireSamples.sequence(0x40, 64);
        transport[0] = 4;
        transport[1] = 0;
        transport[2] = 0;
        transport[3] = 0;
        byte[] frame = WireSamples.bytes(io.pinhole.wire.Relay.wrap(WireSamples.wrap(transport)));
        assertEquals(List.of(Reply.relayed(C_NAT, frame)), send(1, A_NAT, frame), "A's latest REGISTER wants C");
        register(2, A_NAT, A_KEY, B, 11, T + 2);
        assertEquals(List.of(Reply.relayed(B_NAT, frame)), send(3, A_NAT, frame), "now the one for B");
    }
}
