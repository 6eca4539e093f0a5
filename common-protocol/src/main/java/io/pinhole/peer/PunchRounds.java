package io.pinhole.peer;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * PunchRounds: when a {@link PeerMachine} punches, and to where. Its one job: the schedule of
 * punching rounds and of the upgrade attempts between them.
 *
 * <ul>
 *   <li>A round ({@link #begin}) probes its targets (the partner's LAN candidates first, then its
 *       observed endpoint, then a direct endpoint that used to work) every
 *       {@link PeerTimers#punchInterval} plus up to a quarter of it of jitter, for
 *       {@link PeerTimers#punchRound}; with openers sent, the first full probes wait
 *       {@link Traversal#openerLead}.
 *   <li>A round for a direct path that opens one on a target while a better-ranked target may
 *       still answer goes on for {@link Traversal#lanSettle} at most ({@link #settle}); else it stops.
 *   <li>While relayed, the next upgrade round follows after {@link Traversal#upgradeInterval}
 *       plus up to a tenth of it ({@link #scheduleUpgrade}); a birthday attempt takes the first
 *       failed round's turn and then every {@value Birthday#EVERY}th ({@link #birthdayTurn}).
 * </ul>
 *
 * <p>Pure: time is an argument (monotonic nanoseconds, any origin, overflow-safe comparisons); it
 * sends nothing: {@link #tick} says when the caller sends the probes. Error contract: no method
 * throws for any input.
 *
 * <p>Not thread-safe: owned by the control side of its {@link PeerMachine}, which the edge serialises.
 */
final class PunchRounds {
    /** What a tick of a running round asks for. */
    enum Step {
        /** Nothing now. */
        WAIT,
        /** Send a probe to every target that ranks better than the path. */
        PROBE,
        /** The round's time is up without a path that ends it: it stopped. */
        OVER,
        /** The LAN settle time after a direct path opened is up: the round stopped. */
        SETTLED
    }

    private final long intervalNanos;
    private final long roundNanos;
    private final long openerLeadNanos;
    private final long lanSettleNanos;
    private final long upgradeNanos;
    private final SecureRandom random;

    /** Where probes go, best first: the partner's LAN candidates, then its observed endpoint. */
    private final List<InetSocketAddress> targets = new ArrayList<>();
    /** True while a round runs (in PUNCHING, or in the background of a relayed or LAN-settling path). */
    private boolean running;
    private long startedAt;
    private long endsAt;
    private long nextProbeAt;
    /** True while a LAN-settling round (a direct path is open, a better one may answer) runs, until {@link #settleEndsAt}. */
    private boolean settling;
    private long settleEndsAt;
    private long attempts;
    private long nextUpgradeAt;
    /** Rounds for a direct path that ended on the relay: birthday attempts follow some of them. */
    private long failedUpgrades;

    /**
     * @param timers the punch interval and round length
     * @param traversal the opener lead, the LAN settle time and the upgrade interval
     * @param random where the jitter comes from
     */
    PunchRounds(PeerTimers timers, Traversal traversal, SecureRandom random) {
        this.intervalNanos = timers.punchInterval().toNanos();
        this.roundNanos = timers.punchRound().toNanos();
        this.openerLeadNanos = traversal.openerLead().toNanos();
        this.lanSettleNanos = traversal.lanSettle().toNanos();
        this.upgradeNanos = traversal.upgradeInterval().toNanos();
        this.random = random;
    }

    /**
     * Starts a round to {@code newTargets} (best first) at {@code now}: the first probes are due at
     * once, or after the opener lead when the caller sent openers.
     */
    void begin(long now, Collection<InetSocketAddress> newTargets, boolean openersSent) {
        targets.clear();
        targets.addAll(newTargets);
        running = true;
        attempts++;
        startedAt = now;
        endsAt = now + roundNanos;
        settling = false;
        nextProbeAt = openersSent ? now + openerLeadNanos : now;
    }

    /** The running round's step at {@code now}; call only while {@link #running}. */
    Step tick(long now) {
        if (now - endsAt >= 0) {
            running = false;
            return Step.OVER;
        }
        if (settling && now - settleEndsAt >= 0) {
            running = false; // a direct path is open; no better one answered
            return Step.SETTLED;
        }
        if (now - nextProbeAt < 0) {
            return Step.WAIT;
        }
        nextProbeAt = now + intervalNanos + Math.floorMod(random.nextLong(), intervalNanos / 4 + 1);
        return Step.PROBE;
    }

    /** True if the round's first probes are due at {@code now} (no opener lead). */
    boolean probesDue(long now) {
        return nextProbeAt == now;
    }

    /**
     * A direct path opened, with rank {@code pathRank}: the running round goes on for the LAN
     * settle time if a target ranks better, and stops otherwise.
     */
    void settle(long now, int pathRank, ToIntFunction<InetSocketAddress> rank) {
        if (!running) {
            return;
        }
        boolean better = false;
        for (InetSocketAddress target : targets) {
            better |= rank.applyAsInt(target) < pathRank;
        }
        if (better) {
            long settled = now + lanSettleNanos;
            settling = true;
            settleEndsAt = settled - endsAt < 0 ? settled : endsAt; // the earlier of the two, overflow-safe
        } else {
            running = false;
        }
    }

    /** Stops the running round, if any. */
    void stop() {
        running = false;
    }

    /** True while a round runs. */
    boolean running() {
        return running;
    }

    /** The latest round's targets, best first. */
    List<InetSocketAddress> targets() {
        return targets;
    }

    /** When the latest round started. */
    long startedAt() {
        return startedAt;
    }

    /** How long a round lasts. */
    long roundNanos() {
        return roundNanos;
    }

    /** Rounds started for a direct path (the first one included). */
    long attempts() {
        return attempts;
    }

    /** Schedules the next upgrade round after the upgrade interval, jittered by up to a tenth; returns the wait. */
    long scheduleUpgrade(long now) {
        long wait = upgradeNanos + (upgradeNanos > 10 ? Math.floorMod(random.nextLong(), upgradeNanos / 10) : 0);
        nextUpgradeAt = now + wait;
        return wait;
    }

    /** There was nothing to punch to: the next upgrade round is due after a round's length. */
    void retrySoon(long now) {
        nextUpgradeAt = now + roundNanos;
    }

    /** True once the next upgrade round is due. */
    boolean upgradeDue(long now) {
        return now - nextUpgradeAt >= 0;
    }

    /** A round for a direct path ended on the relay. */
    void upgradeFailed() {
        failedUpgrades++;
    }

    /** True if the latest failed upgrade is one a birthday attempt follows (the first, then every {@value Birthday#EVERY}th). */
    boolean birthdayTurn() {
        return (failedUpgrades - 1) % Birthday.EVERY == 0;
    }
}
