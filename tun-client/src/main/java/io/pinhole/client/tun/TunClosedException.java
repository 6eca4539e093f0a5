package io.pinhole.client.tun;

/**
 * TunClosedException signals that the operation was attempted on a {@link TunDevice} that has been closed. {@link TunDevice#write} and {@link TunDevice#configure} throw it; {@link TunDevice#read} returns -1 instead. {@link #errno()} is 0.
 *
 * <p>Error contract: as for {@link TunException}, the message names the device, the operation and
 * (for a system call) the errno symbol with its {@code strerror} text, and says what to do.
 *
 * <p>Thread-safety: immutable apart from the {@link Throwable} machinery; may be shared between
 * threads.
 */
public class TunClosedException extends TunException {
    private static final long serialVersionUID = 1L;

    /** See {@link TunException#TunException(String, String, String, int, Throwable)}. */
    public TunClosedException(String message, String deviceName, String operation, int errno, Throwable cause) {
        super(message, deviceName, operation, errno, cause);
    }
}
