package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.ATTACKER;
import static io.pinhole.peer.PeerHarness.COOKIE;
import static io.pinhole.peer.PeerHarness.OTHER_SERVER;
import static io.pinhole.peer.PeerHarness.OTHER_SERVER_KEY;
import static io.pinhole.peer.PeerHarness.OUR_LAN;
import static io.pinhole.peer.PeerHarness.OUR_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER;
import static io.pinhole.peer.PeerHarness.PEER_KEY;
import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER_ROAMED;
import static io.pinhole.peer.PeerHarness.PEER_SESSION;
import static io.pinhole.peer.PeerHarness.RENDEZVOUS;
import static io.pinhole.peer.PeerHarness.SECOND;
import static io.pinhole.peer.PeerHarness.SELF;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.SERVER;
import static io.pinhole.peer.PeerHarness.SERVER_KEY;
import static io.pinhole.peer.PeerHarness.SESSION;
import static io.pinhole.peer.PeerHarness.STRANGER;
import static io.pinhole.peer.PeerHarness.STRANGER_KEY;
import static io.pinhole.peer.PeerHarness.WALL_START;
import static io.pinhole.peer.PeerHarness.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.peer.PeerHarness.Sent;
import io.pinhole.rendezvous.Rendezvous;
import io.pinhole.rendezvous.RendezvousConfig;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.WireSamples;
import io.pinhole.wireguard.SessionDrop;
import io.pinhole.wireguard.SessionTimers;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** PeerMachineTest: the client state machine driven directly, in virtual nanoseconds. */
class PeerMachineTest {
    private PeerHarness h = new PeerHarness();

    private static List<Long> millisOf(PeerHarness h, List<Sent> sent) {
        return sent.stream().map(s -> h.elapsedMillis(s.at())).toList();
    }

    /**
     * REGISTER times (ms) in the first 100 s without an answer: backoff 1, 2, 4 s, then every 8 s
     * (the cap before a path exists; a connected peer backs off to 30 s).
     */
    private static final List<Long> UNPAIRED_BACKOFF_100_S = List.of(0L, 1_000L, 3_000L, 7_000L, 15_000L, 23_000L,
            31_000L, 39_000L, 47_000L, 55_000L, 63_000L, 71_000L, 79_000L, 87_000L, 95_000L);

    private static List<Sent> punchesTo(PeerHarness h, InetSocketAddress to) {
        return h.sentTo(to).stream().filter(s -> s.type() == MessageType.PUNCH).toList();
    }

    /** WireGuard messages to {@code to} (not the PUNCH path probes that go every 5 s as well). */
    private static List<Sent> wireGuardTo(PeerHarness h, InetSocketAddress to) {
        return h.sentTo(to).stream().filter(s -> s.type() != MessageType.PUNCH).toList();
    }

    /** WireGuard transport messages (data and keepalives) to {@code to}. */
    private static List<Sent> transportTo(PeerHarness h, InetSocketAddress to) {
        return h.sentTo(to).stream().filter(s -> s.type() == MessageType.WG_TRANSPORT_DATA).toList();
    }

    private static List<Register> registers(PeerHarness h) {
        return h.sentOfType(MessageType.REGISTER).stream().map(s -> (Register) s.message()).toList();
    }

    private static long wallMicros(long plusNanos) {
        return WALL_START.getEpochSecond() * 1_000_000L + plusNanos / 1_000;
    }

