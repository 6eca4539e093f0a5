package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.COOKIE;
import static io.pinhole.peer.PeerHarness.OTHER_SERVER;
import static io.pinhole.peer.PeerHarness.OUR_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER;
import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER_SESSION;
import static io.pinhole.peer.PeerHarness.RENDEZVOUS;
import static io.pinhole.peer.PeerHarness.SECOND;
import static io.pinhole.peer.PeerHarness.SELF;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.SERVER;
import static io.pinhole.peer.PeerHarness.SERVER_KEY;
import static io.pinhole.peer.PeerHarness.SESSION;
import static io.pinhole.peer.PeerHarness.STRANGER;
import static io.pinhole.peer.PeerHarness.WALL_START;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.drops.DropCounters;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.MalformedMessageException;
import io.pinhole.wire.WireSamples;
import io.pinhole.wireguard.SessionTimers;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RegistrationClientTest: the registration part of the client alone, without a machine: the
 * CHALLENGE handshake and server key trust, backoff and refresh timing, and which REGISTERED and
 * PEER_INFO count.
 */
class RegistrationClientTest {
    private static final long T0 = 3 * SECOND;
    private final byte[] serverMac = ControlKeys.serverPeer(SERVER_KEY, SELF);
    private final DropCounters<PeerDrop> drops = new DropCounters<>(PeerDrop.class);
    private final List<ByteBuffer> sent = new ArrayList<>();
    private final Clock wall = Clock.fixed(WALL_START, ZoneOffset.UTC); // a clock that stands still
    private final RegistrationClient client = client(null);

    private RegistrationClient client(NoisePublicKey pinned) {
        PeerConfig config = new PeerConfig(SELF_KEY, PEER, null, RENDEZVOUS, pinned, null, List.of(),
                PeerTimers.defaults(), SessionTimers.defaults(), PeerHarness.CLASSIC);
        return new RegistrationClient(config, SESSION, WireSamples.seededRandom(5), wall, drops);
    }

    private void send(InetSocketAddress to, ByteBuffer datagram) {
        assertEquals(RENDEZVOUS, to, "everything goes to the server");
        sent.add(datagram);
    }

    private Register lastRegister() throws MalformedMessageException {
        return (Register) ControlMessage.decode(sent.get(sent.size() - 1).duplicate());
    }

    private ByteBuffer lastDatagram() {
        return sent.get(sent.size() - 1).duplicate();
    }

    /** Registers, answers the CHALLENGE; the last REGISTER sent is the one with the cookie. */
    private Register challenged(long now) throws MalformedMessageException {
        client.register(now, this::send);
        client.onChallenge(now, RENDEZVOUS, new Challenge(SERVER, COOKIE, lastRegister().nonce()), this::send);
        return lastRegister();
    }

    private PeerInfo peerInfo(Register answering, NoisePublicKey peer, long partnerTimestamp) {
        return new PeerInfo(SESSION, answering.timestamp(), peer, PEER_SESSION, partnerTimestamp, PEER_PUBLIC,
                List.of(PEER_LAN));
    }

    @Test
    void firstRegisterHasNoCookieAndNoMacAndTheChallengeIsAnsweredWithBoth() throws MalformedMessageException {
        client.register(T0, this::send);
        Register first = lastRegister();
        byte[] peerServer = ControlKeys.peerServer(SELF_KEY, SERVER);
        assertArrayEquals(new byte[Register.COOKIE_LENGTH], first.cookie(), "no cookie yet");
        assertFalse(ControlMessage.macValid(lastDatagram(), peerServer), "no MAC yet");
        assertEquals(SESSION, first.session());
        assertEquals(PEER, first.wanted());
        assertNull(client.serverKey());
        assertTrue(client.awaitingAnswer());

        client.onChallenge(T0, RENDEZVOUS, new Challenge(SERVER, COOKIE, first.nonce()), this::send);
        assertEquals(2, sent.size());
        Register second = lastRegister();
        assertArrayEquals(COOKIE, second.cookie());
        assertTrue(second.timestamp() > first.timestamp(), "timestamps strictly increase even on a still clock");
        assertTrue(ControlMessage.macValid(lastDatagram(), peerServer), "sealed with the learnt server key");
        assertEquals(SERVER, client.serverKey(), "trust on first use");
        assertTrue(drops.snapshot().isEmpty(), drops.toString());
    }

