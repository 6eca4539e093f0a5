package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real TUN devices, each test in its own freshly created network namespace ({@code phtun-*}),
 * driven through a child JVM started with {@code ip netns exec}; nothing is created in, or sent
 * into, the root namespace. Needs root, /dev/net/tun and iproute2: otherwise the tests fail when
 * CI=true and are aborted with the reason when not.
 */
@Timeout(300)
class TunDeviceNetnsTest {
    private static final String LOCAL = TunNetnsChild.LOCAL.getHostAddress();
    private static final String PEER = TunNetnsChild.PEER.getHostAddress();

    private static String ip;

    @BeforeAll
    static void requireRealDevices() {
        ip = RealTunEnvironment.requireRootTunAndIp();
    }

    @Test
    void openAndConfigureShowAddressPeerMtuUpAndRoute_thenCloseRemovesTheDevice() {
        try (Netns ns = Netns.create(ip); ChildJvm child = ChildJvm.start(ns, "configure", "tun0")) {
            assertEquals("tun0", child.await("opened").get("name"), child::details);
            assertEquals("0", child.await("read-timeout").get("result"), "read timeout on a quiet device returns 0");
            child.await("configured");
            child.awaitPause("inspect");

            String addr = ns.ip("-4", "-o", "addr", "show", "dev", "tun0").orFail();
            assertTrue(addr.contains("inet " + LOCAL + " peer " + PEER + "/32"), addr);
            String link = ns.ip("link", "show", "dev", "tun0").orFail();
            assertTrue(link.contains(" mtu 1400 "), link);
            Set<String> flags = linkFlags(link);
            assertTrue(flags.contains("UP"), "flags " + flags);
            assertTrue(flags.contains("POINTOPOINT"), "flags " + flags);
            String route = ns.ip("-4", "route", "get", PEER).orFail();
            assertTrue(route.contains(PEER + " dev tun0 "), route);

            child.resume();
            assertEquals("false", child.await("closed").get("isOpen"));
            child.awaitPause("after-close");
            Exec.Result gone = ns.ip("link", "show", "dev", "tun0");
            assertFalse(gone.ok(), "tun0 should be gone after close(), but: " + gone.output());
            assertTrue(gone.output().contains("does not exist"), gone.output());
            child.resume();
            child.awaitSuccess();
        }
    }

    @Test
    void routesThroughTheDeviceAndIpv6OffOrOn() {
        try (Netns ns = Netns.create(ip); ChildJvm child = ChildJvm.start(ns, "routes")) {
            assertEquals("true", child.await("ipv6-off").get("written"), child::details);
            Map<String, String> again = child.await("again");
            assertEquals("TunConfigException", again.get("result"), child::details);
            assertEquals("EEXIST", again.get("errno"));
            assertEquals("SIOCADDRT", again.get("operation"));
            assertTrue(again.get("message").startsWith("cannot configure TUN device tun0: SIOCADDRT "
                    + "(192.168.77.0/24 dev tun0) failed: EEXIST (File exists): it exists already"), again.get("message"));
            assertEquals("true", child.await("ipv6-on").get("written"), child::details);
            child.await("routed");
            child.awaitPause("inspect");

            String v4 = ns.ip("-4", "route", "show", "dev", "tun0").orFail();
            assertTrue(v4.lines().anyMatch(l -> l.startsWith("192.168.77.0/24 ")), v4);
            assertTrue(v4.lines().anyMatch(l -> l.startsWith("10.20.0.1 ")), v4);
            String v6 = ns.ip("-6", "route", "show", "dev", "tun1").orFail();
            assertTrue(v6.lines().anyMatch(l -> l.startsWith("fd77::/64 ") && l.contains("metric 1024")), v6);
            assertEquals("1", ns.exec("cat", "/proc/sys/net/ipv6/conf/tun0/disable_ipv6").orFail().strip());
            assertEquals("0", ns.exec("cat", "/proc/sys/net/ipv6/conf/tun1/disable_ipv6").orFail().strip());
            String addr6 = ns.ip("-6", "addr", "show", "dev", "tun0").orFail();
            assertEquals("", addr6.strip(), "no IPv6 address on tun0 with IPv6 off");
            child.resume();
            child.awaitSuccess();
        }
    }

    @ParameterizedTest(name = "{0} buffers")
    @ValueSource(strings = {"direct", "heap"})
    void writtenPacketReachesTheKernel_andPingToPeerIsReadFromTheDevice(String bufferKind) {
        String ping = RealTunEnvironment.requirePing();
        try (Netns ns = Netns.create(ip); ChildJvm child = ChildJvm.start(ns, "traffic", "tun0", bufferKind, ping)) {
            child.await("configured");

            Map<String, String> written = child.await("udp-written");
            assertEquals("0", written.get("srcRemaining"), "write consumes the buffer");
            Map<String, String> udp = child.await("udp-received");
            assertEquals(written.get("payload"), udp.get("payload"), child::details);
            assertEquals(PEER + ":40000", udp.get("from"));

            Map<String, String> pinged = child.await("ping");
            Map<String, String> req = child.await("icmp-request");
            assertAll(
                    () -> assertEquals("true", req.get("seen"), "echo request read from the device"),
                    () -> assertEquals("4", req.get("version")),
                    () -> assertEquals("1", req.get("protocol")),
                    () -> assertEquals(LOCAL, req.get("src")),
                    () -> assertEquals(PEER, req.get("dst")),
                    () -> assertEquals("8", req.get("type")),
                    () -> assertEquals("0", pinged.get("exit"),
                            "ping got the echo reply written back to the device: " + pinged.get("output")));

            Map<String, String> threads = child.await("threads");
            assertEquals("false", threads.get("readerAlive"), child::details);
            assertEquals("false", threads.get("writerAlive"), child::details);
            assertEquals("null", threads.get("readerFailure"), child::details);
            assertEquals("null", threads.get("writerFailure"), child::details);
            child.awaitSuccess();
        }
    }

