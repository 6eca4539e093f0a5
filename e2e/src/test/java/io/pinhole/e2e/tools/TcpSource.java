package io.pinhole.e2e.tools;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/** {@code TcpSource HOST PORT FILE}: connects to HOST:PORT, sends FILE, closes, prints the byte count. */
public final class TcpSource {
    private TcpSource() {}

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[2]);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(args[0], Integer.parseInt(args[1])), 10_000);
            try (InputStream in = Files.newInputStream(file); OutputStream out = s.getOutputStream()) {
                long n = in.transferTo(out);
                out.flush();
                s.shutdownOutput();
                // wait for the sink to close its side: it has read everything
                while (s.getInputStream().read() >= 0) {
                    // nothing is sent back
                }
                System.out.println("sent " + n + " bytes");
            }
        }
    }
}
