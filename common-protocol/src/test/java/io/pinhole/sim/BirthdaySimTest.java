package io.pinhole.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pinhole.peer.PathKind;
import io.pinhole.peer.Traversal;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * BirthdaySimTest: birthday punching between a symmetric NAT (a) and a home router (b) in the
 * simulated network: which sockets end up carrying the path, and that it is birthday punching
 * that finds it.
 */
class BirthdaySimTest {
    private static SimLab lab(long seed) {
        SimLab lab = SimLab.of(seed, seed * 1_000_003L, SimLab.Mode.SYMMETRIC, SimLab.Mode.HOME);
        lab.net.latency(Duration.ofMillis(1)).jitter(Duration.ofMillis(10));
        return lab;
    }

    @Test
    void theSymmetricSideKeepsTheOneSpareSocketThatWasHitAndTheEasySideUsesItsMainSocket() {
        SimLab lab = lab(3);
        assertTrue(lab.startAndConnect(Duration.ofSeconds(45)), lab::describe);
        assertTrue(lab.bothDirect(Duration.ofSeconds(30)), "on the relay first, then direct: " + lab.describe());
        assertTrue(lab.pingBothWays(Duration.ofSeconds(2)));

        assertEquals(PathKind.DIRECT, lab.a.machine().path());
        assertEquals(PathKind.DIRECT, lab.b.machine().path());
        assertEquals(256, lab.a.mostSpareSockets());
        int socket = lab.a.machine().pathSocket();
        assertTrue(socket > 0, "a's path is on a spare socket, not " + socket);
        assertEquals(1, lab.a.spareSockets(), "the others are closed");
        assertEquals(0, lab.b.machine().pathSocket());
        assertEquals(0, lab.b.spareSockets());
        assertEquals(lab.publicNatA().publicAddress(), lab.b.machine().endpoint().getAddress());

        lab.net.runFor(Duration.ofMinutes(2));
        assertTrue(lab.pingBothWays(Duration.ofSeconds(2)), "the path holds: " + lab.describe());
        assertEquals(socket, lab.a.machine().pathSocket());
    }

    @Test
    void withoutBirthdayPunchingTheSamePairFindsNoDirectPath() {
        SimLab lab = lab(3);
        lab.a.withTraversal(Traversal.defaults().withBirthday(false));
        lab.b.withTraversal(Traversal.defaults().withBirthday(false));
        assertTrue(lab.startAndConnect(Duration.ofSeconds(45)), "on the relay");
        assertFalse(lab.bothDirect(Duration.ofSeconds(45)), lab::describe);
        assertFalse(lab.a.machine().path() == PathKind.DIRECT, lab::describe);
        assertEquals(0, lab.a.mostSpareSockets());
    }
}
