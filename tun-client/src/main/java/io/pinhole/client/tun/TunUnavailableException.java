package io.pinhole.client.tun;

/**
 * TunUnavailableException signals that the TUN driver cannot be reached: {@code /dev/net/tun} is missing or has no driver behind it (ENOENT, ENODEV, ENXIO). The fix is to load the {@code tun} kernel module or create the device node. Thrown by {@link TunDevice#open}.
 *
 * <p>Error contract: as for {@link TunException}, the message names the device, the operation and
 * (for a system call) the errno symbol with its {@code strerror} text, and says what to do.
 *
 * <p>Thread-safety: immutable apart from the {@link Throwable} machinery; may be shared between
 * threads.
 */
public class TunUnavailableException extends TunException {
    private static final long serialVersionUID = 1L;

    /** See {@link TunException#TunException(String, String, String, int, Throwable)}. */
    public TunUnavailableException(String message, String deviceName, String operation, int errno, Throwable cause) {
        super(message, deviceName, operation, errno, cause);
    }
}
