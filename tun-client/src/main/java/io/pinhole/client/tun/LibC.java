package io.pinhole.client.tun;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The libc functions pinhole's native layer needs (the TUN device, the TTL of the UDP socket and
 * the batched UDP socket), bound with JNA direct mapping.
 *
 * <p>Every binding that can fail declares {@link LastErrorException}: JNA clears errno before the
 * call and throws with the errno value if the call set it, so a normal return means success.
 * {@code open} and {@code ioctl} are variadic in C; they are bound with a fixed argument list,
 * which matches the calling convention on the supported 64-bit Linux ABIs (x86-64, arm64).
 * {@code size_t}, {@code ssize_t}, {@code nfds_t} and {@code unsigned long} map to
 * {@link NativeLong}, {@code socklen_t} to {@code int}; an {@code int} option value is passed as an
 * {@code int[]} of length 1, which direct mapping pins or copies for the call.
 */
final class LibC {
    static {
        Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private LibC() {
    }

    /** {@code int open(const char *path, int flags)}. */
    static native int open(String path, int flags) throws LastErrorException;

    /** {@code int close(int fd)}. */
    static native int close(int fd) throws LastErrorException;

    /** {@code int ioctl(int fd, unsigned long request, void *arg)}. */
    static native int ioctl(int fd, NativeLong request, Pointer arg) throws LastErrorException;

    /** {@code ssize_t read(int fd, void *buf, size_t count)}. */
    static native NativeLong read(int fd, Pointer buf, NativeLong count) throws LastErrorException;

    /** {@code ssize_t write(int fd, const void *buf, size_t count)}. */
    static native NativeLong write(int fd, Pointer buf, NativeLong count) throws LastErrorException;

    /** {@code int poll(struct pollfd *fds, nfds_t nfds, int timeout)}; layout in {@link Poll}. */
    static native int poll(Pointer fds, NativeLong nfds, int timeout) throws LastErrorException;

    /** {@code int socket(int domain, int type, int protocol)}. */
    static native int socket(int domain, int type, int protocol) throws LastErrorException;

    /** {@code int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)}. */
    static native int setsockopt(int fd, int level, int optname, int[] optval, int optlen) throws LastErrorException;

    /** {@code setsockopt} with a byte-string value (e.g. {@code SO_BINDTODEVICE}'s interface name). */
    static native int setsockopt(int fd, int level, int optname, byte[] optval, int optlen) throws LastErrorException;

    /** {@code int getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)}. */
    static native int getsockopt(int fd, int level, int optname, int[] optval, int[] optlen)
            throws LastErrorException;

    /** {@code int bind(int fd, const struct sockaddr *addr, socklen_t len)}. */
    static native int bind(int fd, Pointer addr, int len) throws LastErrorException;

    /** {@code int getsockname(int fd, struct sockaddr *addr, socklen_t *len)}. */
    static native int getsockname(int fd, Pointer addr, int[] len) throws LastErrorException;

    /**
     * {@code int recvmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout)}.
     * Declared without {@link LastErrorException}, for the packet path: it returns -1 on failure
     * and the errno is {@link com.sun.jna.Native#getLastError()} (no exception is made for an
     * {@code EAGAIN}).
     */
    static native int recvmmsg(int fd, Pointer msgvec, int vlen, int flags, Pointer timeout);

    /**
     * {@code int sendmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags)}; as
     * {@link #recvmmsg}, -1 and {@link com.sun.jna.Native#getLastError()} on failure.
     */
    static native int sendmmsg(int fd, Pointer msgvec, int vlen, int flags);

    /** {@code int eventfd(unsigned int initval, int flags)}. */
    static native int eventfd(int initval, int flags) throws LastErrorException;

    /** {@code char *strerror(int errnum)}; used only to build messages. */
    static native String strerror(int errnum);

    /** {@link #strerror} that never throws: falls back to a fixed text if the call fails. */
    static String describe(int errno) {
        try {
            String s = strerror(errno);
            return s == null || s.isBlank() ? "unknown error " + errno : s;
        } catch (RuntimeException | LinkageError e) {
            return "unknown error " + errno;
        }
    }
}
