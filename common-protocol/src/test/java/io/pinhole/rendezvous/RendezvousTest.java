package io.pinhole.rendezvous;

import static io.pinhole.wire.WireSamples.endpoint;
import static io.pinhole.wire.WireSamples.privateKey;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.Blake2s;
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
import io.pinhole.ratelimiter.ByteBucket;
import io.pinhole.wire.Relay;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * RendezvousTest: the server core driven directly, in virtual time, with a recording Transmit.
 * Peers are real key pairs; a registration is the whole exchange (REGISTER without cookie,
 * CHALLENGE, REGISTER with the cookie, a newer timestamp and the peer-server MAC).
 */
class RendezvousTest {
    private static final long SECOND = 1_000_000_000L;

    private static final NoisePrivateKey SERVER_KEY = privateKey(0x5e);
    private static final NoisePrivateKey A_KEY = privateKey(0x10);
    private static final NoisePrivateKey B_KEY = privateKey(0x30);
    private static final NoisePrivateKey C_KEY = privateKey(0x50);
    private static final NoisePrivateKey D_KEY = privateKey(0x70);
    /** The attacker's own key pair: it can MAC only as itself. */
    private static final NoisePrivateKey X_KEY = privateKey(0x66);

    private static final NoisePublicKey A = A_KEY.publicKey();
    private static final NoisePublicKey B = B_KEY.publicKey();
    private static final NoisePublicKey C = C_KEY.publicKey();
    private static final NoisePublicKey D = D_KEY.publicKey();
    private static final NoisePublicKey X = X_KEY.publicKey();
    /** A wanted key for REGISTERs whose partner does not matter. */
    private static final NoisePublicKey NOBODY = WireSamples.key(0xee);

    private static final InetSocketAddress A_NAT = endpoint("198.51.100.2", 40001);
    private static final InetSocketAddress A_NAT_NEW_PORT = endpoint("198.51.100.2", 40999);
    private static final InetSocketAddress B_NAT = endpoint("192.0.2.2", 40002);
    private static final InetSocketAddress B_NAT_NEW_PORT = endpoint("192.0.2.2", 40998);
    private static final InetSocketAddress C_NAT = endpoint("2001:db8:c::2", 40003);
    private static final InetSocketAddress ATTACKER = endpoint("203.0.113.66", 6666);
    private static final List<InetSocketAddress> A_LAN = List.of(endpoint("10.0.1.2", 51820));
    private static final List<InetSocketAddress> B_LAN = List.of(endpoint("10.0.2.2", 51820),
            endpoint("fd00::2", 51820));

    private final Map<NoisePublicKey, NoisePrivateKey> privates = new HashMap<>(Map.of(A, A_KEY, B, B_KEY, C, C_KEY,
            D, D_KEY, X, X_KEY));
    private final Map<NoisePublicKey, Long> timestamps = new HashMap<>();
    private RendezvousConfig config = RendezvousConfig.defaults();
    private Rendezvous server = new Rendezvous(config, SERVER_KEY, WireSamples.seededRandom(1));
    private final RecordingTransmit out = new RecordingTransmit();
    private long t0 = 1_000 * SECOND;

    // ---------------------------------------------------------------- helpers

    private long at(double seconds) {
        return t0 + (long) (seconds * SECOND);
    }

    private List<Reply> send(double seconds, InetSocketAddress from, byte[] datagram) {
        return sendAt(at(seconds), from, datagram);
    }

    /** As {@link #send}, at {@code now} exactly (nanoseconds). */
    private List<Reply> sendAt(long now, InetSocketAddress from, byte[] datagram) {
        server.onDatagram(now, from, WireSamples.wrap(datagram), out);
        return out.take();
    }

    /** The key {@code peer} shares with the current server, computed on the peer's side. */
    private byte[] macKey(NoisePublicKey peer) {
        return ControlKeys.peerServer(privates.get(peer), server.publicKey());
    }

    /** The next timestamp of {@code peer}: strictly increasing microseconds. */
    private long nextTimestamp(NoisePublicKey peer) {
        return timestamps.merge(peer, 1_763_700_000_000_000L, (old, one) -> old + 1);
    }

    private byte[] registerBytes(NoisePublicKey self, NoisePublicKey wanted, long session,
                                 List<InetSocketAddress> candidates, byte[] cookie, byte[] macKey) {
        return WireSamples.bytes(new Register(self, wanted, session, nextTimestamp(self), cookie, candidates)
                .encode(macKey));
    }

    /** Sends a REGISTER without cookie or MAC and returns the cookie of the one CHALLENGE it must get. */
    private byte[] cookie(double seconds, InetSocketAddress from, NoisePublicKey self) {
        long challenges = server.challenges();
        List<Reply> replies = send(seconds, from, registerBytes(self, NOBODY, 1L, List.of(), null, null));
        assertEquals(1, replies.size(), "one CHALLENGE: " + replies);
        Reply reply = replies.get(0);
        assertEquals(from, reply.to(), "the CHALLENGE goes back to the sender");
        Challenge challenge = (Challenge) reply.message();
        assertEquals(server.publicKey(), challenge.server());
        assertEquals(Challenge.LENGTH, reply.size());
        assertEquals(challenges + 1, server.challenges());
        return challenge.cookie();
    }

    /** The whole registration: a CHALLENGE for the cookie, then the authenticated REGISTER; its replies. */
    private List<Reply> register(double seconds, InetSocketAddress from, NoisePublicKey self, NoisePublicKey wanted,
                                 long session, List<InetSocketAddress> candidates) {
        byte[] cookie = cookie(seconds, from, self);
        List<Reply> replies = send(seconds, from, registerBytes(self, wanted, session, candidates, cookie,
                macKey(self)));
        assertMacsFor(replies, from, self, wanted);
        return replies;
    }

    private List<Reply> register(double seconds, InetSocketAddress from, NoisePublicKey self, NoisePublicKey wanted) {
        return register(seconds, from, self, wanted, sessionOf(self), List.of());
    }

    /** Replies to the sender carry the sender's MAC; PEER_INFO to the partner carries the partner's. */
    private void assertMacsFor(List<Reply> replies, InetSocketAddress from, NoisePublicKey self,
                               NoisePublicKey wanted) {
        for (Reply r : replies) {
            if (r.message() instanceof Challenge) {
                continue;
            }
            NoisePublicKey recipient = r.to().equals(from) ? self : wanted;
            assertTrue(r.macValid(macKey(recipient)), r + " is not MACed for its recipient");
            for (NoisePublicKey other : privates.keySet()) {
                if (!other.equals(recipient)) {
                    assertFalse(r.macValid(macKey(other)), r + " is also valid for another peer");
                }
            }
        }
    }

    private static long sessionOf(NoisePublicKey key) {
        return 0x5e55_0000L + (key.toBytes()[0] & 0xff);
    }

    /** The timestamp of {@code peer}'s latest REGISTER. */
    private long last(NoisePublicKey peer) {
        return timestamps.get(peer);
    }

    /** The REGISTERED to {@code to} that answers {@code self}'s latest REGISTER, of {@code session}. */
    private Reply registeredReply(InetSocketAddress to, NoisePublicKey self, long session) {
        Registered registered = new Registered(session, last(self), 20, to);
        return new Reply(to, registered, registered.encode(null).remaining());
    }

    /**
     * The PEER_INFO to {@code self} at {@code to} (in {@code session}) that answers its latest
     * REGISTER and tells it of {@code about}'s latest REGISTER, of {@code aboutSession}.
     */
    private Reply peerInfoReply(InetSocketAddress to, NoisePublicKey self, long session, NoisePublicKey about,
                                long aboutSession, InetSocketAddress observed, List<InetSocketAddress> candidates) {
        PeerInfo info = new PeerInfo(session, last(self), about, aboutSession, last(about), observed, candidates);
        return new Reply(to, info, info.encode(null).remaining());
    }

    private static List<Reply> peerInfos(List<Reply> replies) {
        return replies.stream().filter(r -> r.message() instanceof PeerInfo).toList();
    }

    private static boolean onlyAChallengeTo(List<Reply> replies, InetSocketAddress to) {
        return replies.size() == 1 && replies.get(0).message() instanceof Challenge && replies.get(0).to().equals(to);
    }

    private long drops(ServerDrop drop) {
        return server.drops().getOrDefault(drop, 0L);
    }

    private void useConfig(RendezvousConfig newConfig) {
        config = newConfig;
        server = new Rendezvous(config, SERVER_KEY, WireSamples.seededRandom(1));
    }

    private byte[] leave(NoisePublicKey self, long session, byte[] macKey) {
        return WireSamples.bytes(new Leave(self, session, nextTimestamp(self)).encode(macKey));
    }

    // ---------------------------------------------------------------- registration and pairing

    @Test
    void aLoneRegistrationIsAcknowledgedWithTheObservedEndpointAndTheRefreshInterval() {
        List<Reply> replies = register(0, A_NAT, A, B, 77L, A_LAN);

        assertEquals(List.of(registeredReply(A_NAT, A, 77L)), replies);
        assertEquals(1, server.registrations());
        assertEquals(0, server.pairings());
        assertEquals(0, server.droppedTotal());
    }

    @Test
    void twoPeersThatWantEachOtherAreEachToldWhereTheOtherIs() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        List<Reply> replies = register(0.3, B_NAT, B, A, 2L, B_LAN);

