package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.ATTACKER;
import static io.pinhole.peer.PeerHarness.OUR_LAN;
import static io.pinhole.peer.PeerHarness.OUR_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER;
import static io.pinhole.peer.PeerHarness.PEER_LAN;
import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.PEER_ROAMED;
import static io.pinhole.peer.PeerHarness.PEER_SESSION;
import static io.pinhole.peer.PeerHarness.RENDEZVOUS;
import static io.pinhole.peer.PeerHarness.SECOND;
import static io.pinhole.peer.PeerHarness.SELF;
import static io.pinhole.peer.PeerHarness.SESSION;
import static io.pinhole.peer.PeerHarness.STRANGER;
import static io.pinhole.peer.PeerHarness.packet;
import static io.pinhole.peer.PeerHarness.plainData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PeerHarness.Sent;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.PeerInfo;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.ControlMessage.Register;
import io.pinhole.wire.ControlMessage.Registered;
import io.pinhole.wire.MessageType;
import io.pinhole.wire.PlainData;
import io.pinhole.wire.WireSamples;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** PeerMachineTest: the client state machine driven directly, in virtual nanoseconds. */
class PeerMachineTest {
    private static final byte[] KEEPALIVE = plainData(SESSION, new byte[0]);

    private PeerHarness h = new PeerHarness();

    private static List<Long> millisOf(PeerHarness h, List<Sent> sent) {
        return sent.stream().map(s -> h.elapsedMillis(s.at())).toList();
    }

    private static List<Sent> punchesTo(PeerHarness h, InetSocketAddress to) {
        return h.sentTo(to).stream().filter(s -> s.type() == MessageType.PUNCH).toList();
    }

    private static List<Sent> plainDataTo(PeerHarness h, InetSocketAddress to) {
        return h.sentTo(to).stream().filter(s -> s.type() == MessageType.PLAIN_DATA).toList();
    }

    // ---------------------------------------------------------------- registration

    @Test
    void startSendsOneRegisterToTheRendezvous() {
        h.start();

        List<Sent> sent = h.takeSent();
        assertEquals(1, sent.size());
        assertEquals(RENDEZVOUS, sent.get(0).to());
        assertEquals(new Register(SELF, PEER, SESSION, OUR_LAN), sent.get(0).message());
        assertEquals(Register.LENGTH, sent.get(0).bytes().length);
        assertEquals(PeerState.REGISTERING, h.machine.state());
    }

    @ParameterizedTest
    @ValueSource(longs = {0, Long.MAX_VALUE - 40 * SECOND, Long.MIN_VALUE, -1})
    void anUnansweredRegisterIsRetriedAfter1_2_4_8_16_30_30Seconds(long origin) {
        h = new PeerHarness(origin).start();
        h.advance(Duration.ofSeconds(100));

        assertEquals(List.of(0L, 1_000L, 3_000L, 7_000L, 15_000L, 31_000L, 61_000L, 91_000L),
                millisOf(h, h.sentOfType(MessageType.REGISTER)));
        assertEquals(h.sent().size(), h.sentTo(RENDEZVOUS).size(), "nothing else is sent");
        assertEquals(PeerState.REGISTERING, h.machine.state());
    }

    @Test
    void registeredMovesToWaitingForThePeerAndStopsTheRetries() {
        h.start();
        h.registered();

        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertEquals(OUR_PUBLIC, h.machine.publicEndpoint());
        h.advance(Duration.ofMillis(4_950));
        assertEquals(1, h.sentOfType(MessageType.REGISTER).size(), "no retry once answered");
        h.advance(Duration.ofMillis(50));
        assertEquals(List.of(0L, 5_000L), millisOf(h, h.sentOfType(MessageType.REGISTER)),
                "while waiting for the peer, re-registers every 5 s");
    }

