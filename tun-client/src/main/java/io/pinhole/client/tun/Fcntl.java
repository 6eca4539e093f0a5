package io.pinhole.client.tun;

/** Constants from {@code <fcntl.h>} (asm-generic values: x86-64, arm64, riscv). */
final class Fcntl {
    private Fcntl() {
    }

    static final int O_RDONLY = 0;
    static final int O_WRONLY = 1;
    static final int O_RDWR = 2;
    static final int O_NONBLOCK = 04000;
    static final int O_CLOEXEC = 02000000;
}
