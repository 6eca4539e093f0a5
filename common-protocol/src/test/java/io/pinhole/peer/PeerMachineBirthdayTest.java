package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.PEER_PUBLIC;
import static io.pinhole.peer.PeerHarness.RENDEZVOUS;
import static io.pinhole.peer.PeerHarness.SECOND;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.packet;
import static io.pinhole.peer.PeerHarness.peerPacket;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PeerHarness.Sent;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.MessageType;
import io.pinhole.wireguard.SessionTimers;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * PeerMachineBirthdayTest: birthday punching (Traversal.birthday), driven through the machine
 * with a recording edge that has (or lacks) spare sockets: the bounds of one attempt, when
 * attempts happen, a hit on either side making the path, and the sockets the path then uses and
 * closes.
 */
class PeerMachineBirthdayTest {
    /** The default traversal: relay on, TTL-2 openers, birthday on. */
    private static final Traversal DEFAULTS = Traversal.defaults();
    /** The partner's public address, whose random ports the easy side's probes go to. */
    private static final java.net.InetAddress PEER_IP = PEER_PUBLIC.getAddress();

    private static PeerHarness harness(Traversal traversal, int spares) {
        PeerConfig config = PeerHarness.config(SELF_KEY, null, SessionTimers.defaults()).withTraversal(traversal);
        PeerHarness h = new PeerHarness(7 * SECOND, config);
        h.spareOffer = spares;
        return h;
    }

    /** On the relay, with the first plain round (10 s) run out: the first birthday attempt starts. */
    private static PeerHarness afterFirstRound(Traversal traversal, int spares) {
        return afterFirstRound(harness(traversal, spares));
    }

    private static PeerHarness afterFirstRound(PeerHarness h) {
        h.start();
        h.challenge();
        h.registered();
        h.peerInfo();
        assertEquals(PathKind.RELAYED, h.machine.path());
        h.advance(Duration.ofMillis(10_050));
        return h;
    }

    /** Probes (not acks) sent from spare sockets. */
    private static List<Sent> spareProbes(List<Sent> sent) {
        return sent.stream().filter(s -> s.socket() != 0 && s.type() == MessageType.PUNCH)
                .filter(s -> !((Punch) s.message()).ack()).toList();
    }

    /** Probes from the main socket to ports of the partner's address other than its observed one: random-port probes. */
    private static List<Sent> randomPortProbes(List<Sent> sent) {
        return sent.stream().filter(s -> s.socket() == 0 && s.type() == MessageType.PUNCH)
                .filter(s -> s.to().getAddress().equals(PEER_IP) && s.to().getPort() != PEER_PUBLIC.getPort())
                .filter(s -> !((Punch) s.message()).ack()).toList();
    }

    private static long counter(Sent probe) {
        return ((Punch) probe.message()).counter();
    }

    @Test
    void oneAttemptUsesAtMost256SpareSocketsOnceEachAnd2048PacedProbesToDistinctPortsThenClosesThem() {
        PeerHarness h = afterFirstRound(DEFAULTS, 1_000); // an edge that would open more than asked
        assertEquals(List.of(Birthday.SPARE_SOCKETS), h.spareRequests);
        assertTrue(h.machine.birthdayRunning());

        List<Sent> fromSpares = spareProbes(h.sent());
        assertEquals(256, fromSpares.size());
        assertEquals(256, fromSpares.stream().map(Sent::socket).distinct().count(), "one probe per spare socket");
        assertTrue(fromSpares.stream().allMatch(s -> s.to().equals(PEER_PUBLIC) && s.ttl() == 2),
                "each to the partner's observed endpoint, TTL-limited: " + fromSpares.get(0));

        h.advance(DEFAULTS.openerLead().plusSeconds(1)); // the random-port probes start after the opener lead
        int before = randomPortProbes(h.sent()).size();
        h.advance(Duration.ofSeconds(1));
        int inOneSecond = randomPortProbes(h.sent()).size() - before;
        assertTrue(inOneSecond >= 200 && inOneSecond <= 300, "paced at about 256 a second: " + inOneSecond);

        h.advance(Duration.ofSeconds(8).minus(DEFAULTS.openerLead())); // the attempt's 10 s are over
        List<Sent> random = randomPortProbes(h.sent());
        assertEquals(Birthday.PROBES, random.size());
        assertEquals(Birthday.PROBES, random.stream().map(s -> s.to().getPort()).distinct().count(), "distinct ports");
        assertTrue(random.stream().allMatch(s -> s.to().getPort() >= 1024 && s.ttl() == 0));
        assertFalse(h.machine.birthdayRunning());
        assertTrue(h.openSpares.isEmpty(), "every spare socket closed: " + h.openSpares);
        assertEquals(PathKind.RELAYED, h.machine.path());
        assertEquals(256, spareProbes(h.sent()).size(), "no more from spare sockets");

        h.advance(Duration.ofSeconds(40)); // the next plain round is 60-66 s after the attempt: nothing more yet
        assertEquals(Birthday.PROBES, randomPortProbes(h.sent()).size());
        assertEquals(1, h.spareRequests.size());
    }