    @Test
    void secondOpenOfABusyNameAndOpenOfANonTunInterfaceAreNameTaken() {
        try (Netns ns = Netns.create(ip); ChildJvm child = ChildJvm.start(ns, "name-taken", "tun0")) {
            assertEquals("tun0", child.await("opened").get("name"));

            Map<String, String> busy = child.await("taken");
            assertEquals("busy", busy.get("case"));
            assertEquals("TunNameTakenException", busy.get("result"), child::details);
            assertEquals("EBUSY", busy.get("errno"));
            assertEquals("TUNSETIFF", busy.get("operation"));
            assertTrue(busy.get("message").startsWith(
                    "cannot create TUN device tun0: TUNSETIFF failed: EBUSY (Device or resource busy): "),
                    busy.get("message"));

            Map<String, String> lo = child.await("taken");
            assertEquals("not-tun", lo.get("case"));
            assertEquals("TunNameTakenException", lo.get("result"), child::details);
            assertEquals("lo", lo.get("device"));
            assertTrue(lo.get("message").startsWith("cannot create TUN device lo: TUNSETIFF failed: EINVAL"
                    + " (Invalid argument): an interface with that name already exists"), lo.get("message"));

            assertEquals("tun0", child.await("reopened").get("name"), "name is free again after close");
            child.awaitSuccess();
        }
    }

    @Test
    void mtuTheKernelRejectsIsTunConfigException() {
        try (Netns ns = Netns.create(ip); ChildJvm child = ChildJvm.start(ns, "bad-mtu", "pht%d")) {
            String name = child.await("opened").get("name");
            assertTrue(name.matches("pht\\d+"), "kernel-assigned name, got " + name);

            for (String mtu : new String[] {"70000", "20"}) {
                Map<String, String> bad = child.await("bad-mtu");
                assertEquals(mtu, bad.get("mtu"));
                assertEquals("TunConfigException", bad.get("result"), child::details);
                assertEquals("EINVAL", bad.get("errno"));
                assertEquals("SIOCSIFMTU", bad.get("operation"));
                assertEquals("cannot configure TUN device " + name + ": SIOCSIFMTU (mtu " + mtu
                        + ") failed: EINVAL (Invalid argument): the kernel rejected the value", bad.get("message"));
            }
            child.await("configured");
            child.awaitPause("inspect");
            String link = ns.ip("link", "show", "dev", name).orFail();
            assertTrue(link.contains(" mtu 1280 "), link);
            assertTrue(linkFlags(link).contains("UP"), link);
            child.resume();
            child.awaitSuccess();
        }
    }

    @Test
    void closeWhileAReaderIsBlockedMakesItReturnAndFreesTheDevice() {
        try (Netns ns = Netns.create(ip); ChildJvm child = ChildJvm.start(ns, "close-while-reading", "tun0")) {
            child.await("opened");
            Map<String, String> reader = child.await("reader");
            assertEquals("false", reader.get("alive"), "reader still blocked 30 s after close()\n" + child.details());
            assertEquals("-1", reader.get("result"), child::details);
            assertEquals("null", reader.get("failure"));

            Map<String, String> after = child.await("after-close");
            assertEquals("-1", after.get("read"));
            assertEquals("TunClosedException: TUN device tun0 is closed: cannot write", after.get("write"));
            assertEquals("TunClosedException: TUN device tun0 is closed: cannot configure", after.get("configure"));
            assertEquals("false", after.get("isOpen"));

            child.awaitPause("after-close");
            Exec.Result gone = ns.ip("link", "show", "dev", "tun0");
            assertFalse(gone.ok(), "tun0 should be gone after close(), but: " + gone.output());
            child.resume();
            child.awaitSuccess();
        }
    }

    @Test
    void deletingTheInterfaceUnderAnOpenDeviceIsReportedAsDetached() {
        try (Netns ns = Netns.create(ip); ChildJvm child = ChildJvm.start(ns, "deleted-while-open", "tun0")) {
            child.await("opened");
            child.awaitPause("delete-it");
            ns.ip("link", "del", "dev", "tun0").orFail();
            child.resume();
            Map<String, String> deleted = child.await("deleted");
            String detached = "cannot read from TUN device tun0: read failed: EBADFD (File descriptor in bad state):"
                    + " the device was detached from this file descriptor (deleted with 'ip link del'?)";
            assertEquals("TunException|EBADFD|" + detached, deleted.get("read"), child::details);
            assertTrue(deleted.get("write").startsWith("TunException|EBADFD|cannot write to TUN device tun0: write"),
                    deleted.get("write"));
            child.awaitSuccess();
        }
    }

    /** The flags between angle brackets of {@code ip link show}. */
    private static Set<String> linkFlags(String link) {
        Matcher m = Pattern.compile("<([^>]*)>").matcher(link);
        assertTrue(m.find(), link);
        return Arrays.stream(m.group(1).split(",")).collect(Collectors.toSet());
    }
}
