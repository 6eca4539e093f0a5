package io.pinhole.client.tun;

/**
 * TunNameTakenException signals that the requested device name cannot be used: a TUN device of that name is attached to another file descriptor, typically another process (EBUSY), or an interface of that name exists and is not a TUN device that can be attached (EINVAL from TUNSETIFF while the name exists). Thrown by {@link TunDevice#open}.
 *
 * <p>Error contract: as for {@link TunException}, the message names the device, the operation and
 * (for a system call) the errno symbol with its {@code strerror} text, and says what to do.
 *
 * <p>Thread-safety: immutable apart from the {@link Throwable} machinery; may be shared between
 * threads.
 */
public class TunNameTakenException extends TunException {
    private static final long serialVersionUID = 1L;

    /** See {@link TunException#TunException(String, String, String, int, Throwable)}. */
    public TunNameTakenException(String message, String deviceName, String operation, int errno, Throwable cause) {
        super(message, deviceName, operation, errno, cause);
    }
}