        assertEquals(List.of(
                registeredReply(B_NAT, B, 2L),
                peerInfoReply(B_NAT, B, 2L, A, 1L, A_NAT, A_LAN),
                peerInfoReply(A_NAT, A, 1L, B, 2L, B_NAT, B_LAN)), replies);
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
    void pairingIsByKeysNotByAddresses() {
        register(0, A_NAT, A, B);
        // C registers from the very address and port B will use, wanting A: it is not B
        List<Reply> asC = register(1, B_NAT, C, A);
        assertEquals(List.of(registeredReply(B_NAT, C, sessionOf(C))), asC);
        assertEquals(0, server.pairings());

        List<Reply> replies = register(2, B_NAT, B, A);
        assertEquals(B, ((PeerInfo) peerInfos(replies).get(1).message()).peer(), "A is told about B, by key");
        assertEquals(1, server.pairings());
    }

    @Test
    void aRegistrationNamingItselfIsRefusedAndCountedWithOrWithoutACookie() {
        assertEquals(List.of(), send(0, A_NAT, registerBytes(A, A, 1L, List.of(), null, null)),
                "not even a CHALLENGE");
        byte[] cookie = cookie(0, A_NAT, A);
        assertEquals(List.of(), send(0, A_NAT, registerBytes(A, A, 1L, List.of(), cookie, macKey(A))));

        assertEquals(0, server.registrations());
        assertEquals(2, drops(ServerDrop.SELF_PAIRING));
    }

    @Test
    void reRegistrationFromANewPortTellsBothSidesAtOnce() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        register(0.1, B_NAT, B, A, 2L, B_LAN);

        List<Reply> replies = register(0.2, A_NAT_NEW_PORT, A, B, 1L, A_LAN);

