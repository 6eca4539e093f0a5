package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.COOKIE;
import static io.pinhole.peer.PeerHarness.OTHER_SERVER;
import static io.pinhole.peer.PeerHarness.OTHER_SERVER_KEY;
import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER_ROAMED;
import static io.pinhole.peer.PeerHarness.PEER_SESSION;
import static io.pinhole.peer.PeerHarness.RENDEZVOUS;
import static io.pinhole.peer.PeerHarness.SELF;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.SERVER;
import static io.pinhole.peer.PeerHarness.SERVER_KEY;
import static io.pinhole.peer.PeerHarness.packet;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.config.LogNames;
import io.pinhole.crypto.NoisePrivateKey;
import io.pinhole.crypto.NoisePublicKey;
import io.pinhole.peer.PeerHarness.Sent;
import io.pinhole.rendezvous.Rendezvous;
import io.pinhole.rendezvous.RendezvousConfig;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage.Challenge;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.WireSamples;
import io.pinhole.wireguard.SessionTimers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * PeerMachineServerMessagesTest: server messages are fresh and authentic (issue 9, item 3).
 * A recorded PEER_INFO or REGISTERED replayed from the server's address changes nothing; a
 * CHALLENGE must echo the nonce of a REGISTER in flight; an unpinned client keeps the first
 * server key it learns for its whole run and refuses any other, saying so at WARNING at most once
 * a minute, and a flood of CHALLENGEs with other keys neither changes its key nor stops its
 * registration.
 */
