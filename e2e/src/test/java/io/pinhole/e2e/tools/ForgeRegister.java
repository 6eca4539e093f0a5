package io.pinhole.e2e.tools;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * {@code ForgeRegister HOST PORT LOCALPORT TEMPLATE_HEX}: an attacker without the peer's private
 * key tries to register as that peer. TEMPLATE is a well-formed 320-byte REGISTER (self key,
 * wanted key, session, timestamp) whose MAC is random. It is sent as is; the server answers a
 * REGISTER without a cookie with a CHALLENGE (type 0x56, 68 bytes: header, server key, 16-byte
 * cookie, the REGISTER's 16-byte nonce);
 * the attacker then does what a real client does, puts that cookie into the REGISTER (offset 84)
 * and sends it again with a fresh random MAC, three times. Prints every reply by type; exits 0.
 */
public final class ForgeRegister {
    private ForgeRegister() {}

    static final int COOKIE_AT = 84;
    static final int MAC_AT = 304;
    static final int CHALLENGE_LENGTH = 68;

    public static void main(String[] args) throws Exception {
        InetSocketAddress to = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        byte[] register = HexFormat.of().parseHex(args[3]);
        SecureRandom random = new SecureRandom();
        try (DatagramSocket s = new DatagramSocket(Integer.parseInt(args[2]))) {
            s.setSoTimeout(2000);
            s.send(new DatagramPacket(register, register.length, to));
            byte[] reply = receive(s, "REGISTER without a cookie");
            if (reply == null || reply.length != CHALLENGE_LENGTH || (reply[0] & 0xff) != 0x56) {
                System.out.println("no CHALLENGE: cannot go on");
                return;
            }
            System.arraycopy(reply, 36, register, COOKIE_AT, 16);
            for (int i = 1; i <= 3; i++) {
                byte[] mac = new byte[16];
                random.nextBytes(mac);
                System.arraycopy(mac, 0, register, MAC_AT, 16);
                s.send(new DatagramPacket(register, register.length, to));
                receive(s, "REGISTER with the cookie and random MAC #" + i);
            }
        }
    }

    private static byte[] receive(DatagramSocket s, String after) throws Exception {
        byte[] buf = new byte[2048];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            s.receive(p);
        } catch (SocketTimeoutException e) {
            System.out.println("after " + after + ": no reply");
            return null;
        }
        byte[] got = java.util.Arrays.copyOf(buf, p.getLength());
        System.out.printf("after %s: reply type 0x%02x, %d bytes%n", after, got.length > 0 ? got[0] & 0xff : -1, got.length);
        return got;
    }
}
