package io.pinhole.client.tun;

/** Constants from {@code <sys/socket.h>} needed for the interface-control socket. */
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
}