class PeerMachineServerMessagesTest {
    private static final Logger PATH_LOG = Logger.getLogger(LogNames.PATH);
    private final List<LogRecord> warnings = new ArrayList<>();
    private final Handler recorder = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                synchronized (warnings) {
                    warnings.add(record);
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final Random random = new Random(9);

    @BeforeEach
    void recordWarnings() {
        PATH_LOG.addHandler(recorder);
    }

    @AfterEach
    void stopRecording() {
        PATH_LOG.removeHandler(recorder);
    }

    /** WARNING lines of the machine that say another server key was refused. */
    private long refusals() {
        synchronized (warnings) {
            return warnings.stream().filter(r -> r.getMessage().startsWith("REFUSED: rendezvous")).count();
        }
    }

    private byte[] randomNonce() {
        byte[] nonce = new byte[Register.NONCE_LENGTH];
        random.nextBytes(nonce);
        return nonce;
    }

    /** The real server core, with {@link PeerHarness#SERVER_KEY}. */
    private static Rendezvous realServer() {
        return new Rendezvous(RendezvousConfig.defaults(), SERVER_KEY, WireSamples.seededRandom(5));
    }

    /** A harness whose machine registered with {@code server} (REGISTER, CHALLENGE, REGISTER, REGISTERED). */
    private static PeerHarness registeredAt(Rendezvous server) {
        PeerHarness h = new PeerHarness();
        h.server = server;
        h.start();
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        return h;
    }

    private static long probesTo(PeerHarness h, java.net.InetSocketAddress to) {
        return h.sentTo(to).stream().filter(s -> s.type() == MessageType.PUNCH)
                .filter(s -> !((io.pinhole.wire.ControlMessage.Punch) s.message()).ack()).count();
    }

    // ---------------------------------------------------------------- PEER_INFO and REGISTERED

    @Test
    void aRecordedPeerInfoReplayedFromTheServersAddressChangesNothing() {
        PeerHarness h = new PeerHarness().start();
        h.challenge();
        h.registered();
        // The partner's earlier run, elsewhere: the PEER_INFO an attacker records.
        byte[] earlierRun = WireSamples.bytes(h.peerInfoMessage(PEER_SESSION - 1, PEER_ROAMED, List.of())
                .encode(h.serverMac));
        h.receive(RENDEZVOUS, earlierRun);
        // The partner restarts: the server reports its new session; the tunnel comes up on it.
        byte[] current = WireSamples.bytes(h.peerInfoMessage(PEER_SESSION, PEER_PUBLIC, List.of(PEER_LAN))
                .encode(h.serverMac));
        h.receive(RENDEZVOUS, current);
        h.probeFromPeer(PEER_PUBLIC);
        h.ackFromPeer(PEER_PUBLIC); // the proof that opens the path
        assertTrue(h.machine.tunnelReady());
        h.advance(Duration.ofSeconds(1));
        long handshakes = h.machine.wireGuard().handshakesCompleted();
        long attempts = h.machine.status().directAttempts();
        h.takeSent();

        for (int i = 0; i < 20; i++) { // both recordings, again and again, from the server's address
            h.receive(RENDEZVOUS, earlierRun);
            h.receive(RENDEZVOUS, current);
        }
        h.advance(Duration.ofSeconds(2));

        assertEquals(40, h.drops(PeerDrop.STALE_PEER_INFO), h.machine.drops().toString());
        assertEquals(PeerState.CONNECTED, h.machine.state());
        assertEquals(PEER_PUBLIC, h.machine.endpoint(), "the path stays");
        assertTrue(h.machine.tunnelReady(), "no keypair was wiped");
        assertEquals(handshakes, h.machine.wireGuard().handshakesCompleted(), "no new handshake");
        assertEquals(attempts, h.machine.status().directAttempts(), "no new punching round");
        assertEquals(0, probesTo(h, PEER_ROAMED), "nothing punched to the earlier run's address");
        assertEquals(List.of(), h.sentOfType(MessageType.WG_HANDSHAKE_INITIATION));
        h.partnerSends(packet(30));
        assertEquals(1, h.delivered().size(), "the partner's packets still decrypt");
    }

    @Test
    void aPeerInfoForTheNextRegisterIsNewsAndAnOlderOneIsNot() {
        PeerHarness h = new PeerHarness().start();
        h.challenge();
        h.registered();
        byte[] first = WireSamples.bytes(h.peerInfoMessage(PEER_SESSION, PEER_PUBLIC, List.of()).encode(h.serverMac));
        byte[] partnerMoved = WireSamples.bytes(h.peerInfoMessage(PEER_SESSION, PEER_ROAMED, List.of())
                .encode(h.serverMac));
        h.receive(RENDEZVOUS, partnerMoved); // the partner's newer REGISTER (same REGISTER of ours) is news
        h.receive(RENDEZVOUS, first);         // and the older one, delayed, is not

        assertEquals(1, h.drops(PeerDrop.STALE_PEER_INFO));
        assertEquals(PeerState.PUNCHING, h.machine.state());
        h.advance(Duration.ofMillis(300));
        assertTrue(probesTo(h, PEER_ROAMED) > 0, "punching where the newer one said");
        assertEquals(0, probesTo(h, PEER_PUBLIC), "not where the older one said");
    }

    @Test
    void aPeerInfoOrRegisteredAnsweringNoRegisterOfOursOrAnotherSessionIsStale() {
        PeerHarness h = new PeerHarness().start();
        h.challenge();
        long answered = h.lastRegister().timestamp();
        h.receive(RENDEZVOUS, new io.pinhole.wire.ControlMessage.Registered(PeerHarness.SESSION, answered + 1, 20,
                PeerHarness.OUR_PUBLIC), h.serverMac); // a timestamp we never sent
        h.receive(RENDEZVOUS, new io.pinhole.wire.ControlMessage.PeerInfo(PeerHarness.SESSION, answered + 1,
                PeerHarness.PEER, PEER_SESSION, 1L, PEER_PUBLIC, List.of()), h.serverMac);
        h.receive(RENDEZVOUS, new io.pinhole.wire.ControlMessage.PeerInfo(PeerHarness.SESSION + 1, answered,
                PeerHarness.PEER, PEER_SESSION, 1L, PEER_PUBLIC, List.of()), h.serverMac);

        assertEquals(1, h.drops(PeerDrop.STALE_REGISTERED));
        assertEquals(2, h.drops(PeerDrop.STALE_PEER_INFO));
        assertEquals(PeerState.REGISTERING, h.machine.state());
        assertEquals(List.of(), h.sentOfType(MessageType.PUNCH));
    }

    @Test
    void aRecordedRegisteredReplayedChangesNothing() {
        PeerHarness h = new PeerHarness().start();
        h.challenge();
        byte[] recorded = WireSamples.bytes(PeerHarness.registeredFor(h.lastRegister()).encode(h.serverMac));
        h.receive(RENDEZVOUS, recorded);
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        h.advance(Duration.ofSeconds(5)); // the refresh goes unanswered
        assertEquals(3, h.sentOfType(MessageType.REGISTER).size());

        h.receive(RENDEZVOUS, recorded); // the old answer cannot stand in for the refresh's
        h.advance(Duration.ofSeconds(1));

        assertEquals(1, h.drops(PeerDrop.STALE_REGISTERED));
        assertEquals(4, h.sentOfType(MessageType.REGISTER).size(), "still retrying the unanswered refresh");
    }

    // ---------------------------------------------------------------- CHALLENGE

    @Test
    void aChallengeThatDoesNotEchoTheNonceOfARegisterInFlightIsDropped() {
        PeerHarness h = new PeerHarness().start();
        h.takeSent();

        for (NoisePublicKey key : List.of(SERVER, OTHER_SERVER)) {
            h.challenge(key, randomNonce()); // forged off-path: the attacker never saw our REGISTER
        }
        assertEquals(2, h.drops(PeerDrop.STALE_CHALLENGE));
        assertEquals(List.of(), h.sent(), "not answered");

        byte[] firstNonce = h.lastRegister().nonce();
        h.challenge(SERVER); // the real one echoes our nonce
        Sent answer = h.sent().get(0);
        assertArrayEquals(COOKIE, ((Register) answer.message()).cookie());
        assertTrue(answer.macValid(h.serverMac));
        h.takeSent();

        h.challenge(SERVER, firstNonce); // a replay of the real one
        assertEquals(3, h.drops(PeerDrop.STALE_CHALLENGE), h.machine.drops().toString());
        assertEquals(List.of(), h.sent());
    }

    @Test
    void eachRegisterCarriesAFreshNonceAndTheRealServerEchoesIt() {
        Rendezvous server = realServer();
        PeerHarness h = registeredAt(server);
        h.advance(Duration.ofSeconds(12)); // two refreshes

        List<Register> registers = h.sentOfType(MessageType.REGISTER).stream().map(s -> (Register) s.message())
                .toList();
        assertEquals(4, registers.size());
        assertEquals(4, registers.stream().map(r -> java.util.HexFormat.of().formatHex(r.nonce())).distinct()
                .count(), "a new nonce each time");
        assertFalse(registers.stream().anyMatch(r -> java.util.Arrays.equals(r.nonce(), new byte[16])));
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertEquals(java.util.Map.of(), h.machine.drops());
    }

    // ---------------------------------------------------------------- trust on first use

    @Test
    void aChallengeFloodWithOtherServerKeysDoesNotChangeTheKeyOrStopTheRegistration() {
        Rendezvous server = realServer();
        PeerHarness h = registeredAt(server);

        int flooded = 0;
        for (int step = 0; step < 150 * 20; step++) { // 150 s, 50 ms apart
            NoisePublicKey impostor = NoisePrivateKey.generate(WireSamples.seededRandom(step)).publicKey();
            // off-path (a guessed nonce), and on-path (the nonce of our latest REGISTER, which it saw)
            h.challenge(impostor, step % 2 == 0 ? randomNonce() : h.lastRegister().nonce());
            flooded++;
            h.advanceMillis(50);
        }

        assertTrue(h.drops(PeerDrop.SERVER_KEY_MISMATCH) > 0 && h.drops(PeerDrop.STALE_CHALLENGE) > 0,
                h.machine.drops().toString());
        assertEquals(flooded, h.drops(PeerDrop.SERVER_KEY_MISMATCH) + h.drops(PeerDrop.STALE_CHALLENGE),
                "every one dropped, none answered");
        List<Sent> registers = h.sentOfType(MessageType.REGISTER);
        assertTrue(registers.size() >= 150 / 20, "refreshes went on: " + registers.size());
        for (Sent r : registers.subList(1, registers.size())) {
            assertTrue(r.macValid(h.serverMac), "every REGISTER is still MACed for the real server's key");
        }
        assertEquals(1, server.registrations(), "still registered at the real server");
        assertEquals(1, server.challenges(), "which challenged once, at the start");
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertTrue(refusals() >= 2 && refusals() <= 3, "said at WARNING at most once a minute: " + refusals());
    }

    @Test
    void theRealServersChallengeStillCountsAfterAnImpostorsForTheSameRegister() {
        PeerHarness h = new PeerHarness().start();
        h.challenge();
        h.registered();
        h.advance(Duration.ofSeconds(5)); // the refresh; say its answer was a CHALLENGE (a new cookie secret)
        byte[] nonce = h.lastRegister().nonce();
        h.takeSent();

        h.challenge(OTHER_SERVER, nonce); // an on-path impostor answers first
        assertEquals(1, h.drops(PeerDrop.SERVER_KEY_MISMATCH));
        assertEquals(List.of(), h.sent());
        h.challenge(SERVER, nonce);

        Sent answer = h.sent().get(0);
        assertTrue(answer.macValid(h.serverMac), "answered under the key it trusts");
        assertFalse(answer.macValid(ControlKeys.serverPeer(OTHER_SERVER_KEY, SELF)));
    }

    @Test
    void anUnpinnedClientRefusesARestartedServersNewKeyForAsLongAsItRunsAndSaysSo() {
        PeerHarness h = registeredAt(realServer());
        Rendezvous newKey = new Rendezvous(RendezvousConfig.defaults(), OTHER_SERVER_KEY, WireSamples.seededRandom(6));
        h.server = newKey; // the server lost its key file
        h.takeSent();

        h.advance(Duration.ofSeconds(150));

        assertEquals(0, newKey.registrations(), "never registered under the new key");
        assertTrue(h.drops(PeerDrop.SERVER_KEY_MISMATCH) >= 10, h.machine.drops().toString());
        for (Sent r : h.sentOfType(MessageType.REGISTER)) {
            assertTrue(r.macValid(h.serverMac), "every REGISTER is MACed for the first key");
        }
        assertTrue(refusals() >= 2 && refusals() <= 3, "said at WARNING, at most once a minute: " + refusals());
        synchronized (warnings) {
            String line = warnings.stream().filter(r -> r.getMessage().startsWith("REFUSED")).findFirst()
                    .orElseThrow().getMessage();
            assertTrue(line.contains("never switching") && line.contains("restart pinhole up"), line);
        }

        PeerHarness restarted = new PeerHarness(h.now + PeerHarness.SECOND); // the operator restarts the client
        restarted.server = newKey;
        restarted.start();
        assertEquals(PeerState.WAITING_FOR_PEER, restarted.machine.state());
        assertEquals(1, newKey.registrations());
    }

    @Test
    void aPinnedClientRefusesOtherKeysTheSameWay() {
        PeerHarness h = new PeerHarness(0, PeerHarness.config(SELF_KEY, SERVER, SessionTimers.defaults()));
        h.start();
        h.takeSent();
        for (int i = 0; i < 50; i++) {
            h.challenge(OTHER_SERVER);
        }
        assertEquals(50, h.drops(PeerDrop.SERVER_KEY_MISMATCH));
        assertEquals(1, refusals(), "one line, not fifty");
        assertEquals(List.of(), h.sent());
    }
}