    @Test
    void anAnswerResetsTheBackoff() {
        h.start();
        h.advance(Duration.ofSeconds(7)); // REGISTERs at 0, 1, 3, 7 s, unanswered
        h.registered();                    // at 7 s: next refresh at 12 s
        h.advance(Duration.ofSeconds(6));  // the refresh at 12 s goes unanswered: retry 1 s later

        assertEquals(List.of(0L, 1_000L, 3_000L, 7_000L, 12_000L, 13_000L),
                millisOf(h, h.sentOfType(MessageType.REGISTER)));
    }

    @Test
    void registeredFromAnotherAddressIsIgnoredAndCounted() {
        h.start();
        h.receive(ATTACKER, new Registered(SESSION, 20, ATTACKER));

        assertEquals(PeerState.REGISTERING, h.machine.state());
        assertNull(h.machine.publicEndpoint());
        assertEquals(1, h.drops(PeerDrop.NOT_FROM_RENDEZVOUS));
        h.advance(Duration.ofSeconds(1));
        assertEquals(2, h.sentOfType(MessageType.REGISTER).size(), "still retrying");
    }

    @Test
    void registeredForAnotherSessionIsIgnoredAndCounted() {
        h.start();
        h.receive(RENDEZVOUS, new Registered(SESSION + 1, 20, OUR_PUBLIC));

        assertEquals(PeerState.REGISTERING, h.machine.state());
        assertNull(h.machine.publicEndpoint());
        assertEquals(1, h.drops(PeerDrop.STALE_REGISTERED));
        h.advance(Duration.ofSeconds(1));
        assertEquals(2, h.sentOfType(MessageType.REGISTER).size(), "still retrying");
    }

    // ---------------------------------------------------------------- punching

    @Test
    void peerInfoStartsPunchingEveryCandidateEvery200Milliseconds() {
        h.start();
        h.registered();
        h.takeSent();

        h.peerInfo();
        h.advance(Duration.ofMillis(1_000));

        assertEquals(PeerState.PUNCHING, h.machine.state());
        Punch probe = new Punch(SELF, PEER, SESSION, false);
        for (InetSocketAddress target : List.of(PEER_PUBLIC, PEER_LAN)) {
            List<Sent> punches = punchesTo(h, target);
            assertEquals(List.of(0L, 200L, 400L, 600L, 800L, 1_000L), millisOf(h, punches), "punches to " + target);
            punches.forEach(p -> assertEquals(probe, p.message()));
        }
        assertEquals(12, h.sentOfType(MessageType.PUNCH).size(), "to nobody else");
        assertEquals(PEER_PUBLIC, punchesTo(h, PEER_PUBLIC).get(0).to());
        assertEquals(List.of(PEER_PUBLIC, PEER_LAN), h.sent().subList(0, 2).stream().map(Sent::to).toList(),
                "the observed endpoint first, then the LAN candidates");
    }

    @Test
    void peerInfoNotFromTheRendezvousOrAboutAnotherKeyIsIgnored() {
        h.start();
        h.registered();
        h.takeSent();

        h.receive(ATTACKER, new PeerInfo(PEER, PEER_SESSION, ATTACKER, List.of()));
        h.receive(RENDEZVOUS, new PeerInfo(STRANGER, PEER_SESSION, ATTACKER, List.of()));

        assertEquals(List.of(), h.sent());
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertEquals(1, h.drops(PeerDrop.NOT_FROM_RENDEZVOUS));
        assertEquals(1, h.drops(PeerDrop.WRONG_KEY));
    }

