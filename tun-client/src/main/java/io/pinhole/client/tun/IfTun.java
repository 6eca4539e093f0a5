package io.pinhole.client.tun;

/**
 * Constants from {@code <linux/if_tun.h>}: TUN/TAP ioctl requests and {@code TUNSETIFF} flags.
 *
 * <p>Request numbers are the {@code _IOW('T', nr, int)} encodings of the generic ioctl layout
 * (x86, x86-64, arm, arm64, riscv); architectures with a different {@code _IOC} encoding
 * (mips, powerpc, sparc, alpha) are not supported.
 */
final class IfTun {
    private IfTun() {
    }

    /** {@code _IOW('T', 202, int)}: attach this fd to (and if needed create) a TUN/TAP device. */
    static final int TUNSETIFF = 0x400454ca;
    /** {@code _IOW('T', 203, int)}: make the device persistent (survive closing the fd). Unused. */
    static final int TUNSETPERSIST = 0x400454cb;
    /** {@code _IOR('T', 210, unsigned int)}: read back the name and flags of the attached device. */
    static final int TUNGETIFF = 0x800454d2;

    /** Layer-3 device: reads and writes carry raw IP packets. */
    static final short IFF_TUN = 0x0001;
    /** Layer-2 device (Ethernet frames). Unused by pinhole. */
    static final short IFF_TAP = 0x0002;
    /** Do not prepend the 4-byte {@code struct tun_pi} packet information header. */
    static final short IFF_NO_PI = 0x1000;
    /** Multi-queue device. Unused. */
    static final short IFF_MULTI_QUEUE = 0x0100;
    /** Reported by {@link #TUNGETIFF} for persistent devices. */
    static final short IFF_PERSIST = 0x0800;
    /** Fail with EBUSY if a device of that name exists at all. Unused (see TunDevice.open). */
    static final short IFF_TUN_EXCL = (short) 0x8000;

    /** The character device that hands out TUN/TAP file descriptors. */
    static final String CLONE_DEVICE = "/dev/net/tun";
}