    @Test
    void aChallengeForNoRegisterInFlightCountsForNothing() throws MalformedMessageException {
        client.register(T0, this::send);
        client.onChallenge(T0, RENDEZVOUS, new Challenge(SERVER, COOKIE, WireSamples.sequence(1, 16)), this::send);
        assertEquals(1, sent.size());
        assertNull(client.serverKey());
        assertEquals(Map.of(PeerDrop.STALE_CHALLENGE, 1L), drops.snapshot());
    }

    @Test
    void aSecondChallengeToTheSameRegisterIsUnsolicited() throws MalformedMessageException {
        client.register(T0, this::send);
        Register first = lastRegister();
        client.onChallenge(T0, RENDEZVOUS, new Challenge(SERVER, COOKIE, first.nonce()), this::send);
        Register answered = lastRegister();
        client.onChallenge(T0, RENDEZVOUS, new Challenge(SERVER, COOKIE, answered.nonce()), this::send);
        assertEquals(2, sent.size());
        assertEquals(Map.of(PeerDrop.UNSOLICITED_CHALLENGE, 1L), drops.snapshot());
    }

    @Test
    void anotherServerKeyIsRefusedAndTheFirstOneKept() throws MalformedMessageException {
        challenged(T0);
        client.tick(T0 + SECOND, true, this::send); // unanswered: a new REGISTER, nonce in flight
        Register retry = lastRegister();
        client.onChallenge(T0 + SECOND, RENDEZVOUS, new Challenge(OTHER_SERVER, COOKIE, retry.nonce()), this::send);
        assertEquals(SERVER, client.serverKey());
        assertEquals(Map.of(PeerDrop.SERVER_KEY_MISMATCH, 1L), drops.snapshot());
        assertEquals(3, sent.size(), "no answer to the impostor");
    }

    @Test
    void aPinnedKeyIsTheOnlyOneTakenAndSealsLeaveFromTheStart() throws MalformedMessageException {
        RegistrationClient pinned = client(SERVER);
        Leave leave = new Leave(SELF, SESSION, pinned.nextTimestamp());
        assertNotNull(pinned.leaveForServer(leave));
        pinned.register(T0, this::send);
        pinned.onChallenge(T0, RENDEZVOUS, new Challenge(STRANGER, COOKIE, lastRegister().nonce()), this::send);
        assertEquals(1, sent.size());
        assertEquals(SERVER, pinned.serverKey());
        assertEquals(1, drops.get(PeerDrop.SERVER_KEY_MISMATCH));
    }

    @Test
    void noLeaveForTheServerBeforeItsKeyIsKnown() {
        assertNull(client.leaveForServer(new Leave(SELF, SESSION, client.nextTimestamp())));
    }

