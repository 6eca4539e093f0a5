package io.pinhole.sim;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.function.Supplier;

/**
 * VirtualClock: a wall clock for tests whose instant comes from a supplier (usually virtual
 * monotonic time plus a base date), so wall time moves with the test's virtual time. UTC.
 */
public final class VirtualClock extends Clock {
    private final Supplier<Instant> instant;

    private VirtualClock(Supplier<Instant> instant) {
        this.instant = instant;
    }

    /** A clock reading {@code instant} each time it is asked. */
    public static Clock of(Supplier<Instant> instant) {
        return new VirtualClock(instant);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return instant.get();
    }
}