    @Test
    void aPunchingRoundWithoutAnswerEndsAfter10SecondsAndAsksTheRendezvousAgain() {
        h.start();
        h.registered();
        h.answerRegisters = true;
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
    void aPunchFromThePeerIsAckedWithAPunchOfTheSameSizeAndConnects() {
        h.start();
        h.registered();
        h.peerInfo();
        h.takeSent();

        byte[] probe = WireSamples.bytes(new Punch(PEER, SELF, PEER_SESSION, false).encode());
        h.receive(PEER_LAN, probe);

        List<Sent> sent = h.takeSent();
        assertEquals(1, sent.size());
        assertEquals(PEER_LAN, sent.get(0).to(), "the ack goes back where the probe came from");
        assertEquals(new Punch(SELF, PEER, SESSION, true), sent.get(0).message());
        assertEquals(probe.length, sent.get(0).bytes().length);
        assertEquals(PeerState.CONNECTED, h.machine.state());
        assertEquals(PEER_LAN, h.machine.endpoint());
    }

    @Test
    void aPunchFromThePeerConnectsEvenBeforeThePeerInfoArrives() {
        h.start();
        h.registered();
        h.takeSent();

        h.punchFromPeer(PEER_PUBLIC, false);

        assertEquals(PeerState.CONNECTED, h.machine.state());
        assertEquals(PEER_PUBLIC, h.machine.endpoint());
        assertEquals(new Punch(SELF, PEER, SESSION, true), h.takeSent().get(0).message());
    }

    @Test
    void aPunchAckIsNeverAnswered() {
        h.start();
        h.registered();
        h.peerInfo();
        h.takeSent();

        h.punchFromPeer(PEER_PUBLIC, true);
        assertEquals(PeerState.CONNECTED, h.machine.state());
        h.punchFromPeer(PEER_PUBLIC, true);

        assertEquals(List.of(), h.sent());
    }

    @Test
    void aPunchNamingOtherKeysIsNeitherAckedNorTrusted() {
        h.start();
        h.registered();
        h.peerInfo();
        h.takeSent();

        h.receive(ATTACKER, new Punch(STRANGER, SELF, 9L, false));
        h.receive(ATTACKER, new Punch(PEER, STRANGER, 9L, false));

        assertEquals(List.of(), h.sent());
        assertEquals(2, h.drops(PeerDrop.WRONG_KEY));
        assertEquals(PeerState.PUNCHING, h.machine.state());
    }

    // ---------------------------------------------------------------- keepalive and dead peer

    @Test
    void aKeepaliveGoesOutAfter5SecondsWithoutSendingAndNotBefore() {
        h.connected();

        h.advance(Duration.ofMillis(4_950));
        assertEquals(List.of(), plainDataTo(h, PEER_PUBLIC));

        h.advance(Duration.ofMillis(50));
        List<Sent> keepalives = plainDataTo(h, PEER_PUBLIC);
        assertEquals(1, keepalives.size());
        assertArrayEquals(KEEPALIVE, keepalives.get(0).bytes(), "an empty PLAIN_DATA of our session");

        h.advance(Duration.ofMillis(5_000));
        assertEquals(List.of(5_000L, 10_000L), millisOf(h, plainDataTo(h, PEER_PUBLIC)));
    }

    @Test
    void sendingAPacketPostponesTheKeepalive() {
        h.connected();
        h.advance(Duration.ofSeconds(3));
        h.tun(packet(1));
        h.takeSent();

        h.advance(Duration.ofMillis(4_950));
        assertEquals(List.of(), plainDataTo(h, PEER_PUBLIC), "5 s after the packet, not after connecting");
        h.advance(Duration.ofMillis(50));
        assertEquals(1, plainDataTo(h, PEER_PUBLIC).size());
    }

    @ParameterizedTest
    @ValueSource(longs = {7_000_000_000L, Long.MAX_VALUE - 8 * SECOND, Long.MIN_VALUE, -1})
    void afterFifteenSecondsOfSilenceThePathIsDeadAndNotBefore(long origin) {
        h = new PeerHarness(origin);
        h.answerRegisters = true;
        h.start();
        h.registered();
        h.peerInfo();
        h.advance(Duration.ofMillis(100));
        h.punchFromPeer(PEER_ROAMED, false); // the peer's NAT picked another port than the server saw
        assertEquals(PEER_ROAMED, h.machine.endpoint());
        h.advance(Duration.ofMillis(14_950));
        assertEquals(PeerState.CONNECTED, h.machine.state(), "14.95 s of silence: still up");
        h.takeSent();

        h.advance(Duration.ofMillis(50));

        assertEquals(PeerState.PUNCHING, h.machine.state());
        assertNull(h.machine.endpoint());
        Set<InetSocketAddress> punched = Set.copyOf(h.sentOfType(MessageType.PUNCH).stream().map(Sent::to).toList());
        assertEquals(Set.of(PEER_PUBLIC, PEER_LAN, PEER_ROAMED), punched, "including the last working endpoint");
        assertEquals(1, h.sentOfType(MessageType.REGISTER).size(), "and the registration is renewed");
    }

    @Test
    void anythingFromThePeerKeepsThePathAlive() {
        h.connected();
        h.advance(Duration.ofSeconds(10));
        h.receive(PEER_PUBLIC, plainData(PEER_SESSION, new byte[0])); // the peer's keepalive

        h.advance(Duration.ofMillis(14_950));
        assertEquals(PeerState.CONNECTED, h.machine.state());
        h.advance(Duration.ofMillis(50));
        assertEquals(PeerState.PUNCHING, h.machine.state());
        assertEquals(List.of(), h.delivered(), "a keepalive is not an IP packet");
    }

    // ---------------------------------------------------------------- the data path

    @Test
    void packetsWaitUntilThePathExistsAndThenGoOutInOrder() {
        h.start();
        h.registered();
        h.peerInfo();
        for (int i = 0; i < 3; i++) {
            h.tun(packet(i));
        }
        assertEquals(3, h.machine.stagedPackets());
        assertEquals(List.of(), h.sentOfType(MessageType.PLAIN_DATA));
        h.takeSent();

        h.punchFromPeer(PEER_PUBLIC, false);

        List<Sent> sent = h.takeSent();
        assertEquals(MessageType.PUNCH, sent.get(0).type(), "the ack first");
        List<Sent> data = sent.subList(1, sent.size());
        assertEquals(3, data.size());
        for (int i = 0; i < 3; i++) {
            assertEquals(PEER_PUBLIC, data.get(i).to());
            assertArrayEquals(plainData(SESSION, packet(i)), data.get(i).bytes(), "packet " + i + " in order");
        }
        assertEquals(0, h.machine.stagedPackets());
        assertEquals(3, h.machine.packetsSent());
    }

    @Test
    void beyondTheStagingLimitTheOldestPacketsAreDroppedAndCounted() {
        h = new PeerHarness(0, PeerHarness.configWithStagedLimit(4));
        h.start();
        for (int i = 0; i < 6; i++) {
            h.tun(packet(i));
        }
        assertEquals(4, h.machine.stagedPackets());
        assertEquals(2, h.drops(PeerDrop.STAGED_OVERFLOW));

        h.punchFromPeer(PEER_PUBLIC, true);

        List<Sent> data = h.sentOfType(MessageType.PLAIN_DATA);
        assertEquals(4, data.size());
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(plainData(SESSION, packet(i + 2)), data.get(i).bytes(), "packets 2..5 survive");
        }
    }

