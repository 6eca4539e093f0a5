package io.pinhole.client.tun;

/**
 * SocketOptionException: {@link SocketTtl} could not limit or restore the IP TTL of a UDP socket,
 * or could not reach the socket's file descriptor at all.
 *
 * <p>Error contract: the message names the socket (its local address and file descriptor), what
 * was being done and, for a failed system call, the call with its arguments, the errno symbol and
 * the {@code strerror} text, e.g. {@code cannot limit the TTL of UDP socket 0.0.0.0:40000 (fd 12):
 * setsockopt(IPPROTO_IP, IP_TTL, 2) failed: EINVAL (Invalid argument)}. {@link #errno()} is 0
 * and {@link #operation()} is {@code getFDVal} when the descriptor was out of reach.
 * {@link #sent()} says whether the datagram had already left when the error happened (only a
 * failed restore, after the send, can say yes).
 *
 * <p>Thread-safety: immutable apart from the {@link Throwable} machinery; may be shared.
 */
public final class SocketOptionException extends ErrnoException {
    private static final long serialVersionUID = 1L;

    private final boolean sent;

    SocketOptionException(String message, String operation, int errno, boolean sent, Throwable cause) {
        super(message, operation, errno, cause);
        this.sent = sent;
    }

    /** True when the datagram had been sent (with the limited TTL) before this error. */
    public boolean sent() {
        return sent;
    }
}
