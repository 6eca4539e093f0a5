package io.pinhole.client.privilege;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PrivilegePlanTest {
    private static final UserAccount NOBODY = new UserAccount("nobody", 65534, 65534);
    private static final UserAccount PINHOLE = new UserAccount("pinhole", 998, 997);
    private static final UserAccount TOOR = new UserAccount("toor", 0, 0);
    private static final Function<String, Optional<UserAccount>> USERS = name -> Optional.ofNullable(
            Map.of("nobody", NOBODY, "pinhole", PINHOLE, "toor", TOOR, "root", new UserAccount("root", 0, 0)).get(name));
    private static final String NEW_KERNEL = "6.18.44-fc-v1098";
    private static final long ALL = 0x1ff_ffff_ffffL;
    private static final long NET_RAW = 1L << 13;

    @Test
    void rootWithoutUserRunsAsNobody_withNoCapabilities() throws PrivilegeException {
        PrivilegePlan plan = PrivilegePlan.decide(0, null, USERS, ALL, NEW_KERNEL, true);
        assertEquals(PrivilegePlan.Action.SWITCH_USER, plan.action());
        assertEquals(NOBODY, plan.user());
        assertEquals(0, plan.keep(), "spare sockets bind to a device unprivileged on Linux 5.7+");
        assertEquals("", plan.why());
    }

    @Test
    void rootWithUserRunsAsThatUser() throws PrivilegeException {
        PrivilegePlan plan = PrivilegePlan.decide(0, "pinhole", USERS, ALL, NEW_KERNEL, false);
        assertEquals(PrivilegePlan.Action.SWITCH_USER, plan.action());
        assertEquals(PINHOLE, plan.user());
        assertEquals(0, plan.keep());
    }

    @Test
    void userRootKeepsRoot_andSaysWhatThatMeans() throws PrivilegeException {
        PrivilegePlan plan = PrivilegePlan.decide(0, "root", USERS, ALL, NEW_KERNEL, true);
        assertEquals(PrivilegePlan.Action.NONE, plan.action());
        assertNull(plan.user());
        assertEquals("--user root: every packet is parsed as root, with all its capabilities", plan.why());
    }

    @Test
    void anotherNameForUidZeroIsRefused_itWouldKeepRootUnnoticed() {
        PrivilegeException e = assertThrows(PrivilegeException.class,
                () -> PrivilegePlan.decide(0, "toor", USERS, ALL, NEW_KERNEL, true));
        assertTrue(e.usage());
        assertEquals("--user toor has uid 0, which is root: give an unprivileged user, or --user root to stay root "
                + "knowingly", e.getMessage());
    }

    @Test
    void anUnknownUserIsAUsageError() {
        PrivilegeException e = assertThrows(PrivilegeException.class,
                () -> PrivilegePlan.decide(0, "nosuch", USERS, ALL, NEW_KERNEL, true));
        assertTrue(e.usage());
        assertEquals("--user nosuch: no such user (`getent passwd nosuch` finds none)", e.getMessage());
    }

    @Test
    void noNobodyOnTheSystemIsASetupFailure_sayingWhatToGive() {
        PrivilegeException e = assertThrows(PrivilegeException.class,
                () -> PrivilegePlan.decide(0, null, name -> Optional.empty(), ALL, NEW_KERNEL, true));
        assertFalse(e.usage());
        assertTrue(e.getMessage().startsWith("no user 'nobody' to run as after set-up: give --user NAME"), e.getMessage());
    }

    @Test
    void oldKernelWithBoundSpareSocketsKeepsOnlyNetRaw_andSaysWhy() throws PrivilegeException {
        PrivilegePlan plan = PrivilegePlan.decide(0, null, USERS, ALL, "5.4.0-150-generic", true);
        assertEquals(NET_RAW, plan.keep());
        assertEquals("kernel 5.4.0-150-generic (before 5.7) lets only CAP_NET_RAW bind the spare sockets of birthday "
                + "punching to the underlay device", plan.why());
        assertEquals("CAP_NET_RAW", PrivilegePlan.capabilityNames(plan.keep()));
        assertEquals(0, PrivilegePlan.decide(0, null, USERS, ALL, "5.4.0-150-generic", false).keep(),
                "nothing is bound later: nothing kept");
    }

    @Test
    void startedAsAUserItDropsItsCapabilities_keepingOnlyWhatItHasAndNeeds() throws PrivilegeException {
        PrivilegePlan plan = PrivilegePlan.decide(998, null, USERS, 1L << 12, NEW_KERNEL, true);
        assertEquals(PrivilegePlan.Action.DROP_CAPABILITIES, plan.action());
        assertNull(plan.user());
        assertEquals(0, plan.keep());
        assertEquals(0, PrivilegePlan.decide(998, null, USERS, 1L << 12, "5.4.0", true).keep(),
                "CAP_NET_RAW cannot be kept when it is not there");
        assertEquals(NET_RAW, PrivilegePlan.decide(998, null, USERS, NET_RAW | 1L << 12, "5.4.0", true).keep());
        assertEquals(PrivilegePlan.Action.DROP_CAPABILITIES,
                PrivilegePlan.decide(998, "pinhole", USERS, 0, NEW_KERNEL, true).action(), "--user oneself is fine");
    }

    @Test
    void startedAsAUserItCannotSwitchToAnother() {
        PrivilegeException e = assertThrows(PrivilegeException.class,
                () -> PrivilegePlan.decide(998, "nobody", USERS, 0, NEW_KERNEL, true));
        assertTrue(e.usage());
        assertEquals("--user nobody needs root: started as uid 998, pinhole can only drop its own capabilities "
                + "(leave --user out)", e.getMessage());
    }

    @ParameterizedTest
    @CsvSource({"6.18.44-fc-v1098, true", "5.7.0, true", "5.10.0-28-amd64, true", "5.6.19, false", "4.19.0, false",
        "'', false", "garbage, false", "99999999999.1, false"})
    void soBindToDeviceIsUnprivilegedFromLinux57(String release, boolean unprivileged) {
        assertEquals(unprivileged, PrivilegePlan.bindToDeviceUnprivileged(release));
    }
}
