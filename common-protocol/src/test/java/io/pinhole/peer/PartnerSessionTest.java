package io.pinhole.peer;

import static io.pinhole.peer.PeerHarness.PEER;
import static io.pinhole.peer.PeerHarness.PEER_KEY;
import static io.pinhole.peer.PeerHarness.PEER_SESSION;
import static io.pinhole.peer.PeerHarness.SELF;
import static io.pinhole.peer.PeerHarness.SELF_KEY;
import static io.pinhole.peer.PeerHarness.SESSION;
import static io.pinhole.peer.PeerHarness.STRANGER;
import static io.pinhole.peer.PeerHarness.STRANGER_KEY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.drops.DropCounters;
import io.pinhole.peer.PartnerSession.Change;
import io.pinhole.wire.ControlKeys;
import io.pinhole.wire.ControlMessage;
import io.pinhole.wire.ControlMessage.Leave;
import io.pinhole.wire.ControlMessage.Punch;
import io.pinhole.wire.MalformedMessageException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** PartnerSessionTest: the partner's session, and which of its PUNCHes and LEAVEs are genuine. */
class PartnerSessionTest {
    private final DropCounters<PeerDrop> drops = new DropCounters<>(PeerDrop.class);
    private final PartnerSession partner = new PartnerSession(SELF, PEER, ControlKeys.peerPeer(SELF_KEY, PEER), drops);
    /** What the partner seals with: the same peer-peer key, from its side. */
    private final byte[] partnersKey = ControlKeys.peerPeer(PEER_KEY, SELF);

    @Test
    void theFirstSessionIsLearntAndAnotherOneIsARestart() {
        assertFalse(partner.known());
        assertEquals(Change.FIRST, partner.note(PEER_SESSION));
        assertEquals(Change.SAME, partner.note(PEER_SESSION));
        assertEquals(Change.RESTARTED, partner.note(PEER_SESSION + 1));
        assertEquals(PEER_SESSION + 1, partner.id());
        assertTrue(partner.known());
    }

    @Test
    void aPunchCountsOnlyFromThePartnerToUsSealedAndOfItsCurrentSession() {
        Punch probe = new Punch(PEER, SELF, PEER_SESSION, SESSION, 1, false);
        assertFalse(partner.acceptPunch(probe, probe.encode(partnersKey)), "its session is not known yet");
        partner.note(PEER_SESSION);
        assertTrue(partner.acceptPunch(probe, probe.encode(partnersKey)));

        Punch stranger = new Punch(STRANGER, SELF, PEER_SESSION, SESSION, 1, false);
        assertFalse(partner.acceptPunch(stranger, stranger.encode(ControlKeys.peerPeer(STRANGER_KEY, SELF))));
        Punch notForUs = new Punch(PEER, STRANGER, PEER_SESSION, SESSION, 1, false);
        assertFalse(partner.acceptPunch(notForUs, notForUs.encode(partnersKey)));
        assertFalse(partner.acceptPunch(probe, probe.encode(new byte[32])), "a wrong MAC");
        Punch earlierRun = new Punch(PEER, SELF, PEER_SESSION - 1, SESSION, 1, false);
        assertFalse(partner.acceptPunch(earlierRun, earlierRun.encode(partnersKey)));
        assertEquals(Map.of(PeerDrop.WRONG_SESSION, 2L, PeerDrop.WRONG_KEY, 2L, PeerDrop.BAD_MAC, 1L), drops.snapshot());
    }

    @Test
    void aLeaveCountsOnlyFromThePartnerSealedForItsCurrentSession() {
        Leave leave = new Leave(PEER, PEER_SESSION, 1_700_000_000_000_000L);
        assertFalse(partner.acceptLeave(leave, leave.encode(partnersKey)), "its session is not known yet");
        partner.note(PEER_SESSION);
        assertTrue(partner.acceptLeave(leave, leave.encode(partnersKey)));
        Leave stranger = new Leave(STRANGER, PEER_SESSION, 1_700_000_000_000_000L);
        assertFalse(partner.acceptLeave(stranger, stranger.encode(ControlKeys.peerPeer(STRANGER_KEY, SELF))));
        assertFalse(partner.acceptLeave(leave, leave.encode(new byte[32])));
        partner.note(PEER_SESSION + 1);
        assertFalse(partner.acceptLeave(leave, leave.encode(partnersKey)), "a LEAVE of the partner's earlier run");
        assertEquals(Map.of(PeerDrop.WRONG_SESSION, 2L, PeerDrop.BAD_MAC, 2L), drops.snapshot());
    }

    @Test
    void ourLeaveIsSealedForThePartner() throws MalformedMessageException {
        Leave ours = new Leave(SELF, SESSION, 1_700_000_000_000_000L);
        var sealed = partner.seal(ours);
        assertTrue(ControlMessage.macValid(sealed.duplicate(), partnersKey));
        assertEquals(ours.session(), ((Leave) ControlMessage.decode(sealed)).session());
    }
}
