package io.pinhole.client;

import io.pinhole.client.tun.TunDevice;
import io.pinhole.drops.DropCounters;
import io.pinhole.offload.OffloadException;
import io.pinhole.offload.Segmenter;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * TunSegments: the tun thread's side of TUN offloads. A read from a device with a virtio header
 * ({@link TunDevice#vnetHeader()}) is one record: the header and a packet that may be a TCP or UDP
 * super-packet of up to 64 KB; {@link #split} turns it into MTU-sized IP packets with complete
 * checksums ({@link Segmenter}), each a heap buffer ready for sealing.
 *
 * <p>Buffers are allocated once: the copy of the record and {@value #MAX_SEGMENTS} segment
 * buffers of the MTU plus headroom. Not thread-safe: the tun thread's own.
 *
 * <p>Error contract: a record the segmenter refuses is dropped and counted by its reason
 * ({@link #drops()}); {@link #split} then returns 0 and never throws for any record.
 */
final class TunSegments {
    /** Segments one record may become at most: 64 KB at an MSS of 536 is 123. */
    static final int MAX_SEGMENTS = 128;

    private final Segmenter segmenter = new Segmenter();
    private final byte[] record = new byte[TunDevice.MAX_RECORD];
    private final byte[][] segments;
    private final ByteBuffer[] views;
    private final int[] sizes = new int[MAX_SEGMENTS];
    private final DropCounters<OffloadException.Reason> drops = new DropCounters<>(OffloadException.Reason.class);

    /** For a device of MTU {@code mtu}: every segment is at most that long. */
    TunSegments(int mtu) {
        int size = Math.max(mtu, 1500) + 64;
        segments = new byte[MAX_SEGMENTS][size];
        views = new ByteBuffer[MAX_SEGMENTS];
        for (int i = 0; i < MAX_SEGMENTS; i++) {
            views[i] = ByteBuffer.wrap(segments[i]);
        }
    }

    /**
     * Splits the record {@code read} (position to limit: virtio header and packet).
     *
     * @return how many IP packets {@link #segment} now holds; 0 when the record was refused (counted)
     */
    int split(ByteBuffer read) {
        int length = read.remaining();
        read.get(read.position(), record, 0, length);
        int n;
        try {
            n = segmenter.split(record, 0, length, segments, 0, sizes);
        } catch (OffloadException e) {
            drops.count(e.reason());
            return 0;
        }
        for (int i = 0; i < n; i++) {
            views[i].limit(sizes[i]).position(0);
        }
        return n;
    }

    /** IP packet {@code i} of the last {@link #split}, position 0 to its length. */
    ByteBuffer segment(int i) {
        return views[i];
    }

    /** The records refused, by reason. */
    Map<OffloadException.Reason, Long> drops() {
        return drops.snapshot();
    }
}