    @Test
    void unansweredRegistersBackOffToEightSecondsWhileTheServerIsNeeded() {
        client.register(T0, this::send);
        long now = T0;
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            long wait = client.retryNanos();
            client.tick(now + wait - 1, true, this::send);
            assertEquals(i + 1, sent.size(), "not due yet");
            now += wait;
            client.tick(now, true, this::send);
            assertEquals(i + 2, sent.size(), "due");
            waits.add(wait / SECOND);
        }
        assertEquals(List.of(1L, 2L, 4L, 8L, 8L, 8L), waits);
    }

    @Test
    void onADirectPathTheBackoffGoesToTheConfiguredMaximum() {
        client.register(T0, this::send);
        long now = T0;
        for (int i = 0; i < 8; i++) {
            now += client.retryNanos();
            client.tick(now, false, this::send);
        }
        assertEquals(30 * SECOND, client.retryNanos());
        client.resetBackoff();
        assertEquals(SECOND, client.retryNanos());
    }

    @Test
    void registeredEndsTheBackoffAndSchedulesTheRefresh() throws MalformedMessageException {
        Register register = challenged(T0);
        client.tick(T0 + SECOND, true, this::send);
        client.tick(T0 + 3 * SECOND, true, this::send); // two unanswered: the wait is 4 s now
        register = lastRegister();
        long at = T0 + 3 * SECOND;
        Registered answer = new Registered(SESSION, register.timestamp(), 20, OUR_PUBLIC);
        assertTrue(client.onRegistered(at, RENDEZVOUS, answer, answer.encode(serverMac), false));
        assertFalse(client.awaitingAnswer());
        assertEquals(OUR_PUBLIC, client.publicEndpoint());
        assertEquals(SECOND, client.retryNanos());
        int before = sent.size();
        client.tick(at + 5 * SECOND - 1, true, this::send);
        assertEquals(before, sent.size());
        client.tick(at + 5 * SECOND, true, this::send); // waiting for the partner: refreshed every 5 s
        assertEquals(before + 1, sent.size());

        register = lastRegister();
        Registered connected = new Registered(SESSION, register.timestamp(), 20, OUR_PUBLIC);
        at += 5 * SECOND;
        assertTrue(client.onRegistered(at, RENDEZVOUS, connected, connected.encode(serverMac), true));
        client.tick(at + 20 * SECOND - 1, true, this::send);
        assertEquals(before + 1, sent.size(), "connected: the server's 20 s");
        client.tick(at + 20 * SECOND, true, this::send);
        assertEquals(before + 2, sent.size());
    }

    @Test
    void aReplayedOrForeignRegisteredIsRefused() throws MalformedMessageException {
        Register register = challenged(T0);
        Registered answer = new Registered(SESSION, register.timestamp(), 20, OUR_PUBLIC);
        assertTrue(client.onRegistered(T0, RENDEZVOUS, answer, answer.encode(serverMac), false));
        assertFalse(client.onRegistered(T0, RENDEZVOUS, answer, answer.encode(serverMac), false), "a replay");
        Registered otherSession = new Registered(SESSION + 1, register.timestamp(), 20, OUR_PUBLIC);
        assertFalse(client.onRegistered(T0, RENDEZVOUS, otherSession, otherSession.encode(serverMac), false));
        assertEquals(Map.of(PeerDrop.STALE_REGISTERED, 2L), drops.snapshot());
        assertFalse(client.onRegistered(T0, RENDEZVOUS, answer, answer.encode(WireSamples.MAC_KEY), false));
        assertEquals(1, drops.get(PeerDrop.BAD_MAC));
    }

    @Test
    void peerInfoCountsOnceForOurPartnerWithTheServersMac() throws MalformedMessageException {
        Register register = challenged(T0);
        PeerInfo info = peerInfo(register, PEER, 1_700_000_000_000_000L);
        assertFalse(client.acceptPeerInfo(info, info.encode(WireSamples.MAC_KEY)));
        assertEquals(1, drops.get(PeerDrop.BAD_MAC));
        PeerInfo stranger = peerInfo(register, STRANGER, 1_700_000_000_000_000L);
        assertFalse(client.acceptPeerInfo(stranger, stranger.encode(serverMac)));
        assertEquals(1, drops.get(PeerDrop.WRONG_KEY));
        assertTrue(client.acceptPeerInfo(info, info.encode(serverMac)));
        assertFalse(client.acceptPeerInfo(info, info.encode(serverMac)), "a replay");
        assertEquals(1, drops.get(PeerDrop.STALE_PEER_INFO));
        PeerInfo newer = peerInfo(register, PEER, 1_700_000_000_000_001L);
        assertTrue(client.acceptPeerInfo(newer, newer.encode(serverMac)), "the partner registered again: news");
    }

    @Test
    void aPeerInfoBeforeAnyRegisteredEndsTheRetries() throws MalformedMessageException {
        challenged(T0);
        client.registeredByPeerInfo(T0);
        assertFalse(client.awaitingAnswer());
        int before = sent.size();
        client.tick(T0 + 20 * SECOND - 1, true, this::send);
        assertEquals(before, sent.size(), "the next REGISTER is the refresh (the fallback 20 s)");
        client.tick(T0 + 20 * SECOND, true, this::send);
        assertEquals(before + 1, sent.size());
    }
}
