package io.pinhole.client.tun;

/** Constants from {@code <sys/socket.h>} needed for the interface-control socket. */
final class SysSocket {
    private SysSocket() {
    }

    static final int AF_INET = 2;
    static final int SOCK_DGRAM = 2;
    static final int SOCK_CLOEXEC = Fcntl.O_CLOEXEC;
}