    /** A packet with a recognisable payload (never all zero). */
    private static byte[] marked(int id, int n) {
        byte[] p = packet(n);
        for (int i = 20; i < p.length; i++) {
            p[i] = (byte) (id * 7 + i);
        }
        return p;
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    // ---------------------------------------------------------------- registration

    @Test
    void startSendsOneRegisterWithoutCookieOrMac() {
        h.start();

        List<Sent> sent = h.takeSent();
        assertEquals(1, sent.size());
        assertEquals(RENDEZVOUS, sent.get(0).to());
        byte[] nonce = ((Register) sent.get(0).message()).nonce();
        assertEquals(new Register(SELF, PEER, SESSION, wallMicros(0), null, OUR_LAN, nonce), sent.get(0).message());
        assertFalse(Arrays.equals(new byte[16], nonce), "a random nonce");
        assertEquals(Register.LENGTH, sent.get(0).bytes().length);
        assertArrayEquals(new byte[16], Arrays.copyOfRange(sent.get(0).bytes(), 304, 320), "no MAC yet");
        assertEquals(PeerState.REGISTERING, h.machine.state());
    }

    @Test
    void aChallengeIsAnsweredAtOnceWithItsCookieANewerTimestampAndTheServerMac() {
        h.start();
        long first = ((Register) h.takeSent().get(0).message()).timestamp();

        h.challenge();

        List<Sent> sent = h.takeSent();
        assertEquals(1, sent.size());
        assertEquals(RENDEZVOUS, sent.get(0).to());
        Register register = (Register) sent.get(0).message();
        assertArrayEquals(COOKIE, register.cookie());
        assertTrue(register.timestamp() > first, "strictly increasing timestamps");
        assertEquals(new Register(SELF, PEER, SESSION, register.timestamp(), COOKIE, OUR_LAN, register.nonce()), register);
        assertTrue(sent.get(0).macValid(ControlKeys.serverPeer(SERVER_KEY, SELF)), "MACed for the server's key");
        assertFalse(sent.get(0).macValid(ControlKeys.serverPeer(OTHER_SERVER_KEY, SELF)));
    }

    @Test
    void theRegistrationHandshakeWithARealRendezvousEndsRegistered() {
        Rendezvous server = new Rendezvous(RendezvousConfig.defaults(), SERVER_KEY, WireSamples.seededRandom(5));
        h.server = server;
        h.start();

        List<Sent> registers = h.sentOfType(MessageType.REGISTER);
        assertEquals(2, registers.size(), "REGISTER, CHALLENGE, REGISTER with cookie and MAC, REGISTERED");
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertEquals(OUR_PUBLIC, h.machine.publicEndpoint());
        assertEquals(1, server.registrations());
        assertEquals(1, server.challenges());
        assertEquals(0, server.droppedTotal());
        assertEquals(java.util.Map.of(), h.machine.drops());
    }

    @Test
    void aChallengeIsAnsweredOncePerRegister() {
        h.start();
        h.challenge();
        h.takeSent();

        h.challenge();
        h.challenge(OTHER_SERVER);

        assertEquals(List.of(), h.sent(), "the answer was already sent");
        assertEquals(1, h.drops(PeerDrop.UNSOLICITED_CHALLENGE));
        assertEquals(1, h.drops(PeerDrop.SERVER_KEY_MISMATCH), "another key is refused before that (trust on first use)");
        h.advance(Duration.ofSeconds(1)); // the retry is a new REGISTER: its CHALLENGE is answered
        h.challenge();
        assertEquals(2, h.sentOfType(MessageType.REGISTER).size());
    }

    @Test
    void aServerThatOnlyChallengesGetsEachRegisterAnsweredOnceOnTheUsualBackoff() {
        h.challengeEveryRegister = true;
        h.start();
        h.advance(Duration.ofSeconds(100));

        List<Long> twice = new ArrayList<>();
        for (long t : UNPAIRED_BACKOFF_100_S) {
            twice.add(t);
            twice.add(t);
        }
        assertEquals(twice, millisOf(h, h.sentOfType(MessageType.REGISTER)));
        assertEquals(PeerState.REGISTERING, h.machine.state());
        assertEquals(UNPAIRED_BACKOFF_100_S.size(), h.drops(PeerDrop.UNSOLICITED_CHALLENGE),
                "the CHALLENGE to each answer is not answered");
    }

    @Test
    void aChallengeWhileNoRegisterWaitsOrFromAnotherAddressIsIgnored() {
        h.start();
        h.challenge();
        h.registered();
        h.takeSent();

        h.challenge();
        h.receive(ATTACKER, new Challenge(STRANGER, COOKIE, h.lastRegister().nonce()), null);

        assertEquals(List.of(), h.sent());
        assertEquals(1, h.drops(PeerDrop.UNSOLICITED_CHALLENGE));
        assertEquals(1, h.drops(PeerDrop.NOT_FROM_RENDEZVOUS));
    }

    @Test
    void withAPinnedServerKeyAChallengeNamingAnotherKeyIsDropped() {
        h = new PeerHarness(0, PeerHarness.config(SELF_KEY, SERVER, SessionTimers.defaults()));
        h.start();
        h.takeSent();

        h.challenge(OTHER_SERVER);
        assertEquals(List.of(), h.sent(), "not answered");
        assertEquals(1, h.drops(PeerDrop.SERVER_KEY_MISMATCH));
        h.receive(RENDEZVOUS, PeerHarness.registeredFor(h.lastRegister()),
                ControlKeys.serverPeer(OTHER_SERVER_KEY, SELF));
        assertEquals(1, h.drops(PeerDrop.BAD_MAC), "nor does the impostor's REGISTERED count");
        assertEquals(PeerState.REGISTERING, h.machine.state());

        h.challenge(SERVER);
        Register answer = (Register) h.sent().get(0).message();
        assertArrayEquals(COOKIE, answer.cookie());
        assertTrue(h.sent().get(0).macValid(h.serverMac));
        h.registered();
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
    }

    @ParameterizedTest
    @ValueSource(longs = {0, Long.MAX_VALUE - 40 * SECOND, Long.MIN_VALUE, -1})
    void anUnansweredRegisterIsRetriedAfter1_2_4_8_8_8SecondsUntilPaired(long origin) {
        h = new PeerHarness(origin).start();
        h.advance(Duration.ofSeconds(100));

        assertEquals(UNPAIRED_BACKOFF_100_S, millisOf(h, h.sentOfType(MessageType.REGISTER)));
        assertEquals(h.sent().size(), h.sentTo(RENDEZVOUS).size(), "nothing else is sent");
        assertEquals(PeerState.REGISTERING, h.machine.state());
        List<Long> timestamps = registers(h).stream().map(Register::timestamp).toList();
        for (int i = 1; i < timestamps.size(); i++) {
            assertTrue(timestamps.get(i) > timestamps.get(i - 1));
        }
    }

    @Test
    void registeredMovesToWaitingForThePeerAndStopsTheRetries() {
        h.start();
        h.challenge();
        h.registered();

        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertEquals(OUR_PUBLIC, h.machine.publicEndpoint());
        h.advance(Duration.ofMillis(4_950));
        assertEquals(2, h.sentOfType(MessageType.REGISTER).size(), "no retry once answered");
        h.advance(Duration.ofMillis(50));
        assertEquals(List.of(0L, 0L, 5_000L), millisOf(h, h.sentOfType(MessageType.REGISTER)),
                "while waiting for the peer, re-registers every 5 s");
        Register refresh = registers(h).get(2);
        assertArrayEquals(COOKIE, refresh.cookie(), "with the cookie it holds");
        assertTrue(h.sentOfType(MessageType.REGISTER).get(2).macValid(h.serverMac));
    }

    @Test
    void anAnswerResetsTheBackoff() {
        h.start();
        h.advance(Duration.ofSeconds(7)); // REGISTERs at 0, 1, 3, 7 s, unanswered
        h.challenge();                     // at 7 s: answered at once
        h.registered();                    // next refresh at 12 s
        h.advance(Duration.ofSeconds(6));  // the refresh at 12 s goes unanswered: retry 1 s later

        assertEquals(List.of(0L, 1_000L, 3_000L, 7_000L, 7_000L, 12_000L, 13_000L),
                millisOf(h, h.sentOfType(MessageType.REGISTER)));
    }

    @Test
    void registeredFromAnotherAddressIsIgnoredAndCounted() {
        h.start();
        h.challenge();
        h.receive(ATTACKER, new Registered(SESSION, h.lastRegister().timestamp(), 20, ATTACKER), h.serverMac);

        assertEquals(PeerState.REGISTERING, h.machine.state());
        assertNull(h.machine.publicEndpoint());
        assertEquals(1, h.drops(PeerDrop.NOT_FROM_RENDEZVOUS));
        h.advance(Duration.ofSeconds(1));
        assertEquals(3, h.sentOfType(MessageType.REGISTER).size(), "still retrying");
    }

    @Test
    void aForgedRegisteredIsIgnoredAndCounted() {
        h.start();
        h.challenge();
        Registered forged = new Registered(SESSION, h.lastRegister().timestamp(), 20, ATTACKER);
        for (byte[] wrong : List.of(ControlKeys.serverPeer(SERVER_KEY, STRANGER),  // MACed for someone else
                ControlKeys.peerServer(STRANGER_KEY, SERVER),                         // the attacker's own key
                ControlKeys.serverPeer(OTHER_SERVER_KEY, SELF),                      // another server
                h.punchMac)) {
            h.receive(RENDEZVOUS, forged, wrong);
        }
        h.receive(RENDEZVOUS, forged, null);

        assertEquals(5, h.drops(PeerDrop.BAD_MAC));
        assertEquals(PeerState.REGISTERING, h.machine.state());
        assertNull(h.machine.publicEndpoint());
        h.advance(Duration.ofSeconds(1));
        assertEquals(3, h.sentOfType(MessageType.REGISTER).size(), "still retrying");
    }

    @Test
    void aRegisteredBeforeAnyChallengeCannotBeCheckedAndIsBadMac() {
        h.start();
        h.registered();

        assertEquals(1, h.drops(PeerDrop.BAD_MAC));
        assertEquals(PeerState.REGISTERING, h.machine.state());
    }

    @Test
    void registeredForAnotherSessionIsIgnoredAndCounted() {
        h.start();
        h.challenge();
        h.receive(RENDEZVOUS, new Registered(SESSION + 1, h.lastRegister().timestamp(), 20, OUR_PUBLIC), h.serverMac);

        assertEquals(PeerState.REGISTERING, h.machine.state());
        assertNull(h.machine.publicEndpoint());
        assertEquals(1, h.drops(PeerDrop.STALE_REGISTERED));
        h.advance(Duration.ofSeconds(1));
        assertEquals(3, h.sentOfType(MessageType.REGISTER).size(), "still retrying");
    }

    @Test
    void timestampsIncreaseEvenWhenTheWallClockStandsStillOrGoesBack() {
        h.start();
        h.freezeWallClock();
        h.challenge();
        h.advance(Duration.ofSeconds(4));
        h.wallOffsetNanos = -3_600 * SECOND;
        h.advance(Duration.ofSeconds(10));
        h.machine.leave(h.now, h);

        List<Long> stamps = new ArrayList<>(registers(h).stream().map(Register::timestamp).toList());
        stamps.add(((Leave) h.sentTo(RENDEZVOUS).get(h.sentTo(RENDEZVOUS).size() - 1).message()).timestamp());
        assertTrue(stamps.size() >= 5, stamps.toString());
        for (int i = 1; i < stamps.size(); i++) {
            assertTrue(stamps.get(i) > stamps.get(i - 1), "timestamp " + i + " of " + stamps);
        }
    }

    // A restarted rendezvous with a new key is refused, not relearned (trust on first use):
    // PeerMachineServerMessagesTest.anUnpinnedClientRefusesARestartedServersNewKeyForAsLongAsItRunsAndSaysSo.

    @Test
    void withAPinnedKeyARestartedRendezvousWithANewKeyIsNeverTrusted() {
        h = new PeerHarness(0, PeerHarness.config(SELF_KEY, SERVER, SessionTimers.defaults()));
        h.server = new Rendezvous(RendezvousConfig.defaults(), SERVER_KEY, WireSamples.seededRandom(5));
        h.start();
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        Rendezvous impostor = new Rendezvous(RendezvousConfig.defaults(), OTHER_SERVER_KEY,
                WireSamples.seededRandom(6));
        h.server = impostor;

        h.advance(Duration.ofSeconds(60));

        assertEquals(0, impostor.registrations());
        assertTrue(h.drops(PeerDrop.SERVER_KEY_MISMATCH) >= 5, h.machine.drops().toString());
    }

    // ---------------------------------------------------------------- punching

    @Test
    void peerInfoStartsPunchingEveryCandidateEvery200MillisecondsWithJitterAndAuthenticatedProbes() {
        h.start();
        h.challenge();
        h.registered();
        h.takeSent();

        h.peerInfo();
        h.advance(Duration.ofMillis(1_000));

        assertEquals(PeerState.PUNCHING, h.machine.state());
        Set<Long> counters = new HashSet<>();
        for (InetSocketAddress target : List.of(PEER_PUBLIC, PEER_LAN)) {
            List<Sent> punches = punchesTo(h, target);
            List<Long> at = millisOf(h, punches);
            assertEquals(0L, at.get(0), "the first burst at once");
            for (int i = 1; i < at.size(); i++) {
                long gap = at.get(i) - at.get(i - 1);
                assertTrue(gap >= 200 && gap <= 250, "200 ms apart plus up to a quarter of jitter: " + at);
            }
            assertTrue(at.size() >= 4, "bursts keep coming: " + at);
            for (Sent punch : punches) {
                Punch probe = (Punch) punch.message();
                assertEquals(new Punch(SELF, PEER, SESSION, PEER_SESSION, probe.counter(), false), probe);
                assertTrue(punch.macValid(ControlKeys.peerPeer(PEER_KEY, SELF)), "the partner can check it");
                assertTrue(counters.add(probe.counter()), "each probe has a counter of its own, so its ack proves "
                        + "which address answered");
            }
        }
        assertEquals(counters.size(), h.sentOfType(MessageType.PUNCH).size(), "to nobody else");
        assertEquals(List.of(PEER_LAN, PEER_PUBLIC), h.sent().subList(0, 2).stream().map(Sent::to).toList(),
                "the LAN candidates first, then the observed endpoint");
    }

    @Test
    void anAuthenticatedPeerInfoBeforeRegisteredAlsoProvesTheRegistration() {
        h.start();
        h.challenge();
        h.takeSent();
        h.peerInfo();

        assertEquals(PeerState.PUNCHING, h.machine.state());
        h.advance(Duration.ofSeconds(1));
        assertEquals(0, h.sentOfType(MessageType.REGISTER).size(), "no retry: the server has us");
    }

    @Test
    void aForgedPeerInfoIsIgnoredCountedAndNeverChangesThePunchTargets() {
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        h.takeSent();

        PeerInfo forged = h.peerInfoMessage(PEER_SESSION + 1, ATTACKER, List.of(ATTACKER));
        for (byte[] wrong : List.of(ControlKeys.serverPeer(SERVER_KEY, STRANGER),
                ControlKeys.peerServer(STRANGER_KEY, SERVER), ControlKeys.serverPeer(OTHER_SERVER_KEY, SELF),
                h.punchMac)) {
            h.receive(RENDEZVOUS, forged, wrong);
        }
        h.receive(RENDEZVOUS, forged, null);
        h.receive(ATTACKER, forged, h.serverMac); // even a captured, authentic one, from elsewhere
        h.advance(Duration.ofMillis(1_000));

        assertEquals(5, h.drops(PeerDrop.BAD_MAC));
        assertEquals(1, h.drops(PeerDrop.NOT_FROM_RENDEZVOUS));
        assertEquals(Set.of(PEER_PUBLIC, PEER_LAN), Set.copyOf(h.sentOfType(MessageType.PUNCH).stream()
                .map(Sent::to).toList()));
        h.sentOfType(MessageType.PUNCH).forEach(p -> assertEquals(PEER_SESSION, ((Punch) p.message())
                .receiverSession(), "the partner's session is still the authentic one"));
        assertTrue(h.machine.wireGuard().drops().isEmpty());
    }

    @Test
    void aForgedPeerInfoWhileWaitingStartsNothing() {
        h.start();
        h.challenge();
        h.registered();
        h.takeSent();

        h.receive(RENDEZVOUS, h.peerInfoMessage(PEER_SESSION, ATTACKER, List.of()),
                ControlKeys.peerServer(STRANGER_KEY, SERVER));
        h.advance(Duration.ofMillis(500));

        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertEquals(List.of(), h.sentOfType(MessageType.PUNCH));
        assertEquals(1, h.drops(PeerDrop.BAD_MAC));
    }

    @Test
    void peerInfoAboutAnotherKeyIsIgnoredAndCounted() {
        h.start();
        h.challenge();
        h.registered();
        h.takeSent();

        h.receive(RENDEZVOUS, new PeerInfo(SESSION, h.lastRegister().timestamp(), STRANGER, PEER_SESSION, 1L, ATTACKER,
                List.of()), h.serverMac);

        assertEquals(List.of(), h.sent());
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertEquals(1, h.drops(PeerDrop.WRONG_KEY));
    }

    @Test
    void aPunchingRoundWithoutAnswerEndsAfter10SecondsAndAsksTheRendezvousAgain() {
        h.answerRegisters = true;
        h.start();
        h.peerInfo();
        h.advance(Duration.ofMillis(9_950));
        assertEquals(PeerState.PUNCHING, h.machine.state());
        h.takeSent();

        h.advance(Duration.ofMillis(50));

        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertTrue(!h.sent().isEmpty(), "asks the rendezvous again");
        h.sent().forEach(s -> assertEquals(RENDEZVOUS, s.to(), "only REGISTERs, no punch: " + h.sent()));
        h.sent().forEach(s -> assertEquals(MessageType.REGISTER, s.type()));
        h.advance(Duration.ofSeconds(2));
        assertEquals(0, h.sentOfType(MessageType.PUNCH).size(), "punching stopped");
    }

    @Test
    void aProbeFromThePeerIsAckedWithAPunchOfTheSameSizeButOpensNoPath_theAckToOursDoes() {
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        h.takeSent();
        h.wireGuardLinked = false;

        byte[] probe = h.probeFromPeer();
        h.receive(PEER_LAN, probe);

        List<Sent> sent = h.takeSent();
        assertEquals(1, sent.size(), "an ack and nothing else: " + sent);
        assertEquals(PEER_LAN, sent.get(0).to(), "the ack goes back where the probe came from");
        assertEquals(new Punch(SELF, PEER, SESSION, PEER_SESSION, 101, true), sent.get(0).message(),
                "it echoes the counter and names the prober's session");
        assertTrue(sent.get(0).macValid(h.punchMac));
        assertEquals(probe.length, sent.get(0).bytes().length);
        assertEquals(PeerState.PUNCHING, h.machine.state(), "a probe proves nothing: it may be a replay");

        h.advance(Duration.ofMillis(300)); // our own probes go on
        h.receive(PEER_LAN, h.ackFromPeer(h.ourLatestProbe(PEER_LAN)));
        sent = h.takeSent();
        assertEquals(PeerState.CONNECTED, h.machine.state());
        assertEquals(PEER_LAN, h.machine.endpoint());
        assertEquals(MessageType.WG_HANDSHAKE_INITIATION, sent.get(sent.size() - 1).type(),
                "we sort first: we initiate");
        assertEquals(PEER_LAN, sent.get(sent.size() - 1).to());
        assertFalse(h.machine.tunnelReady(), "not before the handshake");
    }

    @Test
    void anAckFromThePeerConnectsAndIsNeverAnswered() {
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        h.advance(Duration.ofMillis(200));
        long latest = h.ourLatestProbe();
        h.takeSent();

        h.receive(PEER_PUBLIC, h.ackFromPeer(latest));
        assertEquals(PeerState.CONNECTED, h.machine.state());
        assertEquals(PEER_PUBLIC, h.machine.endpoint());
        h.receive(PEER_PUBLIC, h.ackFromPeer(latest - 1));

        assertEquals(List.of(), h.sentOfType(MessageType.PUNCH));
        assertTrue(h.machine.tunnelReady(), "and WireGuard came up on the path");
    }

    @Test
    void aProbeBeforeAnyPeerInfoIsWrongSessionAndNotAcked() {
        h.start();
        h.challenge();
        h.registered();
        h.takeSent();

        h.probeFromPeer(PEER_PUBLIC);

        assertEquals(List.of(), h.sent());
        assertEquals(1, h.drops(PeerDrop.WRONG_SESSION));
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
    }

    @Test
    void aPunchFromAnotherSessionOfThePeerIsWrongSession() {
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        h.takeSent();

        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION + 1, SESSION, 500, false), h.punchMac);
        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION - 1, SESSION, 1, true), h.punchMac);

        assertEquals(List.of(), h.sent());
        assertEquals(2, h.drops(PeerDrop.WRONG_SESSION));
        assertEquals(PeerState.PUNCHING, h.machine.state());
    }

    @Test
    void anAckMustNameOurSessionAndARecentCounterOfOurs() {
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        h.advance(Duration.ofSeconds(10)); // the round ends
        h.peerInfo();                      // a new round
        h.advance(Duration.ofSeconds(3));
        List<Long> toPublic = punchesTo(h, PEER_PUBLIC).stream().map(s -> ((Punch) s.message()).counter()).toList();
        long latest = toPublic.get(toPublic.size() - 1);
        long toLan = h.ourLatestProbe(PEER_LAN);

        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION, SESSION + 1, latest, true), h.punchMac);
        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION, SESSION, h.ourLatestProbe() + 1, true),
                h.punchMac);
        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION, SESSION, toLan, true), h.punchMac);
        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION, SESSION, toPublic.get(toPublic.size() - 9), true),
                h.punchMac);
        assertEquals(4, h.drops(PeerDrop.STALE_PUNCH),
                "another session, a probe never sent, one sent to another address, one too old");
        assertEquals(PeerState.PUNCHING, h.machine.state());

        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION, SESSION, toPublic.get(toPublic.size() - 8), true),
                h.punchMac);
        assertEquals(PeerState.CONNECTED, h.machine.state(), "the 8th latest probe to that address is still recent");
    }

    @Test
    void aPunchNamingOtherKeysIsNeitherAckedNorTrusted() {
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        h.takeSent();

        h.receive(ATTACKER, new Punch(STRANGER, SELF, PEER_SESSION, SESSION, 9L, false),
                ControlKeys.peerPeer(STRANGER_KEY, SELF));
        h.receive(ATTACKER, new Punch(PEER, STRANGER, PEER_SESSION, SESSION, 9L, false), h.punchMac);

        assertEquals(List.of(), h.sent());
        assertEquals(2, h.drops(PeerDrop.WRONG_KEY));
        assertEquals(PeerState.PUNCHING, h.machine.state());
    }

    @Test
    void aPunchWithoutThePeersMacIsNeitherAckedNorTrusted() {
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        h.takeSent();

        Punch probe = new Punch(PEER, SELF, PEER_SESSION, SESSION, 500, false);
        for (byte[] wrong : List.of(ControlKeys.peerPeer(STRANGER_KEY, SELF), ControlKeys.peerPeer(PEER_KEY, STRANGER),
                h.serverMac)) {
            h.receive(ATTACKER, probe, wrong);
        }
        h.receive(ATTACKER, probe, null);
        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION, SESSION, 1, true), null);

        assertEquals(List.of(), h.sent());
        assertEquals(5, h.drops(PeerDrop.BAD_MAC));
        assertEquals(PeerState.PUNCHING, h.machine.state());
    }

    @Test
    void probesAreAnsweredOnceEachInAnyOrderAndTheLanPathWinsOnItsAck() {
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        h.wireGuardLinked = false;
        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION, SESSION, 7, false), h.punchMac);
        h.ackFromPeer(PEER_PUBLIC);
        assertEquals(PEER_PUBLIC, h.machine.endpoint());
        h.takeSent();

        // the partner's probe to our LAN address went out first but arrives second
        h.receive(PEER_LAN, new Punch(PEER, SELF, PEER_SESSION, SESSION, 6, false), h.punchMac);
        assertEquals(List.of(PEER_LAN), punchesTo(h, PEER_LAN).stream().map(Sent::to).toList(), "acked");
        assertEquals(PEER_PUBLIC, h.machine.endpoint(), "a probe moves nothing");
        h.advance(Duration.ofMillis(300)); // we keep probing the better LAN candidate for a moment
        h.ackFromPeer(PEER_LAN);
        assertEquals(PEER_LAN, h.machine.endpoint(), "a LAN candidate beats the public endpoint");
        h.takeSent();

        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION, SESSION, 6, false), h.punchMac);
        h.receive(ATTACKER, new Punch(PEER, SELF, PEER_SESSION, SESSION, 7, false), h.punchMac);
        assertEquals(List.of(), punchesTo(h, PEER_PUBLIC), "replays are not acked");
        assertEquals(List.of(), h.sentTo(ATTACKER));
        assertEquals(2, h.drops(PeerDrop.STALE_PUNCH));
        assertEquals(PEER_LAN, h.machine.endpoint());
    }

    @Test
    void aReplayedPunchNeverMovesAnOpenPath() {
        h.pathOpen();
        assertTrue(h.machine.tunnelReady());
        byte[] probe = h.probeFromPeer();
        h.receive(PEER_PUBLIC, probe); // authentic, from where the path is
        byte[] ack = h.ackFromPeer(h.ourLatestProbe(PEER_PUBLIC));
        h.receive(PEER_PUBLIC, ack);   // the partner's ack to our probe, late but authentic
        assertEquals(PEER_PUBLIC, h.machine.endpoint());

        for (InetSocketAddress elsewhere : List.of(ATTACKER, PEER_ROAMED, PEER_LAN)) {
            h.receive(elsewhere, probe);
            h.receive(elsewhere, ack);
            assertEquals(PEER_PUBLIC, h.machine.endpoint(), "replayed from " + elsewhere);
        }
        h.takeSent();
        h.tun(packet(1));
        assertEquals(List.of(PEER_PUBLIC), h.sent().stream().map(Sent::to).toList(), "packets still go to the peer");
    }

    @Test
    void aReplayedPunchNeverOpensAPathWhilePunching() {
        h.pathOpen();
        byte[] probe = h.probeFromPeer();
        h.receive(PEER_PUBLIC, probe);
        h.partnerSilent = true;
        h.advance(Duration.ofSeconds(15)); // dead: punching again, with new probes
        assertEquals(PeerState.PUNCHING, h.machine.state());
        List<Long> toPublic = punchesTo(h, PEER_PUBLIC).stream().map(s -> ((Punch) s.message()).counter()).toList();
        h.advance(Duration.ofMillis(400));
        byte[] oldAck = h.ackFromPeer(toPublic.get(toPublic.size() - 2));
        h.receive(PEER_PUBLIC, oldAck); // an authentic ack, delivered late: opens the path once
        assertEquals(PeerState.CONNECTED, h.machine.state());
        h.advance(Duration.ofSeconds(15));
        assertEquals(PeerState.PUNCHING, h.machine.state());

        h.receive(ATTACKER, probe);
        h.receive(ATTACKER, oldAck);

        assertEquals(PeerState.PUNCHING, h.machine.state(), "captured punches do not open a path");
        assertNull(h.machine.endpoint());
    }

    @Test
    void aReplayedPunchDoesNotKeepADeadPathAlive() {
        h.pathOpen();
        byte[] probe = h.probeFromPeer();
        h.receive(PEER_PUBLIC, probe);
        h.partnerSilent = true;
        h.advance(Duration.ofSeconds(10));

        h.receive(PEER_PUBLIC, probe);
        h.advance(Duration.ofSeconds(5));

        assertEquals(PeerState.PUNCHING, h.machine.state(), "15 s after the last authentic packet");
    }

    @Test
    void aNewSessionOfThePartnerWipesTheWireGuardKeysAndPunchesAgain() {
        h.connected();
        assertTrue(h.machine.wireGuard().canSend(h.now));

        h.peerInfo(PEER_SESSION + 1, PEER_ROAMED, List.of());

        assertEquals(PeerState.PUNCHING, h.machine.state());
        assertFalse(h.machine.wireGuard().canSend(h.now), "the old keypairs are gone");
        assertFalse(h.machine.tunnelReady());
        Set<InetSocketAddress> punched = Set.copyOf(h.sentOfType(MessageType.PUNCH).stream().map(Sent::to).toList());
        assertEquals(Set.of(PEER_ROAMED, PEER_PUBLIC), punched, "the new endpoint, and the last working one");
        h.sentOfType(MessageType.PUNCH).forEach(p -> assertEquals(PEER_SESSION + 1,
                ((Punch) p.message()).receiverSession()));

        h.partnerSends(marked(1, 40)); // the old incarnation's keys
        assertEquals(List.of(), h.delivered());
        assertEquals(1, h.wireGuardDrops(SessionDrop.UNKNOWN_INDEX));
    }

    @Test
    void whenThePartnersKeySortsFirstWeWaitForItsInitiationThenInitiateOurselves() {
        NoisePrivateKey later = STRANGER_KEY; // its public key sorts after the partner's
        assertTrue(Arrays.compareUnsigned(later.publicKey().toBytes(), PEER.toBytes()) > 0);
        h = new PeerHarness(0, PeerHarness.config(later, null, SessionTimers.defaults()));
        h.partnerSilent = true;
        h.pathOpen();

        assertEquals(PeerState.CONNECTED, h.machine.state());
        assertEquals(List.of(), h.sentOfType(MessageType.WG_HANDSHAKE_INITIATION), "the partner initiates");
        h.advance(Duration.ofMillis(4_950));
        assertEquals(List.of(), h.sentOfType(MessageType.WG_HANDSHAKE_INITIATION));
        h.advance(Duration.ofMillis(50));
        assertEquals(1, h.sentOfType(MessageType.WG_HANDSHAKE_INITIATION).size(), "unless it does not, in 5 s");
        h.partnerSilent = false;
        h.advance(Duration.ofSeconds(6)); // our retry, answered this time
        assertTrue(h.machine.tunnelReady());
    }

    // ---------------------------------------------------------------- keepalive and dead peer

    @Test
    void aKeepaliveIsAnEmptyWireGuardTransportMessageAfter5SecondsWithoutSending() {
        h.connected();

        h.advance(Duration.ofMillis(4_950));
        assertEquals(List.of(), transportTo(h, PEER_PUBLIC));

        h.advance(Duration.ofMillis(50));
        List<Sent> keepalives = transportTo(h, PEER_PUBLIC);
        assertEquals(1, keepalives.size());
        assertEquals(32, keepalives.get(0).bytes().length, "header and tag around nothing");
        assertEquals(List.of(), h.partnerDelivered, "the partner authenticates it and delivers nothing");

        h.advance(Duration.ofMillis(5_000));
        assertEquals(List.of(5_000L, 10_000L), millisOf(h, transportTo(h, PEER_PUBLIC)));
        assertEquals(0, h.partner.drops().size(), "every keepalive authenticated at the partner: "
                + h.partner.drops());
    }

    @Test
    void sendingAPacketPostponesTheKeepalive() {
        h.connected();
        h.advance(Duration.ofSeconds(3));
        h.tun(packet(1));
        h.takeSent();

        h.advance(Duration.ofMillis(4_950));
        assertEquals(List.of(), transportTo(h, PEER_PUBLIC), "5 s after the packet, not after connecting");
        h.advance(Duration.ofMillis(50));
        assertEquals(1, transportTo(h, PEER_PUBLIC).size());
    }

    @Test
    void withoutAKeypairTheKeepaliveIsAHandshakeInitiation() {
        h.partnerSilent = true; // the partner's WireGuard never answers
        h.pathOpen();
        assertEquals(1, h.sentOfType(MessageType.WG_HANDSHAKE_INITIATION).size());
        h.takeSent();

        h.advance(Duration.ofMillis(4_950));
        assertEquals(List.of(), wireGuardTo(h, PEER_PUBLIC));
        h.advance(Duration.ofMillis(50));

        List<Sent> sent = wireGuardTo(h, PEER_PUBLIC);
        assertEquals(1, sent.size());
        assertEquals(MessageType.WG_HANDSHAKE_INITIATION, sent.get(0).type());
        assertEquals(148, sent.get(0).bytes().length);
    }

    @ParameterizedTest
    @ValueSource(longs = {7_000_000_000L, Long.MAX_VALUE - 8 * SECOND, Long.MIN_VALUE, -1})
    void afterFifteenSecondsWithoutAnAuthenticatedPacketThePathIsDeadAndNotBefore(long origin) {
        h = new PeerHarness(origin);
        h.answerRegisters = true;
        h.start();
        h.peerInfo();
        h.advance(Duration.ofMillis(100));
        h.partnerAt = PEER_ROAMED; // the peer's NAT picked another port than the server saw
        h.probeFromPeer(PEER_ROAMED); // acked: our ack proves the path to the partner, which handshakes over it
        h.partnerInitiates();
        assertEquals(PEER_ROAMED, h.machine.endpoint());
        assertTrue(h.machine.tunnelReady());
        h.partnerSilent = true;
        h.advance(Duration.ofMillis(14_950));
        assertEquals(PeerState.CONNECTED, h.machine.state(), "14.95 s of silence: still up");
        h.takeSent();

        h.advance(Duration.ofMillis(50));

        assertEquals(PeerState.PUNCHING, h.machine.state());
        assertNull(h.machine.endpoint());
        assertFalse(h.machine.tunnelReady());
        Set<InetSocketAddress> punched = Set.copyOf(h.sentOfType(MessageType.PUNCH).stream().map(Sent::to).toList());
        assertEquals(Set.of(PEER_PUBLIC, PEER_LAN, PEER_ROAMED), punched, "including the last working endpoint");
        assertEquals(1, h.sentOfType(MessageType.REGISTER).size(), "and the registration is renewed");
    }

    @Test
    void anAuthenticatedPacketFromThePeerKeepsThePathAlive() {
        h.connected();
        h.advance(Duration.ofSeconds(10));
        assertTrue(h.partner.sendKeepalive(h.now, fromPartnerAt(PEER_PUBLIC)));

        h.advance(Duration.ofMillis(14_950));
        assertEquals(PeerState.CONNECTED, h.machine.state());
        h.advance(Duration.ofMillis(50));
        assertEquals(PeerState.PUNCHING, h.machine.state());
        assertEquals(List.of(), h.delivered(), "a keepalive is not an IP packet");
    }

    @Test
    void unauthenticatedOrReplayedPacketsDoNotKeepThePathAlive() {
        h.connected();
        h.advance(Duration.ofSeconds(1));
        h.partnerSends(marked(1, 40));
        byte[] captured = h.partnerSent.get(h.partnerSent.size() - 1);
        assertEquals(1, h.delivered().size());
        h.partnerSilent = true;
        h.advance(Duration.ofSeconds(9));

        h.receive(PEER_PUBLIC, captured);                 // a replay
        byte[] garbage = captured.clone();
        garbage[40] ^= 1;
        h.receive(PEER_PUBLIC, garbage);                  // a forgery
        h.receive(PEER_PUBLIC, new Punch(PEER, SELF, PEER_SESSION, SESSION, 999, false),
                ControlKeys.peerPeer(STRANGER_KEY, SELF)); // a punch without the peer's MAC
        h.advance(Duration.ofMillis(5_950));
        assertEquals(PeerState.CONNECTED, h.machine.state());
        h.advance(Duration.ofMillis(50));

        assertEquals(PeerState.PUNCHING, h.machine.state(), "15 s after the last authentic packet");
        assertEquals(1, h.delivered().size());
        assertEquals(1, h.wireGuardDrops(SessionDrop.REPLAYED));
        assertEquals(1, h.wireGuardDrops(SessionDrop.DECRYPT_FAILED));
    }

    // ---------------------------------------------------------------- the data path

    @Test
    void packetsWaitUntilTheTunnelIsUpAndThenGoOutInOrder() {
        h.answerRegisters = true;
        h.start();
        h.peerInfo();
        for (int i = 0; i < 3; i++) {
            h.tun(marked(i, 30));
        }
        assertEquals(3, h.machine.stagedPackets());
        assertEquals(List.of(), h.sentOfType(MessageType.WG_TRANSPORT_DATA));
        h.takeSent();

        h.probeFromPeer(PEER_PUBLIC);
        assertEquals(List.of(MessageType.PUNCH), h.takeSent().stream().map(Sent::type).toList(), "the ack alone");
        h.ackFromPeer(PEER_PUBLIC);

        List<Sent> sent = h.takeSent();
        assertEquals(MessageType.WG_HANDSHAKE_INITIATION, sent.get(0).type(), "the handshake on the proven path");
        List<Sent> data = sent.stream().filter(s -> s.type() == MessageType.WG_TRANSPORT_DATA).toList();
        assertEquals(3, data.size());
        data.forEach(d -> assertEquals(PEER_PUBLIC, d.to()));
        assertEquals(3, h.partnerDelivered.size());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(marked(i, 30), h.partnerDelivered.get(i), "packet " + i + " in order, intact");
        }
        assertEquals(0, h.machine.stagedPackets());
        assertEquals(0, h.machine.wireGuard().stagedPackets());
        assertEquals(3, h.machine.packetsSent());
    }

    @Test
    void beyondTheStagingLimitTheOldestPacketsAreDroppedAndCounted() {
        h = new PeerHarness(0, PeerHarness.configWithStagedLimit(4));
        h.answerRegisters = true;
        h.start();
        for (int i = 0; i < 6; i++) {
            h.tun(marked(i, 10));
        }
        assertEquals(4, h.machine.stagedPackets());
        assertEquals(2, h.drops(PeerDrop.STAGED_OVERFLOW));

        h.peerInfo();
        h.probeFromPeer(PEER_PUBLIC);
        h.ackFromPeer(PEER_PUBLIC);

        assertEquals(4, h.partnerDelivered.size());
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(marked(i + 2, 10), h.partnerDelivered.get(i), "packets 2..5 survive");
        }
    }

    @Test
    void aStagedPacketIsACopyNotAViewOfTheCallersBuffer() {
        h.answerRegisters = true;
        h.start();
        byte[] buffer = marked(7, 10);
        h.tun(buffer);
        buffer[25] = 99; // the edge reuses its read buffer

        h.peerInfo();
        h.probeFromPeer(PEER_PUBLIC);
        h.ackFromPeer(PEER_PUBLIC);

        assertArrayEquals(marked(7, 10), h.partnerDelivered.get(0));
    }

    @Test
    void whileTheTunnelIsUpATunPacketGoesOutAtOnceEncrypted() {
        h.connected();
        byte[] packet = marked(5, 64);
        h.tun(packet);

        assertEquals(1, h.sent().size());
        Sent sent = h.sent().get(0);
        assertEquals(PEER_PUBLIC, sent.to());
        assertEquals(MessageType.WG_TRANSPORT_DATA, sent.type());
        assertEquals(32 + 96, sent.bytes().length, "84 bytes padded to 96, header and tag");
        assertFalse(contains(sent.bytes(), Arrays.copyOfRange(packet, 20, 40)), "the payload is not in clear");
        assertEquals(List.of(packet).size(), h.partnerDelivered.size());
        assertArrayEquals(packet, h.partnerDelivered.get(0));
    }

    @Test
    void emptyAndOversizedTunPacketsAreDroppedAndCounted() {
        h.connected();
        h.tun(new byte[0]);
        h.tun(new byte[PeerMachine.MAX_PACKET + 1]);

        assertEquals(List.of(), h.sent());
        assertEquals(2, h.drops(PeerDrop.BAD_TUN_PACKET));
        h.tun(packet(PeerMachine.MAX_PACKET - 20)); // an IPv4 packet of the largest size
        assertEquals(1, h.sent().size(), "the largest allowed packet is sent");
    }

    @Test
    void theLargestPacketAcceptedStillFitsInOneUdpDatagram() {
        h.connected();
        h.tun(packet(PeerMachine.MAX_PACKET - 20)); // an IPv4 packet of the largest size

        int maxUdpPayloadOverIpv4 = 65_535 - 20 - 8;
        assertTrue(h.sent().get(0).bytes().length <= maxUdpPayloadOverIpv4,
                h.sent().get(0).bytes().length + " bytes cannot be sent in one UDP datagram");
    }

    @Test
    void aPacketFromThePeerIsDeliveredIntact() {
        h.connected();
        h.partnerSends(marked(42, 100));

        assertEquals(1, h.delivered().size());
        assertArrayEquals(marked(42, 100), h.delivered().get(0));
        assertEquals(1, h.machine.packetsReceived());
    }

    @Test
    void anAuthenticatedPacketFromANewAddressMovesThePathThere() {
        h.connected();
        h.partnerAt = PEER_ROAMED;

        h.partnerSends(marked(1, 10));

        assertArrayEquals(marked(1, 10), h.delivered().get(0));
        assertEquals(PEER_ROAMED, h.machine.endpoint());
        h.takeSent();
        h.tun(marked(2, 10));
        assertEquals(PEER_ROAMED, h.sent().get(0).to(), "replies follow the peer");
        assertArrayEquals(marked(2, 10), h.partnerDelivered.get(h.partnerDelivered.size() - 1));
    }

    @Test
    void forgedOrReplayedWireGuardPacketsAreNeverDeliveredAndDoNotMoveThePath() {
        h.connected();
        h.partnerSends(marked(1, 10));
        byte[] captured = h.partnerSent.get(h.partnerSent.size() - 1);
        assertEquals(1, h.delivered().size());

        h.receive(ATTACKER, captured);
        byte[] flipped = captured.clone();
        flipped[flipped.length - 1] ^= 1;
        h.receive(ATTACKER, flipped);
        byte[] unknownIndex = captured.clone();
        unknownIndex[4] ^= 0x55;
        h.receive(ATTACKER, unknownIndex);

        assertEquals(1, h.delivered().size());
        assertEquals(PEER_PUBLIC, h.machine.endpoint());
        assertEquals(1, h.wireGuardDrops(SessionDrop.REPLAYED));
        assertEquals(1, h.wireGuardDrops(SessionDrop.DECRYPT_FAILED));
        assertEquals(1, h.wireGuardDrops(SessionDrop.UNKNOWN_INDEX));
        assertEquals(1, h.machine.packetsReceived());
    }

    @Test
    void aWireGuardHandshakeFromThePeerWhilePunchingOpensThePath() {
        h.answerRegisters = true;
        h.start();
        h.peerInfo();
        h.partnerAt = PEER_LAN;

        h.partner.initiate(h.now, fromPartnerAt(PEER_LAN), true);

        assertEquals(PeerState.CONNECTED, h.machine.state());
        assertEquals(PEER_LAN, h.machine.endpoint());
        h.advance(Duration.ofSeconds(1));
        assertTrue(h.machine.tunnelReady());
        h.partnerSends(marked(3, 10));
        assertArrayEquals(marked(3, 10), h.delivered().get(0));
    }

    // ---------------------------------------------------------------- leaving

    @Test
    void leaveFromThePeerReturnsToWaitingForIt() {
        h.connected();

        h.receive(PEER_PUBLIC, new Leave(PEER, PEER_SESSION, 1L), h.punchMac);

        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertNull(h.machine.endpoint());
        assertFalse(h.machine.tunnelReady());
        h.tun(packet(1));
        assertEquals(1, h.machine.stagedPackets(), "packets wait again");
        h.advance(Duration.ofSeconds(6));
        assertEquals(List.of(), h.sentOfType(MessageType.WG_TRANSPORT_DATA), "no keepalives to a peer that left");
    }

    @Test
    void leaveForAnotherSessionOrKeyOrWithoutThePeersMacIsIgnoredAndCounted() {
        h.connected();

        h.receive(PEER_PUBLIC, new Leave(PEER, PEER_SESSION + 1, 1L), h.punchMac);
        h.receive(PEER_PUBLIC, new Leave(STRANGER, PEER_SESSION, 1L), ControlKeys.peerPeer(STRANGER_KEY, SELF));
        h.receive(PEER_PUBLIC, new Leave(PEER, PEER_SESSION, 1L), h.serverMac);
        h.receive(PEER_PUBLIC, new Leave(PEER, PEER_SESSION, 1L), null);

        assertEquals(PeerState.CONNECTED, h.machine.state());
        assertEquals(1, h.drops(PeerDrop.WRONG_SESSION));
        assertEquals(3, h.drops(PeerDrop.BAD_MAC));
        assertTrue(h.machine.tunnelReady());
    }

    @Test
    void leaveTellsTheRendezvousAndThePeerAndThenTheMachineIgnoresEverything() {
        h.connected();

        h.machine.leave(h.now, h);

        List<Sent> sent = h.takeSent();
        assertEquals(List.of(PEER_PUBLIC, RENDEZVOUS), sent.stream().map(Sent::to).toList(),
                "the partner first: through the relay, its LEAVE needs our registration, which the other one ends");
        Leave leave = (Leave) sent.get(0).message();
        assertEquals(new Leave(SELF, SESSION, leave.timestamp()), leave);
        assertEquals(leave, sent.get(1).message());
        assertTrue(sent.get(1).macValid(ControlKeys.serverPeer(SERVER_KEY, SELF)), "the server can check it");
        assertTrue(sent.get(0).macValid(ControlKeys.peerPeer(PEER_KEY, SELF)), "and so can the partner");
        assertEquals(PeerState.CLOSED, h.machine.state());
        assertTrue(h.machine.wireGuard().closed(), "leaving zeroes the WireGuard keys");

        h.partnerSends(marked(1, 10));
        h.probeFromPeer(PEER_PUBLIC);
        h.peerInfo();
        h.registered();
        h.challenge();
        h.tun(packet(2));
        h.advance(Duration.ofSeconds(60));
        h.machine.leave(h.now, h);

        assertEquals(List.of(), h.sent());
        assertEquals(List.of(), h.delivered());
        assertEquals(PeerState.CLOSED, h.machine.state());
        assertEquals(0, h.machine.stagedPackets());
    }

    @Test
    void aRealRendezvousAcceptsOurLeave() {
        Rendezvous server = new Rendezvous(RendezvousConfig.defaults(), SERVER_KEY, WireSamples.seededRandom(5));
        h.server = server;
        h.start();
        assertEquals(1, server.registrations());
        h.advance(Duration.ofSeconds(1));

        h.machine.leave(h.now, h);
        Sent leave = h.sentTo(RENDEZVOUS).get(h.sentTo(RENDEZVOUS).size() - 1);
        server.onDatagram(h.now, OUR_PUBLIC, java.nio.ByteBuffer.wrap(leave.bytes()), (to, d) -> { });

        assertEquals(0, server.registrations());
        assertEquals(0, server.droppedTotal());
    }

    @Test
    void leavingBeforeTheServerKeyIsKnownTellsNobodyAndBeforeAnyPathOnlyTheRendezvous() {
        h.start();
        h.takeSent();
        h.machine.leave(h.now, h);
        assertEquals(List.of(), h.sent(), "a LEAVE without the server's key could not be checked");

        h = new PeerHarness();
        h.start();
        h.challenge();
        h.takeSent();
        h.machine.leave(h.now, h);
        assertEquals(List.of(RENDEZVOUS), h.sent().stream().map(Sent::to).toList());
    }

    // ---------------------------------------------------------------- other input

    @Test
    void garbageIsMalformedAndMessagesForTheServerAreUnsupported() {
        h.connected();

        h.receive(PEER_PUBLIC, WireSamples.bytes(new Register(PEER, SELF, 1L, 1L, null, List.of()).encode(null)));
        h.receive(PEER_PUBLIC, new byte[] {0x55, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}); // the old PLAIN_DATA
        h.receive(PEER_PUBLIC, new byte[] {(byte) 0xee, 1, 0, 0, 0});
        h.receive(PEER_PUBLIC, new byte[] {1, 0, 0, 0, 0});                          // a WireGuard type, too short
        h.receive(PEER_PUBLIC, new Challenge(STRANGER, COOKIE, h.lastRegister().nonce()), null);

        assertEquals(1, h.drops(PeerDrop.UNSUPPORTED_TYPE), "the REGISTER");
        assertEquals(2, h.drops(PeerDrop.MALFORMED), "the old PLAIN_DATA and the unknown type");
        assertEquals(1, h.wireGuardDrops(SessionDrop.MALFORMED));
        assertEquals(1, h.drops(PeerDrop.NOT_FROM_RENDEZVOUS), "the CHALLENGE");
        assertEquals(List.of(), h.sent());
        assertEquals(PeerState.CONNECTED, h.machine.state());
    }

    @Test
    void theConfigRefusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> PeerConfig.viaRendezvous(SELF_KEY, SELF, RENDEZVOUS,
                OUR_LAN), "our own key as the peer");
        assertThrows(IllegalArgumentException.class, () -> PeerConfig.viaRendezvous(SELF_KEY, PEER,
                InetSocketAddress.createUnresolved("rv.example", 7777), OUR_LAN));
        assertThrows(IllegalArgumentException.class, () -> new PeerConfig(SELF_KEY, PEER, null, null, null,
                InetSocketAddress.createUnresolved("peer.example", 51820), OUR_LAN, PeerTimers.defaults(),
                SessionTimers.defaults(), Traversal.defaults()));
        assertThrows(IllegalArgumentException.class, () -> new PeerConfig(SELF_KEY, PEER, null, RENDEZVOUS, null,
                PEER_PUBLIC, OUR_LAN, PeerTimers.defaults(), SessionTimers.defaults(), Traversal.defaults()),
                "both modes at once");
        PeerConfig fine = PeerConfig.viaRendezvous(SELF_KEY, PEER, RENDEZVOUS, OUR_LAN);
        assertThrows(IllegalArgumentException.class,
                () -> new PeerMachine(fine, 0L, WireSamples.seededRandom(1), h.wall), "session 0");
        PeerConfig shortPsk = new PeerConfig(SELF_KEY, PEER, new byte[31], RENDEZVOUS, null, null, OUR_LAN,
                PeerTimers.defaults(), SessionTimers.defaults(), Traversal.defaults());
        assertThrows(IllegalArgumentException.class,
                () -> new PeerMachine(shortPsk, 1L, WireSamples.seededRandom(1), h.wall), "a 31-byte pre-shared key");
    }

    @Test
    void atMostEightOwnCandidatesAreReported() {
        List<InetSocketAddress> many = new ArrayList<>(WireSamples.candidates(8));
        many.add(PEER_ROAMED);
        h = new PeerHarness(0, PeerConfig.viaRendezvous(SELF_KEY, PEER, RENDEZVOUS, many));
        h.start();

        assertEquals(WireSamples.candidates(8), ((Register) h.sent().get(0).message()).candidates());
    }

    /** What the partner's WireGuard session sends arrives at the machine as if from {@code address}. */
    private io.pinhole.wireguard.SessionOutput fromPartnerAt(InetSocketAddress address) {
        return new io.pinhole.wireguard.SessionOutput() {
            @Override
            public void sendToPeer(java.nio.ByteBuffer datagram) {
                h.receive(address, WireSamples.bytes(datagram));
            }

            @Override
            public void send(InetSocketAddress to, java.nio.ByteBuffer datagram) {
            }

            @Override
            public void deliver(java.nio.ByteBuffer ipPacket) {
            }

            @Override
            public void authenticated(InetSocketAddress from) {
            }
        };
    }
}