    @Test
    void aStagedPacketIsACopyNotAViewOfTheCallersBuffer() {
        h.start();
        byte[] buffer = packet(7);
        h.tun(buffer);
        buffer[19] = 99; // the edge reuses its read buffer

        h.punchFromPeer(PEER_PUBLIC, true);

        assertArrayEquals(plainData(SESSION, packet(7)), h.sentOfType(MessageType.PLAIN_DATA).get(0).bytes());
    }

    @Test
    void whileConnectedATunPacketGoesOutAtOnce() {
        h.connected();
        h.tun(packet(5));

        assertEquals(1, h.sent().size());
        assertEquals(PEER_PUBLIC, h.sent().get(0).to());
        assertArrayEquals(plainData(SESSION, packet(5)), h.sent().get(0).bytes());
    }

    @Test
    void emptyAndOversizedTunPacketsAreDroppedAndCounted() {
        h.connected();
        h.tun(new byte[0]);
        h.tun(new byte[PeerMachine.MAX_PACKET + 1]);

        assertEquals(List.of(), h.sent());
        assertEquals(2, h.drops(PeerDrop.BAD_TUN_PACKET));
        h.tun(new byte[PeerMachine.MAX_PACKET]);
        assertEquals(1, h.sent().size(), "the largest allowed packet is sent");
    }

