package io.pinhole.client.tun;

/** Constants from {@code <sys/eventfd.h>}. */
final class Eventfd {
    private Eventfd() {
    }

    static final int EFD_CLOEXEC = Fcntl.O_CLOEXEC;
    static final int EFD_NONBLOCK = Fcntl.O_NONBLOCK;
}
