package io.pinhole.rendezvous;

import static io.pinhole.wire.WireSamples.endpoint;
import static io.pinhole.wire.WireSamples.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.rendezvous.RecordingTransmit.Reply;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.PlainData;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RendezvousTest: the server core driven directly, in virtual time, with a recording Transmit. */
class RendezvousTest {
    private static final long SECOND = 1_000_000_000L;

    private static final NoisePublicKey A = key(0x10);
    private static final NoisePublicKey B = key(0x30);
    private static final NoisePublicKey C = key(0x50);
    private static final NoisePublicKey D = key(0x70);

    private static final InetSocketAddress A_NAT = endpoint("198.51.100.2", 40001);
    private static final InetSocketAddress A_NAT_NEW_PORT = endpoint("198.51.100.2", 40999);
    private static final InetSocketAddress B_NAT = endpoint("192.0.2.2", 40002);
    private static final InetSocketAddress C_NAT = endpoint("2001:db8:c::2", 40003);
    private static final InetSocketAddress ATTACKER = endpoint("203.0.113.66", 6666);
    private static final List<InetSocketAddress> A_LAN = List.of(endpoint("10.0.1.2", 51820));
    private static final List<InetSocketAddress> B_LAN = List.of(endpoint("10.0.2.2", 51820),
            endpoint("fd00::2", 51820));

    private RendezvousConfig config = RendezvousConfig.defaults();
    private Rendezvous server = new Rendezvous(config);
    private final RecordingTransmit out = new RecordingTransmit();
    private long t0 = 1_000 * SECOND;

    // ---------------------------------------------------------------- helpers

    private long at(double seconds) {
        return t0 + (long) (seconds * SECOND);
    }

    private List<Reply> send(double seconds, InetSocketAddress from, byte[] datagram) {
        server.onDatagram(at(seconds), from, ByteBuffer.wrap(datagram), out);
        return out.take();
    }

    private List<Reply> send(double seconds, InetSocketAddress from, ControlMessage message) {
        return send(seconds, from, WireSamples.bytes(message.encode()));
    }

    private List<Reply> register(double seconds, InetSocketAddress from, NoisePublicKey self, NoisePublicKey wanted,
                                 long session, List<InetSocketAddress> candidates) {
        return send(seconds, from, new Register(self, wanted, session, candidates));
    }

    private List<Reply> register(double seconds, InetSocketAddress from, NoisePublicKey self, NoisePublicKey wanted) {
        return register(seconds, from, self, wanted, sessionOf(self), List.of());
    }

    private static long sessionOf(NoisePublicKey key) {
        return 0x5e55_0000L + (key.toBytes()[0] & 0xff);
    }

    private static Reply registeredReply(InetSocketAddress to, long session) {
        Registered registered = new Registered(session, 20, to);
        return new Reply(to, registered, registered.encode().remaining());
    }

    private static Reply peerInfoReply(InetSocketAddress to, PeerInfo info) {
        return new Reply(to, info, info.encode().remaining());
    }

    private static List<Reply> peerInfos(List<Reply> replies) {
        return replies.stream().filter(r -> r.message() instanceof PeerInfo).toList();
    }

    private long drops(ServerDrop drop) {
        return server.drops().getOrDefault(drop, 0L);
    }

    private void useConfig(RendezvousConfig newConfig) {
        config = newConfig;
        server = new Rendezvous(config);
    }

    // ---------------------------------------------------------------- registration and pairing

    @Test
    void aLoneRegistrationIsAcknowledgedWithTheObservedEndpointAndTheRefreshInterval() {
        List<Reply> replies = register(0, A_NAT, A, B, 77L, A_LAN);

        assertEquals(List.of(registeredReply(A_NAT, 77L)), replies);
        assertEquals(1, server.registrations());
        assertEquals(0, server.pairings());
    }

    @Test
    void twoPeersThatWantEachOtherAreEachToldWhereTheOtherIs() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        List<Reply> replies = register(0.3, B_NAT, B, A, 2L, B_LAN);

