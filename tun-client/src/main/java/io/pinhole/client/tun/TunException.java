package io.pinhole.client.tun;

import java.io.IOException;

/**
 * TunException is the base of every error {@link TunDevice} reports: a failed system call, or use
 * of a closed device. The subclasses name the causes an operator can act on
 * ({@link TunPermissionException}, {@link TunUnavailableException}, {@link TunNameTakenException},
 * {@link TunConfigException}, {@link TunClosedException}); anything else is reported as a plain
 * TunException.
 *
 * <p>Error contract: the message always names the device, the operation that failed and, for a
 * failed system call, the errno symbol and its {@code strerror} text, e.g.
 * {@code cannot create TUN device tun0: TUNSETIFF failed: EPERM (Operation not permitted): pinhole
 * must run as root or with CAP_NET_ADMIN}. The same parts are available from {@link #deviceName()},
 * {@link #operation()} and {@link #errno()}.
 *
 * <p>Thread-safety: instances are immutable apart from the {@link Throwable} machinery (stack
 * trace, suppressed exceptions) and may be shared between threads.
 */
public class TunException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String deviceName;
    private final String operation;
    private final int errno;

    /**
     * @param message    the full message
     * @param deviceName the device name as requested or as created
     * @param operation  the system call or ioctl that failed, e.g. {@code "TUNSETIFF"}
     * @param errno      the errno value, or 0 if the error did not come from a system call
     * @param cause      the underlying exception, may be null
     */
    public TunException(String message, String deviceName, String operation, int errno, Throwable cause) {
        super(message, cause);
        this.deviceName = deviceName;
        this.operation = operation;
        this.errno = errno;
    }

    /** The device name (as requested, or as created by the kernel once known). */
    public String deviceName() {
        return deviceName;
    }

    /** The failed operation, e.g. {@code "TUNSETIFF"}, {@code "SIOCSIFMTU"}, {@code "read"}. */
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
