package io.pinhole.client.tun;

/**
 * Constants from {@code <errno.h>} (asm-generic values used by x86-64, arm64 and riscv) and a
 * number-to-symbol table for error messages.
 */
final class Errno {
    private Errno() {
    }

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int ESRCH = 3;
    static final int EINTR = 4;
    static final int EIO = 5;
    static final int ENXIO = 6;
    static final int E2BIG = 7;
    static final int EBADF = 9;
    static final int EAGAIN = 11;
    static final int ENOMEM = 12;
    static final int EACCES = 13;
    static final int EFAULT = 14;
    static final int EBUSY = 16;
    static final int EEXIST = 17;
    static final int ENODEV = 19;
    static final int ENOTDIR = 20;
    static final int EINVAL = 22;
    static final int ENFILE = 23;
    static final int EMFILE = 24;
    static final int ENOTTY = 25;
    static final int ENOSPC = 28;
    static final int EROFS = 30;
    static final int ERANGE = 34;
    static final int ENAMETOOLONG = 36;
    static final int ENOSYS = 38;
    static final int EBADFD = 77;
    static final int ENOTSOCK = 88;
    static final int EMSGSIZE = 90;
    static final int ENOPROTOOPT = 92;
    static final int EPROTONOSUPPORT = 93;
    static final int EOPNOTSUPP = 95;
    static final int EAFNOSUPPORT = 97;
    static final int EADDRINUSE = 98;
    static final int EADDRNOTAVAIL = 99;
    static final int ENETDOWN = 100;
    static final int ENETUNREACH = 101;
    static final int ENOBUFS = 105;
    static final int ECONNREFUSED = 111;
    static final int EHOSTUNREACH = 113;

    /**
     * Returns the symbolic name of {@code errno} (e.g. {@code "EPERM"}), or {@code "errno N"} for
     * numbers not in the table.
     */
    static String name(int errno) {
        switch (errno) {
            case EPERM: return "EPERM";
            case ENOENT: return "ENOENT";
            case ESRCH: return "ESRCH";
            case EINTR: return "EINTR";
            case EIO: return "EIO";
            case ENXIO: return "ENXIO";
            case E2BIG: return "E2BIG";
            case EBADF: return "EBADF";
            case EAGAIN: return "EAGAIN";
            case ENOMEM: return "ENOMEM";
            case EACCES: return "EACCES";
            case EFAULT: return "EFAULT";
            case EBUSY: return "EBUSY";
            case EEXIST: return "EEXIST";
            case ENODEV: return "ENODEV";
            case ENOTDIR: return "ENOTDIR";
            case EINVAL: return "EINVAL";
            case ENFILE: return "ENFILE";
            case EMFILE: return "EMFILE";
            case ENOTTY: return "ENOTTY";
            case ENOSPC: return "ENOSPC";
            case EROFS: return "EROFS";
            case ERANGE: return "ERANGE";
            case ENAMETOOLONG: return "ENAMETOOLONG";
            case ENOSYS: return "ENOSYS";
            case EBADFD: return "EBADFD";
            case ENOTSOCK: return "ENOTSOCK";
            case EMSGSIZE: return "EMSGSIZE";
            case ENOPROTOOPT: return "ENOPROTOOPT";
            case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
            case EOPNOTSUPP: return "EOPNOTSUPP";
            case EAFNOSUPPORT: return "EAFNOSUPPORT";
            case EADDRINUSE: return "EADDRINUSE";
            case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
            case ENETDOWN: return "ENETDOWN";
            case ENETUNREACH: return "ENETUNREACH";
            case ENOBUFS: return "ENOBUFS";
            case ECONNREFUSED: return "ECONNREFUSED";
            case EHOSTUNREACH: return "EHOSTUNREACH";
            default: return "errno " + errno;
        }
    }
}