    @Test
    void theLargestPacketAcceptedStillFitsInOneUdpDatagram() {
        h.connected();
        h.tun(new byte[PeerMachine.MAX_PACKET]);

        int maxUdpPayloadOverIpv4 = 65_535 - 20 - 8;
        assertTrue(h.sent().get(0).bytes().length <= maxUdpPayloadOverIpv4,
                h.sent().get(0).bytes().length + " bytes cannot be sent in one UDP datagram");
    }

    @Test
    void dataFromTheWrongSessionIsDroppedCountedAndNeverDelivered() {
        h.connected();

        h.dataFromPeer(PEER_PUBLIC, PEER_SESSION + 1, packet(1));
        h.dataFromPeer(PEER_ROAMED, PEER_SESSION - 1, packet(2));
        h.dataFromPeer(PEER_PUBLIC, 0L, packet(3));

        assertEquals(List.of(), h.delivered());
        assertEquals(3, h.drops(PeerDrop.WRONG_SESSION));
        assertEquals(PEER_PUBLIC, h.machine.endpoint(), "the path does not move for a stranger");
        assertEquals(0, h.machine.packetsReceived());
    }

    @Test
    void dataBeforeAnyPeerSessionIsKnownIsDropped() {
        h.start();
        h.registered();

        h.dataFromPeer(PEER_PUBLIC, 0L, packet(1));
        h.dataFromPeer(PEER_PUBLIC, PEER_SESSION, packet(2));

        assertEquals(List.of(), h.delivered());
        assertEquals(2, h.drops(PeerDrop.WRONG_SESSION));
        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
    }

    @Test
    void dataFromThePeersSessionIsDeliveredIntact() {
        h.connected();
        h.dataFromPeer(PEER_PUBLIC, PEER_SESSION, packet(42));

        assertEquals(1, h.delivered().size());
        assertArrayEquals(packet(42), h.delivered().get(0));
        assertEquals(1, h.machine.packetsReceived());
    }

    @Test
    void dataFromThePeersSessionAtANewAddressMovesThePathThere() {
        h.connected();

        h.dataFromPeer(PEER_ROAMED, PEER_SESSION, packet(1));

        assertArrayEquals(packet(1), h.delivered().get(0));
        assertEquals(PEER_ROAMED, h.machine.endpoint());
        h.tun(packet(2));
        assertEquals(PEER_ROAMED, h.sent().get(0).to(), "replies follow the peer");
    }

    @Test
    void dataFromThePeerWhilePunchingMakesThePath() {
        h.start();
        h.registered();
        h.peerInfo();

        h.dataFromPeer(PEER_LAN, PEER_SESSION, packet(1));

        assertEquals(PeerState.CONNECTED, h.machine.state());
        assertEquals(PEER_LAN, h.machine.endpoint());
        assertArrayEquals(packet(1), h.delivered().get(0));
    }

    // ---------------------------------------------------------------- leaving

    @Test
    void leaveFromThePeerReturnsToWaitingForIt() {
        h.connected();

        h.receive(PEER_PUBLIC, new Leave(PEER, PEER_SESSION));

        assertEquals(PeerState.WAITING_FOR_PEER, h.machine.state());
        assertNull(h.machine.endpoint());
        h.tun(packet(1));
        assertEquals(1, h.machine.stagedPackets(), "packets wait again");
        h.advance(Duration.ofSeconds(6));
        assertEquals(List.of(), h.sentOfType(MessageType.PLAIN_DATA), "no keepalives to a peer that left");
    }

    @Test
    void leaveForAnotherSessionOrKeyIsIgnoredAndCounted() {
        h.connected();

        h.receive(PEER_PUBLIC, new Leave(PEER, PEER_SESSION + 1));
        h.receive(PEER_PUBLIC, new Leave(STRANGER, PEER_SESSION));

        assertEquals(PeerState.CONNECTED, h.machine.state());
        assertEquals(2, h.drops(PeerDrop.WRONG_SESSION));
    }

