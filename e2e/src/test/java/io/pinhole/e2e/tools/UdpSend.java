package io.pinhole.e2e.tools;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * {@code UdpSend HOST PORT FILE GAP_MICROS}: sends the datagrams listed in FILE to HOST:PORT,
 * one per line as {@code LOCALPORT HEX} (an empty datagram is a lone {@code LOCALPORT -}), each
 * from a socket bound to that local port, GAP_MICROS apart; then prints how many it sent from
 * each port. A test maps local ports to spoofed sources with nftables in the sender's namespace.
 * Bounded: the lines of FILE, then exit.
 */
public final class UdpSend {
    private UdpSend() {}

    public static void main(String[] args) throws Exception {
        InetSocketAddress to = new InetSocketAddress(args[0], Integer.parseInt(args[1]));
        List<String> lines = Files.readAllLines(Path.of(args[2]));
        long gapNanos = Long.parseLong(args[3]) * 1000;
        Map<Integer, DatagramSocket> sockets = new LinkedHashMap<>();
        Map<Integer, int[]> sent = new LinkedHashMap<>();
        long bytes = 0;
        try {
            for (String line : lines) {
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.split("\\s+");
                int port = Integer.parseInt(f[0]);
                byte[] data = f.length < 2 || f[1].equals("-") ? new byte[0] : HexFormat.of().parseHex(f[1]);
                DatagramSocket s = sockets.get(port);
                if (s == null) {
                    s = new DatagramSocket(port);
                    sockets.put(port, s);
                }
                s.send(new DatagramPacket(data, data.length, to));
                sent.computeIfAbsent(port, p -> new int[1])[0]++;
                bytes += data.length;
                if (gapNanos > 0) {
                    LockSupport.parkNanos(gapNanos);
                }
            }
        } finally {
            for (DatagramSocket s : sockets.values()) {
                s.close();
            }
        }
        StringBuilder sb = new StringBuilder("sent to " + to + ": " + bytes + " bytes;");
        sent.forEach((port, n) -> sb.append(" ").append(n[0]).append(" from port ").append(port));
        System.out.println(sb);
    }
}
