package io.pinhole.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NetNamespaceTest {
    @TempDir
    Path dir;

    @Test
    void thisProcessHasANamespaceAndItsLinkSaysWhich() throws Exception {
        long ours = NetNamespace.current();
        assertNotEquals(0, ours);
        assertEquals("net:[" + ours + "]", Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString());
    }

    @Test
    void anythingElseIsUnknown() throws Exception {
        assertEquals(0, NetNamespace.of(dir.resolve("missing")));
        Path link = Files.createSymbolicLink(dir.resolve("l"), Path.of("mnt:[4026531840]"));
        assertEquals(0, NetNamespace.of(link), "another kind of namespace");
        Path net = Files.createSymbolicLink(dir.resolve("n"), Path.of("net:[4026532999]"));
        assertEquals(4_026_532_999L, NetNamespace.of(net));
    }

    @Test
    void theHostsNamespaceKeepsThePlainPathAndAnyOtherGetsItsOwn() {
        assertEquals(Path.of("/run/pinhole/tun0.status"), StatusFile.defaultPath("tun0", 4_026_531_840L, true));
        assertEquals(Path.of("/run/pinhole/tun0.status"), StatusFile.defaultPath("tun0", 0, false), "unknown");
        assertEquals(Path.of("/run/pinhole/tun0@net-4026532999.status"),
                StatusFile.defaultPath("tun0", 4_026_532_999L, false));
        assertTrue(NetNamespace.initial() || NetNamespace.current() != 0);
    }
}
