package io.pinhole.client.tun;

import java.io.IOException;

/**
 * ErrnoException is the base of the native layer's errors ({@link TunException} for the TUN
 * device, {@link SocketOptionException} for the UDP socket's TTL): an operation that failed and,
 * when a system call failed, its errno.
 *
 * <p>Error contract: the message is complete and ready for a user (the subclasses say what it
 * names); {@link #operation()} and {@link #errno()} give the parts a program may act on.
 *
 * <p>Thread-safety: instances are immutable apart from the {@link Throwable} machinery (stack
 * trace, suppressed exceptions) and may be shared between threads.
 */
public abstract class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final int errno;

    /**
     * @param message   the full message
     * @param operation the system call, ioctl or step that failed, e.g. {@code "TUNSETIFF"}
     * @param errno     the errno value, or 0 if the error did not come from a system call
     * @param cause     the underlying exception, may be null
     */
    protected ErrnoException(String message, String operation, int errno, Throwable cause) {
        super(message, cause);
        this.operation = operation;
        this.errno = errno;
    }

    /** The failed operation, e.g. {@code "TUNSETIFF"}, {@code "read"}, {@code "setsockopt(IPPROTO_IP, IP_TTL, 2)"}. */
    public String operation() {
        return operation;
    }

    /** The errno value of the failed system call, or 0 if the error did not come from one. */
    public int errno() {
        return errno;
    }

    /** The errno symbol, e.g. {@code "EPERM"}, or {@code ""} if {@link #errno()} is 0. */
    public String errnoName() {
        return errno == 0 ? "" : Errno.name(errno);
    }
}