    @Test
    void laterAttemptsComeOnlyAfterEveryFifthFailedRoundAndEachStaysWithinItsBounds() {
        PeerHarness h = afterFirstRound(DEFAULTS, 256);
        List<Long> roundsAtAttempt = new ArrayList<>(List.of(h.machine.status().directAttempts()));
        List<Long> startedAt = new ArrayList<>(List.of(spareProbes(h.sent()).get(0).at()));
        for (int i = 0; i < 20 * 60 * 20; i++) { // 20 minutes, tick by tick
            h.advance(Duration.ofMillis(50));
            if (h.spareRequests.size() > startedAt.size()) {
                roundsAtAttempt.add(h.machine.status().directAttempts());
                startedAt.add(h.now);
            }
        }
        assertTrue(startedAt.size() >= 3, "attempts in 20 minutes: " + roundsAtAttempt);
        for (int i = 1; i < roundsAtAttempt.size(); i++) {
            assertTrue(roundsAtAttempt.get(i) - roundsAtAttempt.get(i - 1) >= Birthday.EVERY,
                    "at least 5 plain rounds between birthday attempts: " + roundsAtAttempt);
        }
        startedAt.add(h.now + 1);
        for (int i = 0; i + 1 < startedAt.size(); i++) {
            long from = startedAt.get(i);
            long to = startedAt.get(i + 1);
            if (h.now - (from + Birthday.DURATION_NANOS) < 0) {
                continue; // cut off by the end of the run
            }
            long random = randomPortProbes(h.sent()).stream().filter(s -> s.at() >= from && s.at() < to).count();
            long spare = spareProbes(h.sent()).stream().filter(s -> s.at() >= from && s.at() < to).count();
            assertEquals(Birthday.PROBES, random, "attempt " + i);
            assertEquals(Birthday.SPARE_SOCKETS, spare, "attempt " + i);
        }
    }

    @Test
    void withoutSpareSocketsAtTheEdgeNothingIsSentForIt() {
        PeerHarness h = afterFirstRound(DEFAULTS, 0);
        assertEquals(List.of(Birthday.SPARE_SOCKETS), h.spareRequests, "asked once");
        assertFalse(h.machine.birthdayRunning());
        h.advance(Duration.ofSeconds(30));
        assertEquals(List.of(), randomPortProbes(h.sent()));
        assertEquals(List.of(), h.sent().stream().filter(s -> s.socket() != 0).toList());
        assertEquals(PathKind.RELAYED, h.machine.path());
    }

    @Test
    void withBirthdayOffNoSpareSocketIsAskedForAndNoRandomPortProbed() {
        PeerHarness h = afterFirstRound(DEFAULTS.withBirthday(false), 256);
        h.advance(Duration.ofMinutes(10));
        assertEquals(List.of(), h.spareRequests);
        assertEquals(List.of(), randomPortProbes(h.sent()));
        assertFalse(h.machine.birthdayRunning());
    }

    @Test
    void anEdgeThatCannotLimitTheTtlStillGetsOneProbePerSpareSocketAtFullTtl() {
        PeerHarness h = harness(DEFAULTS, 256);
        h.spareTtl = false;
        afterFirstRound(h);
        List<Sent> fromSpares = spareProbes(h.sent());
        assertEquals(256, fromSpares.size());
        assertTrue(fromSpares.stream().allMatch(s -> s.ttl() == 0 && s.to().equals(PEER_PUBLIC)));
    }

