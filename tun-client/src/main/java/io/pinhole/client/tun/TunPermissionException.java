package io.pinhole.client.tun;

/**
 * TunPermissionException signals that the calling process lacks the privilege for the operation (EPERM or EACCES): creating or configuring a TUN device needs root or CAP_NET_ADMIN, and opening /dev/net/tun needs access to the device node. Thrown by {@link TunDevice#open} and {@link TunDevice#configure}.
 *
 * <p>Error contract: as for {@link TunException}, the message names the device, the operation and
 * (for a system call) the errno symbol with its {@code strerror} text, and says what to do.
 *
 * <p>Thread-safety: immutable apart from the {@link Throwable} machinery; may be shared between
 * threads.
 */
public class TunPermissionException extends TunException {
    private static final long serialVersionUID = 1L;

    /** See {@link TunException#TunException(String, String, String, int, Throwable)}. */
    public TunPermissionException(String message, String deviceName, String operation, int errno, Throwable cause) {
        super(message, deviceName, operation, errno, cause);
    }
}
