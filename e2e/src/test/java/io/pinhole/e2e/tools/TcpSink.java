package io.pinhole.e2e.tools;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code TcpSink ADDR PORT FILE}: accepts one TCP connection on ADDR:PORT, writes everything it
 * receives to FILE, prints the byte count and exits. Prints "listening" once bound.
 */
public final class TcpSink {
    private TcpSink() {}

    public static void main(String[] args) throws Exception {
        InetAddress addr = InetAddress.getByName(args[0]);
        int port = Integer.parseInt(args[1]);
        Path file = Path.of(args[2]);
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(addr, port));
            System.out.println("listening on " + addr.getHostAddress() + ":" + port);
            System.out.flush();
            try (Socket s = server.accept(); InputStream in = s.getInputStream(); OutputStream out = Files.newOutputStream(file)) {
                System.out.println("connection from " + s.getRemoteSocketAddress());
                long t0 = System.nanoTime();
                long n = in.transferTo(out);
                double secs = (System.nanoTime() - t0) / 1e9;
                System.out.printf("received %d bytes in %.2f s (%.1f Mbit/s)%n", n, secs, n * 8 / 1e6 / Math.max(secs, 1e-9));
            }
        }
    }
}