        assertEquals(List.of(
                registeredReply(A_NAT_NEW_PORT, A, 1L),
                peerInfoReply(A_NAT_NEW_PORT, A, 1L, B, 2L, B_NAT, B_LAN),
                peerInfoReply(B_NAT, B, 2L, A, 1L, A_NAT_NEW_PORT, A_LAN)), replies);
    }

    @Test
    void reRegistrationWithANewSessionTellsBothSidesAtOnce() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        register(0.1, B_NAT, B, A, 2L, B_LAN);

        List<Reply> replies = register(0.2, A_NAT, A, B, 11L, A_LAN);

        assertEquals(List.of(
                registeredReply(A_NAT, A, 11L),
                peerInfoReply(A_NAT, A, 11L, B, 2L, B_NAT, B_LAN),
                peerInfoReply(B_NAT, B, 2L, A, 11L, A_NAT, A_LAN)), replies);
    }

    @Test
    void anUnchangedRefreshRepeatsPeerInfoAtMostOncePerMinInterval() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        register(0.1, B_NAT, B, A, 2L, B_LAN);

        List<Reply> soon = register(0.5, A_NAT, A, B, 1L, A_LAN);
        assertEquals(List.of(registeredReply(A_NAT, A, 1L)), soon, "the same news within a second is not repeated");
        assertEquals(2, peerInfos(register(1.1, A_NAT, A, B, 1L, A_LAN)).size(), "a second later it is");
    }

    @Test
    void changedCandidatesAreSentToThePartnerAtOnce() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        register(0.1, B_NAT, B, A, 2L, B_LAN);

        List<Reply> replies = register(0.2, A_NAT, A, B, 1L, List.of());

        assertTrue(replies.contains(peerInfoReply(B_NAT, B, 2L, A, 1L, A_NAT, List.of())), replies.toString());
    }

    @Test
    void aRegisteredPeerRefreshesWithTheCookieItHoldsWithoutANewChallenge() {
        byte[] cookie = cookie(0, A_NAT, A);
        List<Reply> first = send(0, A_NAT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A)));
        assertEquals(List.of(registeredReply(A_NAT, A, 1L)), first);
        List<Reply> refresh = send(20, A_NAT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A)));
        assertEquals(List.of(registeredReply(A_NAT, A, 1L)), refresh);
        assertEquals(1, server.challenges());
    }

    // ---------------------------------------------------------------- challenge and cookie

    @Test
    void aRegisterWithoutACookieGetsOnlyAChallengeAndRegistersNothing() {
        List<Reply> replies = send(0, A_NAT, registerBytes(A, B, 1L, A_LAN, null, null));

        assertTrue(onlyAChallengeTo(replies, A_NAT), replies.toString());
        assertEquals(new Challenge(server.publicKey(), ((Challenge) replies.get(0).message()).cookie(), new byte[16]),
                replies.get(0).message(), "it echoes the REGISTER's nonce (all zero here)");
        assertEquals(68, replies.get(0).size());
        assertEquals(0, server.registrations());
        assertEquals(1, server.challenges());
        assertEquals(0, server.droppedTotal(), "a CHALLENGE is an answer, not a drop");
    }

    @Test
    void aRegisterWithAWrongCookieGetsOnlyAChallenge() {
        byte[] cookie = cookie(0, A_NAT, A);
        cookie[15] ^= 1;

        List<Reply> replies = send(0, A_NAT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A)));

        assertTrue(onlyAChallengeTo(replies, A_NAT), replies.toString());
        assertEquals(0, server.registrations());
    }

    @Test
    void theCookieIsBoundToTheAddressThePortAndTheKey() {
        byte[] cookie = cookie(0, A_NAT, A);

        assertTrue(onlyAChallengeTo(send(0, A_NAT_NEW_PORT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A))),
                A_NAT_NEW_PORT), "another port");
        assertTrue(onlyAChallengeTo(send(0, endpoint("198.51.100.3", 40001),
                registerBytes(A, B, 1L, A_LAN, cookie, macKey(A))), endpoint("198.51.100.3", 40001)),
                "another address");
        assertTrue(onlyAChallengeTo(send(0, A_NAT, registerBytes(C, B, 1L, A_LAN, cookie, macKey(C))), A_NAT),
                "another key");
        assertEquals(0, server.registrations());
        assertNotEquals(Arrays.toString(cookie), Arrays.toString(cookie(0, A_NAT_NEW_PORT, A)));
        assertNotEquals(Arrays.toString(cookie), Arrays.toString(cookie(0, A_NAT, C)));
        assertArrayEquals(cookie, cookie(1, A_NAT, A), "the same address and key get the same cookie");
    }

    @Test
    void aCookieIsAcceptedUnderTheCurrentAndThePreviousSecretAndRefusedAfterTwoRotations() {
        byte[] cookie = cookie(0, A_NAT, A); // the first secret is made now
        assertEquals(1, send(119, A_NAT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A))).size(),
                "current secret: REGISTERED");
        assertEquals(1, send(121, A_NAT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A))).size(),
                "rotated once at 121 s: the previous secret still counts");
        assertEquals(1, send(239, A_NAT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A))).size(),
                "still the previous secret at 239 s");

        List<Reply> replies = send(241, A_NAT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A)));

        assertTrue(onlyAChallengeTo(replies, A_NAT), "rotated twice: " + replies);
        byte[] fresh = ((Challenge) replies.get(0).message()).cookie();
        List<Reply> withFresh = send(241, A_NAT, registerBytes(A, B, 1L, A_LAN, fresh, macKey(A)));
        assertEquals(List.of(registeredReply(A_NAT, A, 1L)), withFresh, "the new cookie works");
    }

    @Test
    void aCookieOlderThanFourMinutesIsRefusedEvenIfTheServerWasIdleMeanwhile() {
        byte[] cookie = cookie(0, A_NAT, A);

        List<Reply> replies = send(300, A_NAT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A)));

        assertTrue(onlyAChallengeTo(replies, A_NAT), "a five-minute-old cookie: " + replies);
        assertEquals(0, server.registrations());
    }

    @Test
    void aCookieCannotBeComputedWithoutTheServersSecret() {
        // the cookie construction with a guessable secret (all zero, or the zero-filled previous secret of a
        // fresh server) must not be accepted: the cookie proves the sender receives at its address
        for (byte[] guess : List.of(new byte[32], WireSamples.sequence(0, 32))) {
            byte[] port = {(byte) (A_NAT.getPort() >>> 8), (byte) A_NAT.getPort()};
            byte[] forged = Blake2s.mac(16, guess, A_NAT.getAddress().getAddress(), port, A.toBytes());
            List<Reply> replies = send(0, A_NAT, registerBytes(A, B, 1L, A_LAN, forged, macKey(A)));
            assertTrue(onlyAChallengeTo(replies, A_NAT), "a cookie under a guessed secret: " + replies);
        }
        assertEquals(0, server.registrations());
    }

    // ---------------------------------------------------------------- authentication

    @Test
    void aRegisterMacedWithAnotherKeyIsBadMacAndRegistersNothingEvenWithAValidCookie() {
        register(0, B_NAT, B, A, 2L, B_LAN); // B waits for A: a registration as A would send B a PEER_INFO
        byte[] cookie = cookie(1, ATTACKER, A); // the attacker can get a cookie for its own address

        for (byte[] wrongKey : List.of(macKey(X), ControlKeys.peerServer(X_KEY, A), new byte[32])) {
            List<Reply> replies = send(1, ATTACKER, registerBytes(A, B, 1L, List.of(), cookie, wrongKey));
            assertTrue(onlyAChallengeTo(replies, ATTACKER), "only a CHALLENGE, to the attacker: " + replies);
        }
        List<Reply> unsealed = send(1, ATTACKER, registerBytes(A, B, 1L, List.of(), cookie, null));
        assertTrue(onlyAChallengeTo(unsealed, ATTACKER), unsealed.toString());

        assertEquals(4, drops(ServerDrop.BAD_MAC));
        assertEquals(1, server.registrations(), "only B");
        assertEquals(0, server.pairings());
        List<Reply> refresh = register(2, B_NAT, B, A, 2L, B_LAN);
        assertEquals(List.of(registeredReply(B_NAT, B, 2L)), refresh, "B hears of no partner");
    }

    @Test
    void aForgedRegisterForARegisteredKeyDoesNotMoveIt() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        register(0, B_NAT, B, A, 2L, B_LAN);
        long acceptedA = last(A);
        byte[] cookie = cookie(1, ATTACKER, A);

        List<Reply> replies = send(1, ATTACKER, registerBytes(A, B, 1L, List.of(), cookie, macKey(X)));

        assertTrue(onlyAChallengeTo(replies, ATTACKER), replies.toString());
        assertEquals(1, drops(ServerDrop.BAD_MAC));
        List<Reply> refresh = register(3, B_NAT, B, A, 2L, B_LAN);
        PeerInfo info = new PeerInfo(2L, last(B), A, 1L, acceptedA, A_NAT, A_LAN);
        assertEquals(new Reply(B_NAT, info, info.encode(null).remaining()), refresh.get(1),
                "A is still where it registered");
    }

    @Test
    void aCapturedRegisterReplayedFromAnotherAddressGetsOnlyAChallenge() {
        register(0, B_NAT, B, A, 2L, B_LAN);
        byte[] cookie = cookie(0, A_NAT, A);
        byte[] captured = registerBytes(A, B, 1L, A_LAN, cookie, macKey(A));
        assertEquals(3, send(0, A_NAT, captured).size(), "the original: REGISTERED and two PEER_INFOs");
        long challenges = server.challenges();

        for (InetSocketAddress elsewhere : List.of(ATTACKER, A_NAT_NEW_PORT)) {
            List<Reply> replies = send(1, elsewhere, captured);
            assertTrue(onlyAChallengeTo(replies, elsewhere), "replayed from " + elsewhere + ": " + replies);
        }

        assertEquals(challenges + 2, server.challenges());
        assertEquals(2, server.registrations());
        Reply toB = register(2, B_NAT, B, A, 2L, B_LAN).get(1);
        assertEquals(peerInfoReply(B_NAT, B, 2L, A, 1L, A_NAT, A_LAN), toB, "A's registration is unchanged");
    }

    @Test
    void aCapturedRegisterReplayedFromTheSameAddressIsReplayed() {
        register(0, B_NAT, B, A, 2L, B_LAN);
        byte[] cookie = cookie(0, A_NAT, A);
        byte[] first = registerBytes(A, B, 1L, A_LAN, cookie, macKey(A));
        byte[] second = registerBytes(A, B, 1L, List.of(), cookie, macKey(A));
        send(0, A_NAT, first);
        send(0.5, A_NAT, second);

        assertEquals(List.of(), send(1, A_NAT, second), "the same timestamp again");
        assertEquals(List.of(), send(1, A_NAT, first), "an older timestamp, with other candidates");

        assertEquals(2, drops(ServerDrop.REPLAYED));
        Reply toB = register(2, B_NAT, B, A, 2L, B_LAN).get(1);
        assertEquals(peerInfoReply(B_NAT, B, 2L, A, 1L, A_NAT, List.of()), toB, "the newer registration stands");
    }

    @Test
    void aNewSessionStillNeedsANewerTimestamp() {
        byte[] cookie = cookie(0, A_NAT, A);
        long ts = nextTimestamp(A);
        send(0, A_NAT, WireSamples.bytes(new Register(A, B, 1L, ts, cookie, A_LAN).encode(macKey(A))));

        assertEquals(List.of(), send(1, A_NAT, WireSamples.bytes(new Register(A, B, 2L, ts, cookie, A_LAN)
                .encode(macKey(A)))));
        assertEquals(1, drops(ServerDrop.REPLAYED));
        List<Reply> newer = send(1, A_NAT, WireSamples.bytes(new Register(A, B, 2L, ts + 1, cookie, A_LAN)
                .encode(macKey(A))));
        assertEquals(List.of(new Reply(A_NAT, new Registered(2L, ts + 1, 20, A_NAT), newer.get(0).size())), newer);
    }

    @Test
    void theDiffieHellmanForNewKeysIsRateLimitedPerSourceAddress() {
        InetSocketAddress flooder = endpoint("203.0.113.99", 1000);
        InetSocketAddress flooderOtherPort = endpoint("203.0.113.99", 1001);
        int registered = 0;
        for (int i = 0; i < 8; i++) {
            NoisePrivateKey k = privateKey(0x80 + i);
            privates.put(k.publicKey(), k);
            InetSocketAddress from = i % 2 == 0 ? flooder : flooderOtherPort;
            List<Reply> replies = register(0, from, k.publicKey(), NOBODY, 1L, List.of());
            registered += replies.isEmpty() ? 0 : 1;
        }
        assertEquals(5, registered, "a burst of five new keys per address, then none");
        assertEquals(3, drops(ServerDrop.RATE_LIMITED));
        assertEquals(5, server.registrations());

        NoisePublicKey first = privateKey(0x80).publicKey();
        assertEquals(1, register(0, flooder, first, NOBODY, 1L, List.of()).size(),
                "a known key needs no Diffie-Hellman: not limited");
        assertEquals(1, register(0, A_NAT, A, B).size(), "another address is not limited");
        NoisePrivateKey late = privateKey(0x90);
        privates.put(late.publicKey(), late);
        assertEquals(1, register(0.05, flooder, late.publicKey(), NOBODY, 1L, List.of()).size(),
                "50 ms later the address has earned one more");
        assertEquals(3, drops(ServerDrop.RATE_LIMITED));
    }

    @Test
    void aForgedRegisterForANewKeyAlsoCostsTheFloodersBudget() {
        InetSocketAddress flooder = endpoint("203.0.113.99", 1000);
        for (int i = 0; i < 5; i++) {
            byte[] cookie = cookie(0, flooder, A);
            assertTrue(onlyAChallengeTo(send(0, flooder, registerBytes(A, B, 1L, List.of(), cookie, macKey(X))),
                    flooder));
        }
        assertEquals(5, drops(ServerDrop.BAD_MAC));
        byte[] cookie = cookie(0, flooder, A);

        assertEquals(List.of(), send(0, flooder, registerBytes(A, B, 1L, List.of(), cookie, macKey(X))),
                "no Diffie-Hellman, no CHALLENGE once the budget is spent");
        assertEquals(1, drops(ServerDrop.RATE_LIMITED));
    }

    @Test
    void aLowOrderKeyIsBadKey() {
        NoisePublicKey zero = NoisePublicKey.fromBytes(new byte[32]);
        byte[] cookie = cookie(0, ATTACKER, zero);

        assertEquals(List.of(), send(0, ATTACKER, registerBytes(zero, A, 1L, List.of(), cookie, new byte[32])));

        assertEquals(1, drops(ServerDrop.BAD_KEY));
        assertEquals(0, server.registrations());
    }

    @Test
    void afterARestartWithANewKeyPeersLearnItFromTheChallenge() {
        byte[] oldCookie = cookie(0, A_NAT, A);
        byte[] oldMacKey = macKey(A);
        send(0, A_NAT, registerBytes(A, B, 1L, A_LAN, oldCookie, oldMacKey));
        NoisePublicKey oldServerKey = server.publicKey();

        server = new Rendezvous(config, privateKey(0x5f), WireSamples.seededRandom(2)); // restarted
        assertNotEquals(oldServerKey, server.publicKey());

        List<Reply> refresh = send(20, A_NAT, registerBytes(A, B, 1L, A_LAN, oldCookie, oldMacKey));
        assertTrue(onlyAChallengeTo(refresh, A_NAT), refresh.toString());
        Challenge challenge = (Challenge) refresh.get(0).message();
        assertEquals(server.publicKey(), challenge.server(), "the CHALLENGE names the new key");

        List<Reply> oldMac = send(20, A_NAT, registerBytes(A, B, 1L, A_LAN, challenge.cookie(), oldMacKey));
        assertTrue(onlyAChallengeTo(oldMac, A_NAT), "a valid cookie but the old key's MAC: " + oldMac);
        assertEquals(server.publicKey(), ((Challenge) oldMac.get(0).message()).server());
        assertEquals(1, drops(ServerDrop.BAD_MAC));

        List<Reply> replies = send(20, A_NAT, registerBytes(A, B, 1L, A_LAN, challenge.cookie(),
                ControlKeys.peerServer(A_KEY, challenge.server())));
        assertEquals(List.of(registeredReply(A_NAT, A, 1L)), replies);
        assertTrue(replies.get(0).macValid(ControlKeys.peerServer(A_KEY, challenge.server())));
        assertFalse(replies.get(0).macValid(oldMacKey));
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
        assertEquals(57 + 256, toSender);
        assertTrue(toSender <= Register.LENGTH, "even all replies to the sender together are smaller");
    }

    @Test
    void aChallengeEchoesTheNonceOfTheRegisterItAnswers() {
        byte[] nonce = WireSamples.sequence(0x40, 16);
        List<Reply> first = send(0, A_NAT, WireSamples.bytes(new Register(A, B, 1L, nextTimestamp(A), null, A_LAN,
                nonce).encode(null)));
        byte[] cookie = ((Challenge) first.get(0).message()).cookie();
        byte[] other = WireSamples.sequence(0x80, 16);
        List<Reply> badMac = send(0, A_NAT, WireSamples.bytes(new Register(A, B, 1L, nextTimestamp(A), cookie, A_LAN,
                other).encode(macKey(X))));

        assertArrayEquals(nonce, ((Challenge) first.get(0).message()).nonce());
        assertArrayEquals(other, ((Challenge) badMac.get(0).message()).nonce(), "also when it answers a bad MAC");
    }

    @Test
    void peerInfoToThePartnerAnswersThePartnersLatestRegister() {
        register(0, A_NAT, A, B, 1L, A_LAN);
        register(5, A_NAT, A, B, 1L, A_LAN); // A's refresh: its latest REGISTER
        long latestOfA = last(A);
        List<Reply> replies = register(6, B_NAT, B, A, 2L, B_LAN);

        PeerInfo toA = (PeerInfo) replies.stream().filter(r -> r.to().equals(A_NAT)).findFirst().orElseThrow()
                .message();
        PeerInfo toB = (PeerInfo) replies.stream().filter(r -> r.to().equals(B_NAT) && r.message() instanceof PeerInfo)
                .findFirst().orElseThrow().message();
        assertEquals(List.of(1L, latestOfA, last(B)), List.of(toA.session(), toA.timestamp(), toA.peerTimestamp()));
        assertEquals(List.of(2L, last(B), latestOfA), List.of(toB.session(), toB.timestamp(), toB.peerTimestamp()));
    }

    @Test
    void aChallengeIsSmallerThanTheRegisterThatTriggersIt() {
        List<Reply> replies = send(0, A_NAT, registerBytes(A, B, 1L, WireSamples.candidates(8), null, null));
        assertEquals(1, replies.size());
        assertEquals(68, replies.get(0).size());
        assertTrue(replies.get(0).size() < Register.LENGTH);
    }

    @Test
    void twoKeysRegisteredFromOneAddressCannotBeUsedToAmplifyTowardIt() {
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

        assertEquals(3, replies.size());
        for (Reply r : replies) {
            assertTrue(r.to().equals(B_NAT) || r.to().equals(A_NAT), r.toString());
        }
    }

    // ---------------------------------------------------------------- drops

    @Test
    void truncatedDatagramsAreDroppedAsTruncated() {
        byte[] register = registerBytes(A, B, 1L, List.of(), null, null);
        assertEquals(List.of(), send(0, A_NAT, Arrays.copyOf(register, 319)));
        assertEquals(List.of(), send(0, A_NAT, new byte[0]));
        assertEquals(List.of(), send(0, A_NAT, new byte[] {0x50, 1, 0}));
        assertEquals(3, drops(ServerDrop.TRUNCATED));
        assertEquals(0, server.registrations());
        assertEquals(0, server.challenges(), "a malformed REGISTER is not even challenged");
    }

    @Test
    void malformedDatagramsAreDroppedUnderTheirReason() {
        byte[] register = registerBytes(A, B, 1L, List.of(), null, null);
        byte[] badVersion = register.clone();
        badVersion[1] = 2;
        byte[] badField = register.clone();
        badField[200] = 1;
        byte[] oversized = Arrays.copyOf(register, 321);
        byte[] unknown = register.clone();
        unknown[0] = 0x7f;

        for (byte[] datagram : List.of(badVersion, badField, oversized, unknown)) {
            assertEquals(List.of(), send(0, A_NAT, datagram));
        }
        assertEquals(Map.of(ServerDrop.BAD_VERSION, 1L, ServerDrop.BAD_FIELD, 1L, ServerDrop.OVERSIZED, 1L,
                ServerDrop.UNKNOWN_TYPE, 1L), server.drops());
        assertEquals(4, server.droppedTotal());
        assertEquals(0, server.registrations());
        assertEquals(0, server.challenges());
    }

    @Test
    void messagesPeersSendToEachOtherOrThatOnlyTheServerSendsAreDroppedAsNotForServer() {
        byte[] initiation = new byte[148];
        initiation[0] = 1;
        byte[] response = new byte[92];
        response[0] = 2;
        byte[] cookieReply = new byte[64];
        cookieReply[0] = 3;
        byte[] keepalive = new byte[32];
        keepalive[0] = 4;
        byte[] transport = new byte[32 + 96];
        transport[0] = 4;
        byte[] mac = macKey(A);
        List<byte[]> peerOnly = List.of(
                WireSamples.bytes(new Punch(A, B, 1L, 2L, 3L, false).encode(mac)),
                WireSamples.bytes(new Registered(1L, 2L, 20, A_NAT).encode(mac)),
                WireSamples.bytes(new PeerInfo(1L, 2L, B, 2L, 3L, B_NAT, B_LAN).encode(mac)),
                WireSamples.bytes(new Challenge(server.publicKey(), new byte[16], new byte[16]).encode(null)),
                initiation, response, cookieReply, keepalive, transport);

        for (byte[] datagram : peerOnly) {
            assertEquals(List.of(), send(0, A_NAT, datagram));
        }
        assertEquals(Map.of(ServerDrop.NOT_FOR_SERVER, (long) peerOnly.size()), server.drops());
    }

    @Test
    void theOldPlainDataTypeIsNowUnknownAndAnyWireGuardTypeIsNotForTheServer() {
        send(0, A_NAT, new byte[] {0x55, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}); // a PLAIN_DATA keepalive of old
        send(0, A_NAT, new byte[] {4, 0, 0, 0, 1}); // a WireGuard type, whatever its length
        send(0, A_NAT, new byte[] {4, 0, 0});        // but shorter than any header

        assertEquals(Map.of(ServerDrop.UNKNOWN_TYPE, 1L, ServerDrop.NOT_FOR_SERVER, 1L, ServerDrop.TRUNCATED, 1L),
                server.drops());
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

        List<Reply> replies = register(61, B_NAT, B, A);
        assertEquals(List.of(registeredReply(B_NAT, B, sessionOf(B))), replies);
    }

    // ---------------------------------------------------------------- cap

    @Test
    void beyondTheCapOfPairedRegistrationsNewKeysAreDroppedButKnownKeysRefreshAndExpirySlotsAreReused() {
        useConfig(config.withMaxRegistrations(4));
        pairAB(0);
        register(0, C_NAT, C, D);
        register(0, endpoint("192.0.2.77", 4000), D, C);

        assertEquals(List.of(), register(1, ATTACKER, X, A), "a fifth key is refused without a reply");
        assertEquals(1, drops(ServerDrop.TABLE_FULL), "every registration is paired: none can be evicted");
        assertEquals(4, server.registrations());

        Reply bRefresh = register(30, B_NAT, B, A, 2L, B_LAN).get(0);
        assertEquals(registeredReply(B_NAT, B, 2L), bRefresh, "B can refresh");
        register(30, C_NAT, C, D);
        register(30, endpoint("192.0.2.77", 4000), D, C);
        assertEquals(1, drops(ServerDrop.TABLE_FULL));

        List<Reply> replies = register(60, ATTACKER, X, A);
        assertEquals(registeredReply(ATTACKER, X, sessionOf(X)), replies.get(0), "A expired: its slot is free");
        assertEquals(4, server.registrations());
        assertEquals(1, drops(ServerDrop.TABLE_FULL));
        assertEquals(0, server.evictions());
    }

    @Test
    void theConfigRefusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> config.withMaxRegistrations(0));
        assertThrows(IllegalArgumentException.class, () -> new RendezvousConfig(Duration.ofSeconds(20),
                Duration.ofSeconds(20), 10, Duration.ofSeconds(1), 0, RendezvousConfig.RELAY_MIN_BURST));
        assertThrows(IllegalArgumentException.class, () -> config.withRelay(-1, 1 << 20));
        assertThrows(IllegalArgumentException.class, () -> config.withRelay(1 << 20,
                RendezvousConfig.RELAY_MIN_BURST - 1), "a burst that could never pass one full-size frame");
        assertThrows(IllegalArgumentException.class, () -> config.withRelay(1L << 40, 1 << 20));
        assertFalse(config.withRelay(0, RendezvousConfig.RELAY_MIN_BURST).relayOn(), "0 is off, not an error");
    }

    // ---------------------------------------------------------------- leave

    @Test
    void leaveFromTheRegisteredEndpointAndSessionRemovesTheRegistration() {
        register(0, A_NAT, A, B, 5L, A_LAN);

        assertEquals(List.of(), send(1, A_NAT, leave(A, 5L, macKey(A))), "LEAVE is never answered");

        assertEquals(0, server.registrations());
        assertEquals(0, server.droppedTotal());
    }

    @Test
    void aLeaveFromAnotherAddressRemovesNothingEvenWithAValidMac() {
        register(0, A_NAT, A, B, 5L, A_LAN);

        assertEquals(List.of(), send(1, ATTACKER, leave(A, 5L, macKey(A))));
        assertEquals(List.of(), send(1, A_NAT_NEW_PORT, leave(A, 5L, macKey(A))));

        assertEquals(1, server.registrations());
        assertEquals(2, drops(ServerDrop.STALE_LEAVE));
        assertEquals(2, peerInfos(register(2, B_NAT, B, A)).size(), "A is still paired");
    }

    @Test
    void aLeaveWithoutTheRightMacRemovesNothing() {
        register(0, A_NAT, A, B, 5L, A_LAN);

        send(1, A_NAT, leave(A, 5L, macKey(X)));
        send(1, A_NAT, leave(A, 5L, ControlKeys.peerPeer(A_KEY, B)));
        send(1, A_NAT, leave(A, 5L, null));

        assertEquals(1, server.registrations());
        assertEquals(3, drops(ServerDrop.STALE_LEAVE));
    }

    @Test
    void aLeaveForAnOldSessionOrAnotherKeyRemovesNothing() {
        register(0, A_NAT, A, B, 5L, A_LAN);
        register(1, A_NAT, A, B, 6L, A_LAN);

        send(2, A_NAT, leave(A, 5L, macKey(A)));
        send(2, A_NAT, leave(B, 6L, macKey(B)));

        assertEquals(1, server.registrations());
        assertEquals(2, drops(ServerDrop.STALE_LEAVE));
    }

    @Test
    void aLeaveNotNewerThanTheLastRegisterRemovesNothing() {
        byte[] cookie = cookie(0, A_NAT, A);
        byte[] oldLeave = leave(A, 5L, macKey(A)); // made before the REGISTER below, as a captured old LEAVE
        send(0, A_NAT, registerBytes(A, B, 5L, A_LAN, cookie, macKey(A)));

        assertEquals(List.of(), send(1, A_NAT, oldLeave));

        assertEquals(1, server.registrations());
        assertEquals(1, drops(ServerDrop.STALE_LEAVE));
    }

    @Test
    void aLeaveIsGoodOnceAndAReplayOfItFindsNothing() {
        register(0, A_NAT, A, B, 5L, A_LAN);
        byte[] leave = leave(A, 5L, macKey(A));
        send(1, A_NAT, leave);
        register(2, A_NAT, A, B, 5L, A_LAN); // A comes back in the same session

        send(3, A_NAT, leave);

        assertEquals(1, server.registrations());
        assertEquals(1, drops(ServerDrop.STALE_LEAVE));
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

    @ParameterizedTest
    @ValueSource(longs = {Long.MAX_VALUE - 30 * SECOND, Long.MIN_VALUE, -1, 0})
    void cookiesRotateOnScheduleAcrossTheLongOverflow(long origin) {
        t0 = origin;
        byte[] cookie = cookie(0, A_NAT, A);
        assertEquals(1, send(110, A_NAT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A))).size());
        assertTrue(onlyAChallengeTo(send(250, A_NAT, registerBytes(A, B, 1L, A_LAN, cookie, macKey(A))), A_NAT),
                "more than four minutes old");
    }
    @Test
    void aCapturedRegisterCannotBringBackAPeerThatLeftWhileItsCookieIsStillGood() {
        byte[] cookie = cookie(0, A_NAT, A);
        byte[] captured = registerBytes(A, B, 5L, List.of(), cookie, macKey(A));
        send(0, A_NAT, captured);
        assertEquals(1, server.registrations());
        send(1, A_NAT, leave(A, 5L, macKey(A)));
        assertEquals(0, server.registrations(), "a left");

        List<Reply> replies = send(30, A_NAT, captured); // replayed from a's own address, cookie still valid

        assertEquals(List.of(), replies);
        assertEquals(0, server.registrations(), "the departed session stays gone");
        assertEquals(1, drops(ServerDrop.REPLAYED));
    }

    @Test
    void aCapturedRegisterCannotBringBackAnExpiredRegistrationEither() {
        byte[] cookie = cookie(0, A_NAT, A);
        byte[] captured = registerBytes(A, B, 5L, List.of(), cookie, macKey(A));
        send(0, A_NAT, captured);
        server.expire(at(61));
        assertEquals(0, server.registrations(), "expired");

        send(62, A_NAT, captured);

        assertEquals(0, server.registrations());
        assertEquals(1, drops(ServerDrop.REPLAYED));
        // a genuine new registration, with a newer timestamp, is welcome
        register(63, A_NAT, A, B);
        assertEquals(1, server.registrations());
    }

    // ---------------------------------------------------------------- relay

    /** A RELAY frame around a WireGuard transport message with {@code n} bytes of ciphertext (to the server). */
    private static byte[] relayedTransport(int n) {
        byte[] transport = WireSamples.sequence(0x40, 32 + n);
        transport[0] = 4;
        transport[1] = 0;
        transport[2] = 0;
        transport[3] = 0;
        return frame(transport);
    }

    private static byte[] frame(byte[] payload) {
        return WireSamples.bytes(Relay.wrap(WireSamples.wrap(payload)));
    }

    /** A and B registered and wanting each other. */
    private void pairAB(double seconds) {
        register(seconds, A_NAT, A, B, 1L, A_LAN);
        register(seconds, B_NAT, B, A, 2L, B_LAN);
    }

    @Test
    void aRelayFrameGoesUnchangedToThePartnerBothWays() {
        pairAB(0);
        byte[] handshake = new byte[148];
        handshake[0] = 1;
        byte[] initiation = frame(handshake);
        byte[] punch = frame(WireSamples.bytes(new Punch(B, A, 2L, 1L, 9L, false)
                .encode(ControlKeys.peerPeer(B_KEY, A))));
        byte[] data = relayedTransport(1420);

        assertEquals(List.of(Reply.relayed(B_NAT, initiation)), send(1, A_NAT, initiation));
        assertEquals(List.of(Reply.relayed(A_NAT, punch)), send(1, B_NAT, punch));
        assertEquals(List.of(Reply.relayed(B_NAT, data)), send(1, A_NAT, data), "the whole frame, header included");

        assertEquals(3, server.relayedPackets());
        assertEquals(initiation.length + punch.length + data.length, server.relayedBytes());
        assertEquals(0, server.droppedTotal());
    }

    @Test
    void aRelayFromAnEndpointNoRegistrationWasSeenAtIsUnknownSender() {
        pairAB(0);
        byte[] data = relayedTransport(64);

        assertEquals(List.of(), send(1, ATTACKER, data));
        assertEquals(List.of(), send(1, A_NAT_NEW_PORT, data), "A's address, another port");

        assertEquals(Map.of(ServerDrop.RELAY_UNKNOWN_SENDER, 2L), server.drops());
        assertEquals(0, server.relayedPackets());
    }

    @Test
    void aRelayIsForwardedOnlyWhenThePartnerIsRegisteredAndWantsTheSenderBack() {
        byte[] data = relayedTransport(64);
        register(0, A_NAT, A, B);
        assertEquals(List.of(), send(1, A_NAT, data), "B is not registered");
        register(2, B_NAT, B, C);
        assertEquals(List.of(), send(3, A_NAT, data), "B wants C, not A");
        assertEquals(List.of(), send(3, B_NAT, data), "C is not registered");
        assertEquals(3, drops(ServerDrop.RELAY_UNPAIRED));

        register(4, C_NAT, C, B);
        assertEquals(List.of(Reply.relayed(C_NAT, data)), send(5, B_NAT, data), "B and C are a pair");
        assertEquals(List.of(), send(5, A_NAT, data), "A still is not");
        assertEquals(4, drops(ServerDrop.RELAY_UNPAIRED));
    }

    /** Sends a frame from A's endpoint and one from B's at {@code seconds}; neither may be relayed. */
    private void assertNeitherRelayed(double seconds, String why) {
        assertEquals(List.of(), send(seconds, A_NAT, relayedTransport(64)), "from A: " + why);
        assertEquals(List.of(), send(seconds, B_NAT, relayedTransport(64)), "to A: " + why);
    }

    @Test
    void afterALeaveNeitherSideIsRelayed() {
        pairAB(0);
        send(1, A_NAT, leave(A, 1L, macKey(A)));

        assertNeitherRelayed(2, "A left");

        assertEquals(Map.of(ServerDrop.RELAY_UNKNOWN_SENDER, 1L, ServerDrop.RELAY_UNPAIRED, 1L), server.drops());
    }

    @Test
    void anExpiredRegistrationIsNotRelayedEvenBeforeExpireRuns() {
        pairAB(0);
        register(40, B_NAT, B, A, 2L, B_LAN);
        byte[] data = relayedTransport(64);
        assertEquals(1, send(59.9, A_NAT, data).size(), "A lives until 60 s");

        assertNeitherRelayed(60, "A is past its TTL, before expire() runs");
        server.expire(at(60));
        assertNeitherRelayed(61, "A expired");

        assertEquals(Map.of(ServerDrop.RELAY_UNKNOWN_SENDER, 2L, ServerDrop.RELAY_UNPAIRED, 2L), server.drops());
    }

    @Test
    void afterAReRegistrationFromANewAddressOnlyTheNewOneRelaysAndIsRelayedTo() {
        pairAB(0);
        register(1, A_NAT_NEW_PORT, A, B, 1L, A_LAN);
        byte[] data = relayedTransport(64);

        assertEquals(List.of(), send(2, A_NAT, data), "the old address is nobody now");
        assertEquals(List.of(Reply.relayed(B_NAT, data)), send(2, A_NAT_NEW_PORT, data));
        assertEquals(List.of(Reply.relayed(A_NAT_NEW_PORT, data)), send(2, B_NAT, data));
        assertEquals(Map.of(ServerDrop.RELAY_UNKNOWN_SENDER, 1L), server.drops());
    }

    @Test
    void whenTwoRegistrationsClaimOneEndpointTheLatestOwnsIt() {
        pairAB(0);
        register(1, A_NAT, C, D); // C registers from A's endpoint
        register(1, C_NAT, D, C);
        byte[] data = relayedTransport(64);

        assertEquals(List.of(Reply.relayed(C_NAT, data)), send(2, A_NAT, data), "relayed as C, to D");
        send(3, A_NAT, leave(C, sessionOf(C), macKey(C)));
        assertEquals(List.of(), send(4, A_NAT, data), "C left: A does not own the endpoint until it refreshes");
        register(5, A_NAT, A, B, 1L, A_LAN);
        assertEquals(List.of(Reply.relayed(B_NAT, data)), send(6, A_NAT, data));
    }

    @ParameterizedTest
    @ValueSource(longs = {Long.MAX_VALUE - 5 * SECOND, Long.MIN_VALUE, -1, 0})
    void eachSenderGetsItsBurstAtOnceThenExactlyItsRate(long origin) {
        t0 = origin;
        useConfig(config.withRelay(10_000, 9_216));
        pairAB(0);
        byte[] data = relayedTransport(964); // a frame of 1000 bytes
        int relayed = 0;
        for (int i = 0; i < 12; i++) {
            relayed += send(1, A_NAT, data).size();
        }
        assertEquals(9, relayed, "9,000 of the 9,216 bytes at once");
        assertEquals(3, drops(ServerDrop.RELAY_RATE_LIMITED));
        assertEquals(1, send(1, B_NAT, data).size(), "B has a budget of its own");

        // two frames offered every 100 ms for 10 s; 1,000 bytes earned every 100 ms
        relayed = 0;
        for (int step = 1; step <= 100; step++) {
            long now = at(1) + step * SECOND / 10;
            relayed += sendAt(now, A_NAT, data).size() + sendAt(now, A_NAT, data).size();
        }
        assertEquals(100, relayed, "10,000 bytes a second, to the frame");
        assertEquals(3 + 100, drops(ServerDrop.RELAY_RATE_LIMITED));
        assertEquals(9 + 1 + 100, server.relayedPackets());
        assertEquals(110 * 1000, server.relayedBytes());
    }

    @Test
    void tinyFramesCostSixtyFourBytesEach() {
        useConfig(config.withRelay(10_000, 9_216));
        pairAB(0);
        byte[] keepalive = relayedTransport(0); // 36 bytes

        int relayed = 0;
        while (!send(1, A_NAT, keepalive).isEmpty()) {
            relayed++;
        }
        assertEquals(9_216 / 64, relayed);
        assertEquals(relayed * 36L, server.relayedBytes(), "counted as sent, 36 bytes each");
        assertEquals(1, drops(ServerDrop.RELAY_RATE_LIMITED));
    }

    @Test
    void aRefreshDoesNotRefillTheBudget() {
        useConfig(config.withRelay(10_000, 9_216));
        pairAB(0);
        byte[] data = relayedTransport(9_216 - 36);
        assertEquals(1, send(1, A_NAT, data).size());

        register(1, A_NAT, A, B, 1L, A_LAN);
        register(1, A_NAT_NEW_PORT, A, B, 1L, A_LAN);
        assertEquals(List.of(), send(1, A_NAT_NEW_PORT, data));
        assertEquals(1, drops(ServerDrop.RELAY_RATE_LIMITED));
    }

    @Test
    void withTheRelayOffNothingIsRelayedAndPairingStillWorks() {
        useConfig(config.withRelay(0, RendezvousConfig.RELAY_MIN_BURST));
        register(0, A_NAT, A, B);
        assertEquals(2, peerInfos(register(0, B_NAT, B, A)).size());

        assertEquals(List.of(), send(1, A_NAT, relayedTransport(64)));
        assertEquals(List.of(), send(1, ATTACKER, new byte[] {0x57, 1, 0, 0}), "off before anything else");

        assertEquals(Map.of(ServerDrop.RELAY_OFF, 2L), server.drops());
        assertEquals(0, server.relayedPackets());
    }

    @Test
    void malformedRelayFramesAreDroppedUnderTheirMalformedReason() {
        pairAB(0);
        byte[] register = registerBytes(A, B, 1L, List.of(), null, null);
        byte[] badVersion = relayedTransport(64);
        badVersion[1] = 2;
        byte[] reserved = relayedTransport(64);
        reserved[3] = 1;
        byte[] unknownInner = relayedTransport(64);
        unknownInner[4] = 0x7f;
        Map<byte[], ServerDrop> cases = new java.util.LinkedHashMap<>();
        cases.put(new byte[] {0x57, 1, 0, 0}, ServerDrop.TRUNCATED);        // no payload
        cases.put(new byte[] {0x57, 1, 0, 0, 4, 0, 0}, ServerDrop.TRUNCATED); // a payload shorter than a type
        cases.put(frame(register), ServerDrop.BAD_FIELD);                    // a REGISTER inside
        cases.put(frame(frame(new byte[36])), ServerDrop.BAD_FIELD);         // a RELAY inside
        cases.put(badVersion, ServerDrop.BAD_VERSION);
        cases.put(reserved, ServerDrop.BAD_FIELD);
        cases.put(unknownInner, ServerDrop.UNKNOWN_TYPE);

        cases.forEach((datagram, reason) -> {
            long before = drops(reason);
            assertEquals(List.of(), send(1, A_NAT, datagram));
            assertEquals(before + 1, drops(reason), reason.toString());
        });
        assertEquals(cases.size(), server.droppedTotal());
        assertEquals(0, server.relayedPackets());
    }

    @Test
    void theStartOfRelayingIsLoggedOnceNotPerFrame() {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(io.pinhole.config.LogNames.RENDEZVOUS);
        List<String> lines = new java.util.ArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                String text = java.text.MessageFormat.format(record.getMessage(), record.getParameters());
                if (text.startsWith("relaying")) {
                    lines.add(text);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Level savedLevel = log.getLevel();
        log.setLevel(java.util.logging.Level.INFO); // the tests' logging configuration shows warnings only
        log.addHandler(handler);
        try {
            pairAB(0);
            byte[] data = relayedTransport(64);
            for (double t = 1; t < 59; t += 0.5) {
                send(t, A_NAT, data);
            }
            assertEquals(List.of("relaying for \"" + A.toString().substring(0, 8) + "\" at 198.51.100.2:40001 -> \""
                    + B.toString().substring(0, 8) + "\" at 192.0.2.2:40002"), lines, "once for a minute of relaying");
            send(59, B_NAT, data);
            assertEquals(2, lines.size(), "the other direction is its own news");

            pairAB(59.5); // refreshes, as peers do: not news
            pairAB(110);
            send(118.4, A_NAT, data);
            assertEquals(2, lines.size(), "59.9 s without relaying: the same episode");
            pairAB(160);
            send(178.4, A_NAT, data);
            assertEquals(3, lines.size(), "60 s without relaying: news again");
            register(179, B_NAT_NEW_PORT, B, A, 2L, B_LAN);
            send(179, A_NAT, data);
            send(179, A_NAT, data);
            assertEquals(4, lines.size(), "toward B's new endpoint: news, once");
            assertTrue(lines.get(3).endsWith(" at 192.0.2.2:40998"), lines.get(3));
        } finally {
            log.removeHandler(handler);
            log.setLevel(savedLevel);
        }
    }

    @Test
    void noRelayedFrameIsLargerThanItsRequestNorSentMoreThanOnce() {
        useConfig(config.withRelay(ByteBucket.MAX, ByteBucket.MAX));
        pairAB(0);
        for (int n : new int[] {0, 1, 15, 16, 1420, 9000, Relay.MAX_PAYLOAD - 32}) {
            byte[] data = relayedTransport(n);
            List<Reply> replies = send(1, A_NAT, data);
            assertEquals(1, replies.size());
            assertEquals(data.length, replies.get(0).size(), "exactly the request's size");
        }
    }

    @Test
    void twoKeysRegisteredFromOneAddressCannotBeUsedToAmplifyARelayTowardIt() {
        InetSocketAddress victim = endpoint("192.0.2.99", 53);
        register(0, victim, A, B);
        register(0, victim, B, A);
        byte[] data = relayedTransport(1420);

        List<Reply> replies = send(1, victim, data);

        assertEquals(List.of(Reply.relayed(victim, data)), replies, "one datagram of the same size, no more");
    }

    // ---------------------------------------------------------------- admission: quotas, budgets, eviction

    /** An attacker's key, never among {@link #privates} (so replies are not checked against every key). */
    private static NoisePrivateKey attackerKey(int i) {
        return NoisePrivateKey.generate(WireSamples.seededRandom(0xa77a_c000L + i));
    }

    /** The whole registration of {@code key} (CHALLENGE, then the authenticated REGISTER); its replies. */
    private List<Reply> attackerRegister(double seconds, InetSocketAddress from, NoisePrivateKey key,
                                         NoisePublicKey wanted) {
        byte[] cookie = cookie(seconds, from, key.publicKey());
        return send(seconds, from, registerBytes(key.publicKey(), wanted, 1L, List.of(), cookie,
                ControlKeys.peerServer(key, server.publicKey())));
    }

    @Test
    void oneSourceFillingTheTableStopsAtItsQuotaPerIpv4AddressAndPerIpv6Slash64() {
        useConfig(config.withMaxRegistrations(1000).withBudgets(8, 1000, RendezvousConfig.DEFAULT_RELAY_TOTAL));
        int registered = 0;
        for (int i = 0; i < 12; i++) {
            registered += attackerRegister(i * 0.1, endpoint("203.0.113.99", 1000 + i), attackerKey(i), NOBODY).size();
        }
        assertEquals(8, registered, "one IPv4 address, any port: 8 registrations");
        assertEquals(4, drops(ServerDrop.SOURCE_FULL));
        assertEquals(0, drops(ServerDrop.BAD_MAC) + drops(ServerDrop.RATE_LIMITED), "refused before any work");

        registered = 0;
        for (int i = 0; i < 12; i++) {
            registered += attackerRegister(2 + i * 0.1, endpoint("2001:db8:66:1::" + Integer.toHexString(i + 1), 1000),
                    attackerKey(100 + i), NOBODY).size();
        }
        assertEquals(8, registered, "twelve addresses of one IPv6 /64 are one source");
        assertEquals(8, drops(ServerDrop.SOURCE_FULL));
        assertEquals(16, server.registrations());

        assertEquals(1, attackerRegister(4, endpoint("2001:db8:66:2::1", 1000), attackerKey(200), NOBODY).size(),
                "another /64 is another source");
        assertEquals(1, attackerRegister(4, endpoint("203.0.113.98", 1000), attackerKey(201), NOBODY).size(),
                "and so is another IPv4 address");
        List<Reply> aIn = register(4, A_NAT, A, B);
        assertEquals(List.of(registeredReply(A_NAT, A, sessionOf(A))), aIn);
        assertEquals(1, attackerRegister(5, endpoint("203.0.113.99", 1000), attackerKey(0), NOBODY).size(),
                "a registered key of a full source still refreshes");

        send(6, endpoint("203.0.113.99", 1001), leave(attackerKey(1).publicKey(), 1L,
                ControlKeys.peerServer(attackerKey(1), server.publicKey())));
        assertEquals(1, attackerRegister(7, endpoint("203.0.113.99", 2000), attackerKey(50), NOBODY).size(),
                "one left: room for one more");
        assertEquals(8, drops(ServerDrop.SOURCE_FULL));
    }

    @Test
    void aNewPairFromAFreshAddressGetsInWhenTheTableIsFullOfOneAttackersUnpairedRegistrations() {
        useConfig(config.withMaxRegistrations(64).withBudgets(4, 1000, RendezvousConfig.DEFAULT_RELAY_TOTAL));
        for (int i = 0; i < 64; i++) { // 16 addresses, each at its quota
            assertEquals(1, attackerRegister(i * 0.01, endpoint("203.0.113." + (100 + i / 4), 2000 + i),
                    attackerKey(i), NOBODY).size());
        }
        assertEquals(64, server.registrations());

        List<Reply> aIn = register(1, A_NAT, A, B);
        assertEquals(List.of(registeredReply(A_NAT, A, sessionOf(A))), aIn, "A gets in");
        List<Reply> replies = register(1.5, B_NAT, B, A);
        assertEquals(List.of(registeredReply(B_NAT, B, sessionOf(B)),
                peerInfoReply(B_NAT, B, sessionOf(B), A, sessionOf(A), A_NAT, List.of()),
                peerInfoReply(A_NAT, A, sessionOf(A), B, sessionOf(B), B_NAT, List.of())), replies, "B gets in, paired");
        assertEquals(2, server.evictions(), "two of the attacker's unpaired registrations made room");
        assertEquals(64, server.registrations());
        assertFalse(server.isRegistered(attackerKey(0).publicKey()), "the longest unrefreshed went first");
        assertFalse(server.isRegistered(attackerKey(1).publicKey()));

        // the attacker goes on with new keys from new addresses: it evicts only its own unpaired registrations
        for (int i = 64; i < 164; i++) {
            assertEquals(1, attackerRegister(2 + (i - 64) * 0.01, endpoint("203.0.113." + (100 + i / 4), 2000 + i),
                    attackerKey(i), NOBODY).size());
        }
        assertEquals(2 + 100, server.evictions());
        assertTrue(server.isRegistered(A) && server.isRegistered(B), "paired registrations are never evicted");
        assertEquals(0, drops(ServerDrop.TABLE_FULL));
        Reply refreshed = register(20, A_NAT, A, B).get(0);
        assertEquals(registeredReply(A_NAT, A, sessionOf(A)), refreshed);
        byte[] data = relayedTransport(64);
        assertEquals(List.of(Reply.relayed(B_NAT, data)), send(21, A_NAT, data), "and their relay works");
    }

    @Test
    void underPressureTheUnpairedRegistrationsOfOverQuotaSourcesGoFirst() {
        useConfig(config.withMaxRegistrations(6).withBudgets(2, 1000, RendezvousConfig.DEFAULT_RELAY_TOTAL));
        register(0, C_NAT, C, D); // a lone peer waiting for its partner: unpaired, and the oldest of all
        InetSocketAddress flooder = endpoint("203.0.113.99", 1);
        InetSocketAddress flooderPort2 = endpoint("203.0.113.99", 2);
        attackerRegister(1, flooder, attackerKey(0), NOBODY);
        attackerRegister(1.1, flooderPort2, attackerKey(1), NOBODY);
        assertEquals(List.of(), attackerRegister(1.2, endpoint("203.0.113.99", 3), attackerKey(2), NOBODY),
                "at its quota: refused, and over quota from now on");
        assertEquals(1, drops(ServerDrop.SOURCE_FULL));
        attackerRegister(2, endpoint("203.0.113.98", 1), attackerKey(3), NOBODY);
        attackerRegister(2, endpoint("203.0.113.98", 2), attackerKey(4), NOBODY);
        register(2.5, A_NAT, A, B);
        assertEquals(6, server.registrations());

        assertEquals(2, peerInfos(register(3, B_NAT, B, A)).size(), "B gets in and pairs");
        assertTrue(server.isRegistered(C), "the oldest unpaired registration is kept ...");
        assertFalse(server.isRegistered(attackerKey(0).publicKey()), "... the over-quota source's oldest goes first");
        List<Reply> dIn = register(4, endpoint("192.0.2.77", 4), D, C);
        assertEquals(List.of(registeredReply(endpoint("192.0.2.77", 4), D, sessionOf(D)),
                peerInfoReply(endpoint("192.0.2.77", 4), D, sessionOf(D), C, sessionOf(C), C_NAT, List.of()),
                peerInfoReply(C_NAT, C, sessionOf(C), D, sessionOf(D), endpoint("192.0.2.77", 4), List.of())),
                dIn, "C's partner comes and finds it");
        assertFalse(server.isRegistered(attackerKey(1).publicKey()), "evicted for D: the over-quota source again");
        assertEquals(2, server.evictions());

        assertEquals(1, attackerRegister(5, endpoint("203.0.113.97", 1), attackerKey(5), NOBODY).size(),
                "a new source still gets in");
        assertFalse(server.isRegistered(attackerKey(3).publicKey()), "no source over quota now: the oldest unpaired went");
        assertTrue(server.isRegistered(attackerKey(4).publicKey()));
        assertEquals(3, server.evictions());
        assertEquals(0, drops(ServerDrop.TABLE_FULL));
    }

    @Test
    void theWaitingPartnerOfANewcomerIsNeverEvictedForItAndAFullTableOfPairsRefusesBeforeAnyDiffieHellman() {
        useConfig(config.withMaxRegistrations(4));
        InetSocketAddress dNat = endpoint("192.0.2.77", 4);
        pairAB(0);
        register(1, C_NAT, C, D); // waits for D: the oldest unpaired registration
        attackerRegister(2, ATTACKER, attackerKey(0), NOBODY);

        List<Reply> dIn = register(3, dNat, D, C);
        assertEquals(List.of(registeredReply(dNat, D, sessionOf(D)),
                peerInfoReply(dNat, D, sessionOf(D), C, sessionOf(C), C_NAT, List.of()),
                peerInfoReply(C_NAT, C, sessionOf(C), D, sessionOf(D), dNat, List.of())), dIn,
                "D finds C: the attacker's registration made room, not C");
        assertFalse(server.isRegistered(attackerKey(0).publicKey()));
        assertEquals(1, server.evictions());

        NoisePublicKey late = attackerKey(1).publicKey();
        byte[] cookie = cookie(4, ATTACKER, late);
        assertEquals(List.of(), send(4, ATTACKER, registerBytes(late, NOBODY, 1L, List.of(), cookie, WireSamples.MAC_KEY)),
                "every registration is paired: refused, not even challenged for its wrong MAC");
        assertEquals(1, drops(ServerDrop.TABLE_FULL));
        assertEquals(0, drops(ServerDrop.BAD_MAC), "no Diffie-Hellman was done for it");
        assertEquals(4, server.registrations());
    }

    @Test
    void aDiffieHellmanFloodFromManyAddressesIsBoundedByTheGlobalBudgetWhileRefreshesAndANewcomerAreAnswered() {
        useConfig(config.withBudgets(256, 200, RendezvousConfig.DEFAULT_RELAY_TOTAL));
        pairAB(0);
        // 100 attacker addresses, each with a key and its cookie, sending REGISTERs under a wrong MAC key: each
        // one let through costs a Diffie-Hellman (and ends as BAD_MAC with a CHALLENGE), none ever registers
        List<InetSocketAddress> flooders = new java.util.ArrayList<>();
        List<byte[]> forged = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            InetSocketAddress from = endpoint("198.18.0." + (i + 1), 5000);
            NoisePublicKey key = WireSamples.key(i);
            byte[] cookie = cookie(0.5, from, key);
            flooders.add(from);
            forged.add(registerBytes(key, NOBODY, 1L, List.of(), cookie, WireSamples.MAC_KEY));
        }
        long challengesBefore = server.challenges();
        boolean newcomerIn = false;
        for (int step = 0; step < 1000; step++) { // 10 s in steps of 10 ms: 10,000 REGISTERs a second
            double t = 1 + step * 0.01;
            for (int i = 0; i < flooders.size(); i++) {
                List<Reply> replies = send(t, flooders.get(i), forged.get(i));
                assertTrue(replies.isEmpty() || onlyAChallengeTo(replies, flooders.get(i)), replies.toString());
            }
            if (step % 100 == 50) {
                List<Reply> aRefresh = register(t, A_NAT, A, B, 1L, A_LAN).stream()
                        .filter(r -> r.message() instanceof Registered).toList();
                assertEquals(List.of(registeredReply(A_NAT, A, 1L)), aRefresh, "A's refresh is answered");
                Reply bRefresh = register(t, B_NAT, B, A, 2L, B_LAN).get(0);
                assertEquals(registeredReply(B_NAT, B, 2L), bRefresh, "B's refresh is answered");
            }
            if (step == 537) {
                List<Reply> cIn = register(t, C_NAT, C, D);
                assertEquals(List.of(registeredReply(C_NAT, C, sessionOf(C))), cIn,
                        "a newcomer from a fresh address gets in at its first try");
                newcomerIn = true;
            }
        }
        assertTrue(newcomerIn);
        long diffieHellmans = drops(ServerDrop.BAD_MAC) + 1; // the forged ones let through, and C's
        assertTrue(diffieHellmans <= 200 * 10 + 200, diffieHellmans + " Diffie-Hellmans in 10 s at 200 a second");
        assertTrue(diffieHellmans >= 200 * 10 / 2, "the budget is used, not starved: " + diffieHellmans);
        assertEquals(drops(ServerDrop.BAD_MAC), server.challenges() - challengesBefore - 20 - 1,
                "each forged one let through is challenged (and the refreshes and C asked for cookies)");
        assertTrue(drops(ServerDrop.DH_SHARE) + drops(ServerDrop.DH_BUDGET) > 50_000, server.drops().toString());
        assertTrue(drops(ServerDrop.RATE_LIMITED) > 0, "each address is over its own rate too");
    }

    @Test
    void theGlobalDiffieHellmanBudgetIsSpentOnlyWhenMoreSourcesAskThanItsRate() {
        useConfig(config.withBudgets(256, 4, RendezvousConfig.DEFAULT_RELAY_TOTAL));
        int challenged = 0;
        for (int i = 0; i < 6; i++) { // six sources, one forged REGISTER each, at one instant
            InetSocketAddress from = endpoint("198.18.1." + (i + 1), 5000);
            NoisePublicKey key = WireSamples.key(i);
            byte[] cookie = cookie(0, from, key);
            challenged += send(0, from, registerBytes(key, NOBODY, 1L, List.of(), cookie, WireSamples.MAC_KEY)).size();
        }
        assertEquals(4, challenged, "two taken freely, then under pressure one each while it lasts");
        assertEquals(4, drops(ServerDrop.BAD_MAC));
        assertEquals(2, drops(ServerDrop.DH_BUDGET), "then it is spent");
        assertEquals(0, drops(ServerDrop.DH_SHARE), "nobody asked more than its share");

        // a quarter second later the budget holds one again: not for a source that had its share in this second
        InetSocketAddress first = endpoint("198.18.1.1", 5000);
        byte[] cookie = cookie(0.25, first, WireSamples.key(0));
        assertEquals(List.of(), send(0.25, first, registerBytes(WireSamples.key(0), NOBODY, 1L, List.of(), cookie,
                WireSamples.MAC_KEY)));
        assertEquals(1, drops(ServerDrop.DH_SHARE));
        InetSocketAddress fresh = endpoint("198.18.1.7", 5000);
        cookie = cookie(0.25, fresh, WireSamples.key(7));
        assertTrue(onlyAChallengeTo(send(0.25, fresh, registerBytes(WireSamples.key(7), NOBODY, 1L, List.of(), cookie,
                WireSamples.MAC_KEY)), fresh), "but for a source that had none");
        assertEquals(5, drops(ServerDrop.BAD_MAC));
    }

    @Test
    void theTotalRelayBudgetBoundsAllPairsAndOneSourceCannotTakeItAll() {
        useConfig(config.withRelay(1 << 20, 64 << 10).withBudgets(256, 1000, 100_000));
        pairAB(0);
        InetSocketAddress dNat = endpoint("192.0.2.77", 4);
        register(0, C_NAT, C, D);
        register(0, dNat, D, C);
        byte[] frame = relayedTransport(964); // 1,000 bytes
        long heavy = 0;
        int light = 0;
        int lightSent = 0;
        for (int ms = 0; ms < 10_000; ms++) { // A offers 1,000,000 bytes a second (within its own budget), C 10,000
            long now = at(1) + ms * 1_000_000L;
            heavy += sendAt(now, A_NAT, frame).size();
            if (ms % 100 == 0) {
                lightSent++;
                light += sendAt(now, C_NAT, frame).size();
            }
        }
        long burst = config.relayTotalBurstBytes();
        assertEquals(64 << 10, burst, "a quarter second of the rate, at least one registration's burst");
        assertTrue(server.relayedBytes() <= 100_000L * 10 + burst, server.relayedBytes() + " bytes in 10 s");
        assertEquals(lightSent, light, "the light source gets every frame through");
        assertTrue(heavy * 1000 >= (100_000L * 10 - light * 1000L) * 8 / 10,
                "the heavy one gets most of the rest: " + heavy + " frames");
        assertTrue(drops(ServerDrop.RELAY_SHARE) > 0, server.drops().toString());
        assertEquals(0, drops(ServerDrop.RELAY_RATE_LIMITED), "A's own budget was never the limit");
    }

    @Test
    void refusalsAreLoggedOneLinePerReasonPerMinuteWithACount() {
        useConfig(config.withBudgets(1, 1000, RendezvousConfig.DEFAULT_RELAY_TOTAL));
        List<String> lines = captureLog(() -> {
            InetSocketAddress flooder = endpoint("203.0.113.99", 1);
            NoisePrivateKey held = attackerKey(0);
            attackerRegister(0, flooder, held, NOBODY);
            NoisePublicKey another = attackerKey(1).publicKey();
            byte[] refused = registerBytes(another, NOBODY, 1L, List.of(), cookie(0, flooder, another), null);
            int sent = 0;
            for (int tenth = 10; tenth < 1800; tenth++) {
                double t = tenth / 10.0;
                if (tenth % 200 == 0) {
                    attackerRegister(t, flooder, held, NOBODY); // keeps the source at its quota
                }
                if (tenth < 500 || tenth > 620 && tenth < 1000) {
                    send(t, flooder, refused);
                    sent++;
                }
                if (tenth % 10 == 0) {
                    server.expire(at(t));
                }
            }
            assertEquals(sent, drops(ServerDrop.SOURCE_FULL));
        });
        List<String> refusals = lines.stream().filter(l -> l.contains("REGISTER")).toList();
        assertEquals(3, refusals.size(), "the first, and one a minute after it: " + refusals);
        assertTrue(refusals.get(0).startsWith("dropped a REGISTER from 203.0.113.99:1: a new key, and its source"),
                refusals.get(0));
        assertTrue(refusals.get(1).matches("dropped 4[0-9]{2} REGISTERs of new keys from sources at their quota"
                + " \\(--max-per-source\\) in the last 60 s"), refusals.get(1));
        assertTrue(refusals.get(2).matches("dropped [0-9]{3} REGISTERs of new keys .* in the last 60 s"),
                refusals.get(2));
    }

    @Test
    void eventLinesAreThrottledToSixtyAMinutePerKindThenCounted() {
        useConfig(config.withBudgets(1000, 1000, RendezvousConfig.DEFAULT_RELAY_TOTAL));
        List<String> lines = captureLog(() -> {
            for (int i = 0; i < 100; i++) {
                attackerRegister(i * 0.1, endpoint("203.0.113.99", 1000 + i), attackerKey(i), NOBODY);
            }
            server.expire(at(10));
            server.expire(at(61));
        });
        assertEquals(60, lines.stream().filter(l -> l.startsWith("registered \"")).count(), "60 one by one");
        assertTrue(lines.contains("registered 40 more peers in the last 60 s (not logged one by one)"), lines.toString());
    }

    /** The server's log lines (formatted) while {@code run} runs, at INFO and above. */
    private static List<String> captureLog(Runnable run) {
        java.util.logging.Logger log = java.util.logging.Logger.getLogger(io.pinhole.config.LogNames.RENDEZVOUS);
        List<String> lines = new java.util.ArrayList<>();
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                lines.add(record.getParameters() == null ? record.getMessage()
                        : java.text.MessageFormat.format(record.getMessage(), record.getParameters()));
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Level savedLevel = log.getLevel();
        log.setLevel(java.util.logging.Level.INFO);
        log.addHandler(handler);
        try {
            run.run();
        } finally {
            log.removeHandler(handler);
            log.setLevel(savedLevel);
        }
        return lines;
    }
}
