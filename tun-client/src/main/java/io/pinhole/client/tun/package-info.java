/**
 * The pinhole client's native layer: Linux TUN device access ({@link io.pinhole.client.tun.TunDevice}
 * and its error types, all subclasses of {@link io.pinhole.client.tun.TunException}), and the
 * per-datagram IP TTL of the client's UDP socket ({@link io.pinhole.client.tun.SocketTtl}, errors
 * as {@link io.pinhole.client.tun.SocketOptionException}).
 *
 * <p>Native calls use JNA direct mapping ({@code LibC}); kernel constants live in classes named
 * after their headers ({@code IfTun}, {@code Sockios}, {@code If}, {@code Fcntl}, {@code Errno},
 * {@code Poll}, {@code Eventfd}, {@code SysSocket}, {@code In}); the {@code struct ifreq} layout is in
 * {@code Ifreq}. Supported: 64-bit Linux with the generic ioctl/errno encoding (x86-64, arm64).
 */
package io.pinhole.client.tun;
