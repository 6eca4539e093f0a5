package io.pinhole.client.privilege;

import io.pinhole.client.tun.ErrnoException;

/**
 * The privilege drop cannot be planned or done: a bad {@code --user} ({@link #usage()} true: the
 * command line is at fault), or a step the kernel refused, or a result that did not take (then
 * the process must not go on: it would parse packets with privileges it was asked to give up).
 *
 * <p>Error contract: the message is one line for the user, naming the user, the call and the
 * errno where there is one, and what to do. Thread-safety: immutable; may be shared.
 */
public final class PrivilegeException extends ErrnoException {
    private static final long serialVersionUID = 1L;

    private final boolean usage;

    PrivilegeException(String message, String operation, int errno, boolean usage) {
        super(message, operation, errno, null);
        this.usage = usage;
    }

    /** A usage error (exit 2): the command line asks for what cannot be. */
    static PrivilegeException usage(String message) {
        return new PrivilegeException(message, "--user", 0, true);
    }

    /** True for a usage error (exit 2), false for a failure of the drop itself (exit 1). */
    public boolean usage() {
        return usage;
    }
}
