package io.pinhole.client.tun;

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
public class TunException extends ErrnoException {
    private static final long serialVersionUID = 1L;

    private final String deviceName;

    /**
     * @param message    the full message
     * @param deviceName the device name as requested or as created
     * @param operation  the system call or ioctl that failed, e.g. {@code "TUNSETIFF"}
     * @param errno      the errno value, or 0 if the error did not come from a system call
     * @param cause      the underlying exception, may be null
     */
    public TunException(String message, String deviceName, String operation, int errno, Throwable cause) {
        super(message, operation, errno, cause);
        this.deviceName = deviceName;
    }

    /** The device name (as requested, or as created by the kernel once known). */
    public String deviceName() {
        return deviceName;
    }
}
