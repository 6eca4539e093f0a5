/**
 * Linux TUN device access for the pinhole client: {@link io.pinhole.client.tun.TunDevice} and its
 * error types, all subclasses of {@link io.pinhole.client.tun.TunException}.
 *
 * <p>Native calls use JNA direct mapping ({@code LibC}); kernel constants live in classes named
 * after their headers ({@code IfTun}, {@code Sockios}, {@code If}, {@code Fcntl}, {@code Errno},
 * {@code Poll}, {@code Eventfd}, {@code SysSocket}); the {@code struct ifreq} layout is in
 * {@code Ifreq}. Supported: 64-bit Linux with the generic ioctl/errno encoding (x86-64, arm64).
 */
package io.pinhole.client.tun;
