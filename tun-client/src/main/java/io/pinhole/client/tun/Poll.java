package io.pinhole.client.tun;

/**
 * Constants from {@code <poll.h>} and the layout of {@code struct pollfd}:
 * <pre>
 *   offset 0       4          6           8
 *          +-------+----------+-----------+
 *          | int fd| short    | short     |
 *          |       | events   | revents   |
 *          +-------+----------+-----------+
 * </pre>
 */
final class Poll {
    private Poll() {
    }

    static final short POLLIN = 0x001;
    static final short POLLPRI = 0x002;
    static final short POLLOUT = 0x004;
    static final short POLLERR = 0x008;
    static final short POLLHUP = 0x010;
    static final short POLLNVAL = 0x020;

    static final int POLLFD_SIZE = 8;
    static final int FD_OFFSET = 0;
    static final int EVENTS_OFFSET = 4;
    static final int REVENTS_OFFSET = 6;
}
