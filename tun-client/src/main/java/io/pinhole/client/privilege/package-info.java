/**
 * Least privilege for {@code pinhole up}: once the TUN device, its routes, the UDP socket and the
 * status file are set up, the process switches to an unprivileged user (or, started as a user
 * with capabilities, drops them), sets no-new-privs and checks in {@code /proc/self/status} that
 * it took, so that every packet is parsed without privileges.
 *
 * <p>{@link io.pinhole.client.privilege.PrivilegePlan} decides what to do (pure, tested alone);
 * {@link io.pinhole.client.privilege.PrivilegeDrop} does it through libc (JNA direct mapping,
 * {@code Unistd}); constants live in classes named after their kernel headers ({@code Prctl},
 * {@code Capability}); {@link io.pinhole.client.privilege.ProcStatus} reads back the result.
 * Errors are {@link io.pinhole.client.privilege.PrivilegeException}. Supported: 64-bit Linux
 * with glibc (whose set*id calls change every thread of the process, the JVM's included).
 */
package io.pinhole.client.privilege;
