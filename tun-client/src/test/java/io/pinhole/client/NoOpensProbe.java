package io.pinhole.client;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;

/**
 * NoOpensProbe: run by {@link UdpSenderTest} in a JVM started without
 * {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}: two TTL-limited sends on loopback through
 * {@link UdpSender}, then whether anything arrived. Prints {@code result=...} and
 * {@code received=...} lines on stdout; the sender's log goes to stderr.
 */
public final class NoOpensProbe {
    private NoOpensProbe() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try (DatagramChannel receiver = DatagramChannel.open(StandardProtocolFamily.INET);
             DatagramChannel udp = DatagramChannel.open(StandardProtocolFamily.INET)) {
            receiver.bind(new InetSocketAddress(loopback, 0));
            receiver.configureBlocking(false);
            UdpSender sender = new UdpSender(udp, System::nanoTime);
            InetSocketAddress to = (InetSocketAddress) receiver.getLocalAddress();
            for (int i = 0; i < 2; i++) {
                System.out.println("result=" + sender.sendWithTtl(to, ByteBuffer.wrap(new byte[] {1, 2, 3}), 2));
            }
            Thread.sleep(300);
            ByteBuffer buffer = ByteBuffer.allocate(64);
            System.out.println("received=" + (receiver.receive(buffer) == null ? "nothing" : "a datagram"));
            System.out.println("ok");
        }
    }
}
