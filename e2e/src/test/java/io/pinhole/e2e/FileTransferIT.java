package io.pinhole.e2e;

import static io.pinhole.e2e.Narrator.say;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

import io.pinhole.e2e.Pinhole.Peer;
import io.pinhole.e2e.tools.TcpSink;
import io.pinhole.e2e.tools.TcpSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** 10 MB of random bytes cross the tunnel over TCP and arrive intact. */
@ExtendWith(LabExtension.class)
class FileTransferIT {

    static final int SIZE = 10 * 1024 * 1024;
    static final int PORT = 9000;

    @Test
    void tenMegabytesArriveIntact(Pinhole pinhole) throws Exception {
        Lab lab = pinhole.lab();
        pinhole.startAll();

        Path sent = lab.logDir().resolve("sent.bin");
        Path received = lab.logDir().resolve("received.bin");
        byte[] data = new byte[SIZE];
        new SecureRandom().nextBytes(data);
        Files.write(sent, data);
        say("Made " + SIZE + " random bytes, SHA-256 " + sha256(sent));

        say("B listens on its tunnel address " + Peer.B.local + ":" + PORT + "; A sends the file there.");
        Lab.Proc sink = lab.start("b", "tcp-sink", Pinhole.javaTool(TcpSink.class, Peer.B.local, String.valueOf(PORT), received.toString()));
        assertTrue(sink.awaitLog("listening", Duration.ofSeconds(30)), "the sink did not start listening: " + sink.logText());

        Lab.Result send = lab.exec("a", Duration.ofSeconds(180),
            Pinhole.javaTool(TcpSource.class, Peer.A.remote, String.valueOf(PORT), sent.toString()));
        say("A: " + send.output().strip());
        assertTrue(send.ok(), "sending the file failed: " + send);

        assertTrue(Lab.await(Duration.ofSeconds(30), Duration.ofMillis(100), () -> !sink.isAlive()), "the sink never finished");
        assertEquals(Optional.of(0), sink.exitCode(), "the sink failed: " + sink.logText());
        say("B: " + sink.logText().strip().replace('\n', ' '));

        say("What B received is what A sent: same size, same SHA-256.");
        assertEquals(SIZE, Files.size(received), "received size");
        assertEquals(sha256(sent), sha256(received), "SHA-256 of received file");
        Files.delete(sent); // 20 MB per run: kept only when the test fails
        Files.delete(received);
    }

    static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
