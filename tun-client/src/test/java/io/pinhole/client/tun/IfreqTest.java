package io.pinhole.client.tun;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class IfreqTest {

    private static byte[] name(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Bytes of a 16-bit value in host order, as the kernel expects for short members. */
    private static byte[] hostShort(int v) {
        return ByteBuffer.allocate(2).order(ByteOrder.nativeOrder()).putShort((short) v).array();
    }

    private static byte[] hostInt(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(v).array();
    }

    @Test
    void is40BytesWithNulPaddedNameAtOffsetZero() {
        byte[] b = Ifreq.withName(name("tun0")).toByteArray();
        assertEquals(40, b.length);
        assertArrayEquals(name("tun0"), Arrays.copyOfRange(b, 0, 4));
        assertArrayEquals(new byte[36], Arrays.copyOfRange(b, 4, 40), "rest of name and union are zero");
    }

    @Test
    void fifteenByteNameLeavesTheTerminatingNul() {
        Ifreq r = Ifreq.withName(name("abcdefghijklmno"));
        assertEquals(0, r.toByteArray()[15]);
        assertEquals("abcdefghijklmno", r.name());
        assertThrows(IllegalArgumentException.class, () -> Ifreq.withName(name("abcdefghijklmnop")));
    }

    @Test
    void nameIsReadBackUpToFirstNul() {
        Ifreq r = Ifreq.withName(name("tun%d"));
        byte[] raw = r.array(); // what the kernel does after TUNSETIFF
        Arrays.fill(raw, 0, 16, (byte) 0);
        System.arraycopy(name("tun12"), 0, raw, 0, 5);
        assertEquals("tun12", r.name());
    }

    @Test
    void flagsAreAHostOrderShortAtOffset16() {
        Ifreq r = Ifreq.withName(name("tun0")).flags(IfTun.IFF_TUN | IfTun.IFF_NO_PI);
        byte[] b = r.toByteArray();
        assertArrayEquals(hostShort(0x1001), Arrays.copyOfRange(b, 16, 18));
        assertArrayEquals(new byte[22], Arrays.copyOfRange(b, 18, 40));
        assertEquals(0x1001, r.flags());
        assertEquals(0x8000 | If.IFF_UP, r.flags(0x8000 | If.IFF_UP).flags(), "flags read back unsigned");
    }

    @Test
    void mtuIsAHostOrderIntAtOffset16() {
        Ifreq r = Ifreq.withName(name("tun0")).intValue(1400);
        assertArrayEquals(hostInt(1400), Arrays.copyOfRange(r.toByteArray(), 16, 20));
        assertEquals(1400, r.intValue());
    }

    @Test
    void addressIsASockaddrInAtOffset16() throws Exception {
        Inet4Address a = (Inet4Address) InetAddress.getByName("10.1.2.3");
        Ifreq r = Ifreq.withName(name("tun0")).address(a);
        byte[] b = r.toByteArray();
        assertArrayEquals(hostShort(2), Arrays.copyOfRange(b, 16, 18), "sin_family AF_INET, host order");
        assertArrayEquals(new byte[] {0, 0}, Arrays.copyOfRange(b, 18, 20), "sin_port 0");
        assertArrayEquals(new byte[] {10, 1, 2, 3}, Arrays.copyOfRange(b, 20, 24), "sin_addr, network order");
        assertArrayEquals(new byte[16], Arrays.copyOfRange(b, 24, 40), "sin_zero and union tail");
        assertEquals(a, r.address());
    }

    @Test
    void settingAMemberClearsTheWholeUnion() throws Exception {
        Ifreq r = Ifreq.withName(name("tun0"))
                .address((Inet4Address) InetAddress.getByName("255.255.255.255"))
                .flags(If.IFF_UP);
        assertArrayEquals(new byte[22], Arrays.copyOfRange(r.toByteArray(), 18, 40));
    }

    @Test
    void readingAnAddressOfAnotherFamilyFails() {
        Ifreq r = Ifreq.withName(name("tun0")).intValue(10); // family field = 10 (AF_INET6) on LE
        assertThrows(IllegalStateException.class, r::address);
    }
}
