package io.pinhole.client.tun;

import static io.pinhole.client.tun.TunErrors.Phase.CONFIGURE;
import static io.pinhole.client.tun.TunErrors.Phase.CREATE;
import static io.pinhole.client.tun.TunErrors.Phase.READ;
import static io.pinhole.client.tun.TunErrors.Phase.WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TunErrorsTest {

    @Test
    void epermOnCreateIsPermissionWithTheDocumentedMessage() {
        RuntimeException cause = new RuntimeException("errno 1");
        TunException e = TunErrors.forErrno(CREATE, "tun0", "TUNSETIFF", null, Errno.EPERM,
                "Operation not permitted", cause);
        assertSame(TunPermissionException.class, e.getClass());
        assertEquals("cannot create TUN device tun0: TUNSETIFF failed: EPERM (Operation not permitted):"
                + " pinhole must run as root or with CAP_NET_ADMIN", e.getMessage());
        assertEquals("tun0", e.deviceName());
        assertEquals("TUNSETIFF", e.operation());
        assertEquals(Errno.EPERM, e.errno());
        assertEquals("EPERM", e.errnoName());
        assertSame(cause, e.getCause());
        assertInstanceOf(IOException.class, e);
    }

    @Test
    void eaccesOpeningTheCloneDeviceIsPermission() {
        TunException e = TunErrors.forErrno(CREATE, "tun0", "open", "/dev/net/tun", Errno.EACCES,
                "Permission denied", null);
        assertSame(TunPermissionException.class, e.getClass());
        assertEquals("cannot create TUN device tun0: open (/dev/net/tun) failed: EACCES (Permission denied):"
                + " pinhole must run as root or with CAP_NET_ADMIN", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {Errno.ENOENT, Errno.ENODEV, Errno.ENXIO})
    void missingDriverIsUnavailable(int errno) {
        TunException e = TunErrors.forErrno(CREATE, "tun0", "open", "/dev/net/tun", errno, "some text", null);
        assertSame(TunUnavailableException.class, e.getClass());
        assertTrue(e.getMessage().startsWith("cannot create TUN device tun0: open (/dev/net/tun) failed: "
                + Errno.name(errno) + " (some text): "), e.getMessage());
        assertTrue(e.getMessage().contains("load the tun module (modprobe tun)"), e.getMessage());
        assertTrue(e.getMessage().contains("mknod /dev/net/tun c 10 200"), e.getMessage());
    }

    @Test
    void ebusyOnCreateIsNameTaken() {
        TunException e = TunErrors.forErrno(CREATE, "tun0", "TUNSETIFF", null, Errno.EBUSY,
                "Device or resource busy", null);
        assertSame(TunNameTakenException.class, e.getClass());
        assertTrue(e.getMessage().startsWith("cannot create TUN device tun0: TUNSETIFF failed: EBUSY"
                + " (Device or resource busy): a TUN device with that name is already in use by another process"),
                e.getMessage());
    }

    @Test
    void existingNonTunInterfaceIsNameTaken() {
        TunException e = TunErrors.nameTakenByOtherInterface("eth0", "TUNSETIFF", Errno.EINVAL,
                "Invalid argument", null);
        assertSame(TunNameTakenException.class, e.getClass());
        assertTrue(e.getMessage().startsWith("cannot create TUN device eth0: TUNSETIFF failed: EINVAL"
                + " (Invalid argument): an interface with that name already exists and is not a TUN device"),
                e.getMessage());
    }

    @Test
    void otherCreateErrorsArePlainTunExceptions() {
        TunException e = TunErrors.forErrno(CREATE, "tun0", "TUNSETIFF", null, Errno.EINVAL, "Invalid argument", null);
        assertSame(TunException.class, e.getClass());
        assertEquals("cannot create TUN device tun0: TUNSETIFF failed: EINVAL (Invalid argument)", e.getMessage());
    }

    @Test
    void configureErrorsAreConfigExceptionsWithTheArgument() {
        TunException e = TunErrors.forErrno(CONFIGURE, "tun0", "SIOCSIFMTU", "mtu 70000", Errno.EINVAL,
                "Invalid argument", null);
        assertSame(TunConfigException.class, e.getClass());
        assertEquals("cannot configure TUN device tun0: SIOCSIFMTU (mtu 70000) failed: EINVAL (Invalid argument):"
                + " the kernel rejected the value", e.getMessage());

        TunException gone = TunErrors.forErrno(CONFIGURE, "tun0", "SIOCSIFADDR", "10.0.0.1", Errno.ENODEV,
                "No such device", null);
        assertSame(TunConfigException.class, gone.getClass());
        assertTrue(gone.getMessage().endsWith("ENODEV (No such device): the device no longer exists"));
    }

    @Test
    void permissionErrorsDuringConfigureArePermissionExceptions() {
        TunException e = TunErrors.forErrno(CONFIGURE, "tun0", "SIOCSIFADDR", "10.0.0.1", Errno.EPERM,
                "Operation not permitted", null);
        assertSame(TunPermissionException.class, e.getClass());
        assertTrue(e.getMessage().startsWith("cannot configure TUN device tun0: SIOCSIFADDR (10.0.0.1) failed: EPERM"));
    }

    @Test
    void readAndWriteErrorsArePlainTunExceptionsWithHints() {
        TunException detached = TunErrors.forErrno(READ, "tun0", "read", null, Errno.EBADFD,
                "File descriptor in bad state", null);
        assertSame(TunException.class, detached.getClass());
        assertEquals("cannot read from TUN device tun0: read failed: EBADFD (File descriptor in bad state):"
                + " the device was detached from this file descriptor (deleted with 'ip link del'?)",
                detached.getMessage());

        TunException bad = TunErrors.forErrno(WRITE, "tun0", "write", "3 bytes", Errno.EINVAL, "Invalid argument", null);
        assertSame(TunException.class, bad.getClass());
        assertTrue(bad.getMessage().startsWith("cannot write to TUN device tun0: write (3 bytes) failed: EINVAL"
                + " (Invalid argument): the kernel rejected the packet"), bad.getMessage());
    }

    @Test
    void closedHasNoErrno() {
        TunClosedException e = TunErrors.closed("tun0", "write");
        assertEquals("TUN device tun0 is closed: cannot write", e.getMessage());
        assertEquals(0, e.errno());
        assertEquals("", e.errnoName());
        assertEquals("write", e.operation());
    }

    @Test
    void unknownErrnoIsShownByNumber() {
        assertEquals("errno 4242", Errno.name(4242));
        TunException e = TunErrors.forErrno(READ, "tun0", "poll", null, 4242, "Unknown error 4242", null);
        assertTrue(e.getMessage().contains("poll failed: errno 4242 (Unknown error 4242)"), e.getMessage());
    }

    @Test
    void strerrorComesFromLibc() {
        String text = LibC.describe(Errno.EPERM);
        assertFalse(text.isBlank());
        assertFalse(text.startsWith("unknown error"), text);
    }
}
