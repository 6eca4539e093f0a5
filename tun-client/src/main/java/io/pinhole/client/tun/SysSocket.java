package io.pinhole.client.tun;

/** Constants from {@code <sys/socket.h>} (and {@code <asm-generic/socket.h>}) for pinhole's sockets. */
final class SysSocket {
    private SysSocket() {
    }

    static final int AF_INET = 2;
    static final int AF_INET6 = 10;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = Fcntl.O_CLOEXEC;
    /** {@code <asm-generic/socket.h>}: the socket level of {@code setsockopt}. */
    static final int SOL_SOCKET = 1;
    /** {@code <asm-generic/socket.h>}: bind a socket to one network device. */
    static final int SO_BINDTODEVICE = 25;
    static final int SOCK_NONBLOCK = Fcntl.O_NONBLOCK;
    static final int SO_SNDBUF = 7;
    static final int SO_RCVBUF = 8;
    /** As {@link #SO_SNDBUF}, past {@code net.core.wmem_max}; needs CAP_NET_ADMIN. */
    static final int SO_SNDBUFFORCE = 32;
    /** As {@link #SO_RCVBUF}, past {@code net.core.rmem_max}; needs CAP_NET_ADMIN. */
    static final int SO_RCVBUFFORCE = 33;
    /** {@code recvmsg} flag: the datagram was longer than the buffer (its tail is lost). */
    static final int MSG_TRUNC = 0x20;
    /** Do not block this one call. */
    static final int MSG_DONTWAIT = 0x40;
}