    @Test
    void aHitOnASpareSocketMakesItThePathAndEverySendToThePartnerThenLeavesFromIt() {
        PeerHarness h = afterFirstRound(DEFAULTS, 256);
        h.advance(Duration.ofSeconds(2));
        int before = h.sentCount();

        // the partner (the easy side) probed a random port that is spare socket 17's mapping: we ack
        // from 17, which proves the path to the partner; it moves there and its WireGuard arrives on 17
        h.partnerSocket = 17;
        h.receive(17, PEER_PUBLIC, h.probeFromPeer());
        assertEquals(PathKind.RELAYED, h.machine.path(), "a probe alone proves nothing to us");
        h.partnerSends(packet(1));

        assertEquals(PathKind.DIRECT, h.machine.path());
        assertEquals(PEER_PUBLIC, h.machine.endpoint());
        assertEquals(17, h.machine.pathSocket());
        assertFalse(h.machine.birthdayRunning());
        assertEquals(new TreeSet<>(Set.of(17)), h.openSpares, "the other spare sockets are closed");
        List<Sent> after = new ArrayList<>(h.sentSince(before));
        Sent ack = after.get(0);
        assertTrue(((Punch) ack.message()).ack());
        assertEquals(17, ack.socket(), "acked from the socket the probe came in on");
        assertTrue(h.machine.tunnelReady(), "WireGuard ran on the new path: " + after);

        byte[] ip = packet(40);
        h.tun(ip);
        for (int i = 0; i < 12; i++) { // keepalives and path probes, while the partner keeps the path alive
            h.advance(Duration.ofSeconds(1));
            h.partnerSends(peerPacket(i));
        }
        assertEquals(17, h.machine.pathSocket());
        List<Sent> toPartner = h.sentSince(before).stream().filter(s -> s.to().equals(PEER_PUBLIC)).toList();
        assertTrue(toPartner.stream().anyMatch(s -> s.type() == MessageType.WG_TRANSPORT_DATA));
        assertTrue(toPartner.stream().anyMatch(s -> s.type() == MessageType.PUNCH && !((Punch) s.message()).ack()));
        assertTrue(toPartner.stream().allMatch(s -> s.socket() == 17), "everything to the partner from socket 17: "
                + toPartner.stream().filter(s -> s.socket() != 17).toList());
        assertTrue(h.sentSince(before).stream().filter(s -> s.to().equals(RENDEZVOUS)).allMatch(s -> s.socket() == 0),
                "the server is talked to from the main socket");
        assertTrue(h.partnerDelivered.stream().anyMatch(p -> java.util.Arrays.equals(p, ip)));
        assertEquals(randomPortProbes(h.sentSince(0)).stream().filter(s -> s.at() > h.now - SECOND).toList(),
                List.of(), "no random-port probes after the hit");

        int beforeLeave = h.sentCount();
        h.machine.leave(h.now, h);
        List<Sent> leave = h.sentSince(beforeLeave).stream().filter(s -> s.to().equals(PEER_PUBLIC)).toList();
        assertEquals(1, leave.size());
        assertEquals(MessageType.LEAVE, leave.get(0).type());
        assertEquals(17, leave.get(0).socket());
        assertTrue(h.openSpares.isEmpty(), "closed on leaving: " + h.openSpares);
    }

    @Test
    void anAckToARandomPortProbeMakesThatPortThePathOnTheMainSocketAndClosesEverySpare() {
        PeerHarness h = afterFirstRound(DEFAULTS, 256);
        h.advance(Duration.ofSeconds(3));
        List<Sent> random = randomPortProbes(h.sent());
        Sent hit = random.get(random.size() / 2);
        Sent other = random.get(random.size() / 3);

        // an ack of one probe from another probed port, or on a spare socket, proves nothing
        h.receive(other.to(), h.ackFromPeer(counter(hit)));
        h.receive(5, hit.to(), h.ackFromPeer(counter(hit)));
        assertEquals(PathKind.RELAYED, h.machine.path());
        assertEquals(2, h.drops(PeerDrop.STALE_PUNCH));

        h.partnerAt = hit.to();
        h.receive(hit.to(), h.ackFromPeer(counter(hit)));
        assertEquals(PathKind.DIRECT, h.machine.path());
        assertEquals(hit.to(), h.machine.endpoint());
        assertEquals(0, h.machine.pathSocket());
        assertTrue(h.openSpares.isEmpty(), "all spare sockets closed: " + h.openSpares);

        h.receive(hit.to(), h.ackFromPeer(counter(hit)));
        assertEquals(3, h.drops(PeerDrop.STALE_PUNCH), "an ack counts once");
    }

    @Test
    void theChosenSpareSocketIsClosedWhenThePathFallsBackToTheRelay() {
        PeerHarness h = afterFirstRound(DEFAULTS, 256);
        h.partnerSocket = 9;
        h.receive(9, PEER_PUBLIC, h.probeFromPeer());
        h.partnerSends(packet(1)); // the partner's WireGuard over the path our ack proved to it
        assertEquals(9, h.machine.pathSocket());
        assertEquals(new TreeSet<>(Set.of(9)), h.openSpares);

        h.partnerSilent = true;
        h.advance(Duration.ofSeconds(9)); // 8 s of silence on the direct path: back to the relay
        assertEquals(PathKind.RELAYED, h.machine.path());
        assertEquals(0, h.machine.pathSocket());
        assertTrue(h.openSpares.isEmpty(), "the path left socket 9, so it is closed: " + h.openSpares);

        h.receive(9, PEER_PUBLIC, h.probeFromPeer());
        assertEquals(1, h.drops(PeerDrop.WRONG_SOCKET), "nothing is taken from a closed socket");
        assertEquals(PathKind.RELAYED, h.machine.path());
    }

    @Test
    void onASpareSocketOnlyThePartnerIsHeardNotTheServer() {
        PeerHarness h = afterFirstRound(DEFAULTS, 256);
        h.receive(3, RENDEZVOUS, io.pinhole.wire.WireSamples.bytes(PeerHarness.registeredFor(h.lastRegister())
                .encode(h.serverMac)));
        assertEquals(1, h.drops(PeerDrop.WRONG_SOCKET));
        h.receive(300, PEER_PUBLIC, h.probeFromPeer());
        assertEquals(2, h.drops(PeerDrop.WRONG_SOCKET), "no socket 300 was opened");
        assertEquals(PathKind.RELAYED, h.machine.path());
        assertEquals(256, h.openSpares.size());
    }
}