        assertEquals(List.of(
                registeredReply(B_NAT, 2L),
                peerInfoReply(B_NAT, new PeerInfo(A, 1L, A_NAT, A_LAN)),
                peerInfoReply(A_NAT, new PeerInfo(B, 2L, B_NAT, B_LAN))), replies);
        assertEquals(1, server.pairings());
    }

    @Test
    void noPairingUnlessBothWantEachOther() {
        assertEquals(1, register(0, A_NAT, A, B).size());
        assertEquals(1, register(1, B_NAT, B, C).size(), "B wants C, not A: only REGISTERED");
        assertEquals(1, register(2, C_NAT, C, A).size(), "C wants A, who wants B: only REGISTERED");
        assertEquals(0, server.pairings());

        List<Reply> replies = register(3, B_NAT, B, A);
        assertEquals(Set.of(A_NAT, B_NAT), Set.copyOf(peerInfos(replies).stream().map(Reply::to).toList()),
                "once B wants A too, both hear");
    }

    @Test
    void aRegistrationNamingItselfIsRefusedAndCounted() {
        assertEquals(List.of(), register(0, A_NAT, A, A));
        assertEquals(0, server.registrations());
        assertEquals(1, drops(ServerDrop.SELF_PAIRING));
    }

    @Test
    void reRegistrationFromANewPortTellsBothSidesAtOnce() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        register(0.1, B_NAT, B, A, 2L, B_LAN);

        List<Reply> replies = register(0.2, A_NAT_NEW_PORT, A, B, 1L, A_LAN);

        assertEquals(List.of(
                registeredReply(A_NAT_NEW_PORT, 1L),
                peerInfoReply(A_NAT_NEW_PORT, new PeerInfo(B, 2L, B_NAT, B_LAN)),
                peerInfoReply(B_NAT, new PeerInfo(A, 1L, A_NAT_NEW_PORT, A_LAN))), replies);
    }

    @Test
    void reRegistrationWithANewSessionTellsBothSidesAtOnce() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        register(0.1, B_NAT, B, A, 2L, B_LAN);

        List<Reply> replies = register(0.2, A_NAT, A, B, 11L, A_LAN);

        assertEquals(List.of(
                registeredReply(A_NAT, 11L),
                peerInfoReply(A_NAT, new PeerInfo(B, 2L, B_NAT, B_LAN)),
                peerInfoReply(B_NAT, new PeerInfo(A, 11L, A_NAT, A_LAN))), replies);
    }

    @Test
    void anUnchangedRefreshRepeatsPeerInfoAtMostOncePerMinInterval() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        register(0.1, B_NAT, B, A, 2L, B_LAN);

        assertEquals(List.of(registeredReply(A_NAT, 1L)), register(0.5, A_NAT, A, B, 1L, A_LAN),
                "the same news within a second is not repeated");
        assertEquals(2, peerInfos(register(1.1, A_NAT, A, B, 1L, A_LAN)).size(), "a second later it is");
    }

    @Test
    void changedCandidatesAreSentToThePartnerAtOnce() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        register(0.1, B_NAT, B, A, 2L, B_LAN);

        List<Reply> replies = register(0.2, A_NAT, A, B, 1L, List.of());

        assertTrue(replies.contains(peerInfoReply(B_NAT, new PeerInfo(A, 1L, A_NAT, List.of()))), replies.toString());
    }

    // ---------------------------------------------------------------- amplification and destinations

    @Test
    void everyReplyToARegisterIsNoLargerThanTheRegister() {
        // the largest replies there are: IPv6 everywhere, eight IPv6 candidates
        InetSocketAddress aV6 = endpoint("2001:db8:a::2", 40001);
        InetSocketAddress bV6 = endpoint("2001:db8:b::2", 40002);
        List<InetSocketAddress> eightV6 = List.of(C_NAT, C_NAT, C_NAT, C_NAT, C_NAT, C_NAT, C_NAT, C_NAT);
        register(0, aV6, A, B, 1L, eightV6);
        List<Reply> replies = register(0.1, bV6, B, A, 2L, eightV6);

        assertEquals(3, replies.size());
        int toSender = 0;
        for (Reply r : replies) {
            assertTrue(r.size() <= Register.LENGTH, r + " is larger than the REGISTER");
            toSender += r.to().equals(bV6) ? r.size() : 0;
        }
        assertEquals(33 + 216, toSender);
        assertTrue(toSender <= Register.LENGTH, "even all replies to the sender together are smaller");
    }

    @Test
    void twoKeysRegisteredFromOneSpoofedAddressCannotBeUsedToAmplifyTowardIt() {
        InetSocketAddress victim = endpoint("192.0.2.99", 53);
        List<InetSocketAddress> eight = WireSamples.candidates(8);
        register(0, victim, A, B, 1L, eight);
        register(0, victim, B, A, 2L, eight);

        for (long session = 3; session < 10; session++) { // a new session each time defeats the repeat limit
            List<Reply> replies = register(session, victim, A, B, session, eight);
            int toVictim = replies.stream().filter(r -> r.to().equals(victim)).mapToInt(Reply::size).sum();
            assertTrue(toVictim <= Register.LENGTH, toVictim + " bytes to the victim for one REGISTER: " + replies);
        }
    }

    @Test
    void repliesGoOnlyToTheSenderOrItsRegisteredPartner() {
        register(0, A_NAT, A, B);
        register(0, C_NAT, C, D);
        List<Reply> replies = register(1, B_NAT, B, A);

        for (Reply r : replies) {
            assertTrue(r.to().equals(B_NAT) || r.to().equals(A_NAT), r.toString());
        }
    }

    // ---------------------------------------------------------------- drops

    @Test
    void truncatedDatagramsAreDroppedAsTruncated() {
        byte[] register = WireSamples.bytes(new Register(A, B, 1L, List.of()).encode());
        assertEquals(List.of(), send(0, A_NAT, Arrays.copyOf(register, 255)));
        assertEquals(List.of(), send(0, A_NAT, new byte[0]));
        assertEquals(List.of(), send(0, A_NAT, new byte[] {0x50, 1, 0}));
        assertEquals(3, drops(ServerDrop.TRUNCATED));
        assertEquals(0, server.registrations());
    }

    @Test
    void malformedDatagramsAreDroppedUnderTheirReason() {
        byte[] register = WireSamples.bytes(new Register(A, B, 1L, List.of()).encode());
        byte[] badVersion = register.clone();
        badVersion[1] = 2;
        byte[] badField = register.clone();
        badField[200] = 1;
        byte[] oversized = Arrays.copyOf(register, 257);
        byte[] unknown = register.clone();
        unknown[0] = 0x7f;

        for (byte[] datagram : List.of(badVersion, badField, oversized, unknown)) {
            assertEquals(List.of(), send(0, A_NAT, datagram));
        }
        assertEquals(Map.of(ServerDrop.BAD_VERSION, 1L, ServerDrop.BAD_FIELD, 1L, ServerDrop.OVERSIZED, 1L,
                ServerDrop.UNKNOWN_TYPE, 1L), server.drops());
        assertEquals(4, server.droppedTotal());
        assertEquals(0, server.registrations());
    }

    @Test
    void messagesPeersSendToEachOtherAreDroppedAsNotForServer() {
        byte[] wireGuardInitiation = new byte[148];
        wireGuardInitiation[0] = 1;
        List<byte[]> peerOnly = List.of(
                WireSamples.bytes(new Punch(A, B, 1L, false).encode()),
                WireSamples.bytes(new Registered(1L, 20, A_NAT).encode()),
                WireSamples.bytes(new PeerInfo(B, 2L, B_NAT, B_LAN).encode()),
                WireSamples.bytes(PlainData.encode(1L, ByteBuffer.wrap(new byte[] {0x45, 0, 0, 20}))),
                WireSamples.bytes(PlainData.encode(1L, ByteBuffer.allocate(0))),
                wireGuardInitiation);

        for (byte[] datagram : peerOnly) {
            assertEquals(List.of(), send(0, A_NAT, datagram));
        }
        assertEquals(Map.of(ServerDrop.NOT_FOR_SERVER, (long) peerOnly.size()), server.drops());
    }

    @Test
    void aMalformedPlainDataIsStillCountedUnderItsReason() {
        byte[] data = WireSamples.bytes(PlainData.encode(1L, ByteBuffer.allocate(0)));
        byte[] badVersion = data.clone();
        badVersion[1] = 9;

        send(0, A_NAT, Arrays.copyOf(data, 8));
        send(0, A_NAT, badVersion);

        assertEquals(Map.of(ServerDrop.TRUNCATED, 1L, ServerDrop.BAD_VERSION, 1L), server.drops());
    }

    // ---------------------------------------------------------------- expiry

    @Test
    void aRegistrationExpiresExactlyOneTtlAfterItsLastRefresh() {
        register(0, A_NAT, A, B);

        server.expire(at(59.999));
        assertEquals(1, server.registrations());
        server.expire(at(60));
        assertEquals(0, server.registrations());
    }

    @Test
    void aRefreshedRegistrationOutlivesItsFirstTtl() {
        register(0, A_NAT, A, B);
        register(40, A_NAT, A, B);

        server.expire(at(99.999));
        assertEquals(1, server.registrations());
        server.expire(at(100));
        assertEquals(0, server.registrations());
    }

    @Test
    void expiryRemovesAStaleRegistrationEvenWhenAFresherOneWasRegisteredBeforeIt() {
        register(0, A_NAT, A, C);
        register(10, B_NAT, B, C);
        register(20, A_NAT, A, C); // A refreshed: now fresher than B

        server.expire(at(70));

        assertEquals(1, server.registrations(), "B (last seen at 10 s) is gone, A (20 s) stays");
        assertEquals(1, register(71, C_NAT, C, A).stream().filter(r -> r.message() instanceof PeerInfo)
                .filter(r -> r.to().equals(A_NAT)).count(), "A is still there to be paired");
    }

    @Test
    void anExpiredPartnerIsNoLongerPaired() {
        register(0, A_NAT, A, B);
        server.expire(at(60));

        assertEquals(List.of(registeredReply(B_NAT, sessionOf(B))), register(61, B_NAT, B, A));
    }

    // ---------------------------------------------------------------- cap

    @Test
    void beyondTheCapNewKeysAreDroppedButKnownKeysRefreshAndExpirySlotsAreReused() {
        useConfig(config.withMaxRegistrations(3));
        register(0, A_NAT, A, D);
        register(0, B_NAT, B, D);
        register(0, C_NAT, C, D);

        assertEquals(List.of(), register(1, ATTACKER, D, A), "a fourth key is refused without a reply");
        assertEquals(1, drops(ServerDrop.TABLE_FULL));
        assertEquals(3, server.registrations());

        assertEquals(List.of(registeredReply(B_NAT, sessionOf(B))), register(30, B_NAT, B, D), "B can refresh");
        register(30, C_NAT, C, D);
        assertEquals(1, drops(ServerDrop.TABLE_FULL));

        List<Reply> replies = register(60, ATTACKER, D, A);
        assertEquals(registeredReply(ATTACKER, sessionOf(D)), replies.get(0), "A expired: its slot is free");
        assertEquals(3, server.registrations());
        assertEquals(1, drops(ServerDrop.TABLE_FULL));
    }

    @Test
    void theConfigRefusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> config.withMaxRegistrations(0));
        assertThrows(IllegalArgumentException.class, () -> new RendezvousConfig(Duration.ofSeconds(20),
                Duration.ofSeconds(20), 10, Duration.ofSeconds(1)));
    }

    // ---------------------------------------------------------------- leave

    @Test
    void leaveFromTheRegisteredEndpointAndSessionRemovesTheRegistration() {
        register(0, A_NAT, A, B, 5L, A_LAN);

        assertEquals(List.of(), send(1, A_NAT, new Leave(A, 5L)), "LEAVE is never answered");

        assertEquals(0, server.registrations());
        assertEquals(0, server.droppedTotal());
    }

    @Test
    void aForgedLeaveFromAnotherAddressRemovesNothing() {
        register(0, A_NAT, A, B, 5L, A_LAN);

        assertEquals(List.of(), send(1, ATTACKER, new Leave(A, 5L)));
        assertEquals(List.of(), send(1, A_NAT_NEW_PORT, new Leave(A, 5L)));

        assertEquals(1, server.registrations());
        assertEquals(2, drops(ServerDrop.STALE_LEAVE));
        assertEquals(2, peerInfos(register(2, B_NAT, B, A)).size(), "A is still paired");
    }

    @Test
    void aLeaveForAnOldSessionRemovesNothing() {
        register(0, A_NAT, A, B, 5L, A_LAN);
        register(1, A_NAT, A, B, 6L, A_LAN);

        send(2, A_NAT, new Leave(A, 5L));
        send(2, A_NAT, new Leave(B, 6L));

        assertEquals(1, server.registrations());
        assertEquals(2, drops(ServerDrop.STALE_LEAVE));
    }

    // ---------------------------------------------------------------- time origin

    @ParameterizedTest
    @ValueSource(longs = {Long.MAX_VALUE - 30 * SECOND, Long.MIN_VALUE, -1, 0})
    void anyTimeOriginWorksIncludingAcrossTheLongOverflow(long origin) {
        t0 = origin;
        register(0, A_NAT, A, B, 1L, A_LAN);
        assertEquals(3, register(1, B_NAT, B, A, 2L, B_LAN).size(), "paired");
        assertEquals(1, register(1.5, B_NAT, B, A, 2L, B_LAN).size(), "unchanged news not repeated");
        assertEquals(3, register(2.5, B_NAT, B, A, 2L, B_LAN).size(), "repeated a second later");
        register(50, A_NAT, A, B, 1L, A_LAN);

        server.expire(at(62.4));
        assertEquals(2, server.registrations(), "B refreshed at 2.5 s lives until 62.5 s");
        server.expire(at(62.5));
        assertEquals(1, server.registrations());
        server.expire(at(109.999));
        assertEquals(1, server.registrations());
        server.expire(at(110));
        assertEquals(0, server.registrations());
    }
}
