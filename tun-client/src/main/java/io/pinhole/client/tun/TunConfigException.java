package io.pinhole.client.tun;

/**
 * TunConfigException signals that an interface ioctl failed while {@link TunDevice#configure} was setting the address, peer, netmask, MTU or flags, e.g. EINVAL for an MTU outside the device's range. The device may be partially configured afterwards; it stays open and usable.
 *
 * <p>Error contract: as for {@link TunException}, the message names the device, the operation and
 * (for a system call) the errno symbol with its {@code strerror} text, and says what to do.
 *
 * <p>Thread-safety: immutable apart from the {@link Throwable} machinery; may be shared between
 * threads.
 */
public class TunConfigException extends TunException {
    private static final long serialVersionUID = 1L;

    /** See {@link TunException#TunException(String, String, String, int, Throwable)}. */
    public TunConfigException(String message, String deviceName, String operation, int errno, Throwable cause) {
        super(message, deviceName, operation, errno, cause);
    }
}