    @Test
    void leaveTellsTheRendezvousAndThePeerAndThenTheMachineIgnoresEverything() {
        h.connected();

        h.machine.leave(h.now, h);

        Leave leave = new Leave(SELF, SESSION);
        List<Sent> sent = h.takeSent();
        assertEquals(List.of(RENDEZVOUS, PEER_PUBLIC), sent.stream().map(Sent::to).toList());
        sent.forEach(s -> assertEquals(leave, s.message()));
        assertEquals(PeerState.CLOSED, h.machine.state());

        h.dataFromPeer(PEER_PUBLIC, PEER_SESSION, packet(1));
        h.punchFromPeer(PEER_PUBLIC, false);
        h.peerInfo();
        h.registered();
        h.tun(packet(2));
        h.advance(Duration.ofSeconds(60));
        h.machine.leave(h.now, h);

        assertEquals(List.of(), h.sent());
        assertEquals(List.of(), h.delivered());
        assertEquals(PeerState.CLOSED, h.machine.state());
        assertEquals(0, h.machine.stagedPackets());
    }

    @Test
    void leavingBeforeAnyPathTellsOnlyTheRendezvous() {
        h.start();
        h.takeSent();
        h.machine.leave(h.now, h);

        assertEquals(List.of(RENDEZVOUS), h.sent().stream().map(Sent::to).toList());
    }

    // ---------------------------------------------------------------- other input

    @Test
    void wireGuardMessagesAreUnsupportedAndGarbageIsMalformed() {
        h.connected();
        byte[] initiation = new byte[148];
        initiation[0] = 1;

        h.receive(PEER_PUBLIC, initiation);
        h.receive(PEER_PUBLIC, new byte[] {0x55, 1, 0});
        h.receive(PEER_PUBLIC, new byte[] {(byte) 0xee, 1, 0, 0, 0});
        h.receive(PEER_PUBLIC, WireSamples.bytes(new Register(PEER, SELF, 1L, List.of()).encode()));

        assertEquals(2, h.drops(PeerDrop.UNSUPPORTED_TYPE), "the WireGuard initiation and the REGISTER");
        assertEquals(2, h.drops(PeerDrop.MALFORMED), "the short PLAIN_DATA and the unknown type");
        assertEquals(List.of(), h.sent());
        assertEquals(PeerState.CONNECTED, h.machine.state());
    }

    @Test
    void theConfigRefusesOurOwnKeyAsThePeerAndAnUnresolvedServer() {
        assertThrows(IllegalArgumentException.class, () -> PeerConfig.of(SELF, SELF, RENDEZVOUS, OUR_LAN));
        assertThrows(IllegalArgumentException.class,
                () -> PeerConfig.of(SELF, PEER, InetSocketAddress.createUnresolved("rv.example", 7777), OUR_LAN));
        assertThrows(IllegalArgumentException.class, () -> new PeerMachine(PeerConfig.of(SELF, PEER, RENDEZVOUS,
                OUR_LAN), 0L));
    }

    @Test
    void atMostEightOwnCandidatesAreReported() {
        List<InetSocketAddress> many = new ArrayList<>(WireSamples.candidates(8));
        many.add(PEER_ROAMED);
        h = new PeerHarness(0, PeerConfig.of(SELF, PEER, RENDEZVOUS, many));
        h.start();

        assertEquals(WireSamples.candidates(8), ((Register) h.sent().get(0).message()).candidates());
    }

    @Test
    void keepalivesAndDataCarryOurSessionSoThePeerCanCheckIt() throws Exception {
        h.connected();
        h.tun(packet(1));
        h.advance(Duration.ofSeconds(5));
        for (Sent s : h.sentOfType(MessageType.PLAIN_DATA)) {
            assertEquals(SESSION, PlainData.senderSession(ByteBuffer.wrap(s.bytes())));
        }
        assertEquals(2, h.sentOfType(MessageType.PLAIN_DATA).size());
    }
}
