package io.pinhole.client;

import io.pinhole.drops.DropCounters;
import io.pinhole.offload.Coalescer;
import io.pinhole.offload.OffloadException;
import io.pinhole.offload.VirtioNetHdr;
import io.pinhole.wireguard.SessionDataPath;
import java.nio.ByteBuffer;
import java.util.Map;

/**
 * TunCoalescing: the udp thread's way to a TUN device with a virtio header (GRO in software).
 * The IP packets the data path opens are collected, each in a slot of its own with room before it
 * ({@link SessionDataPath#PLAIN_OFFSET}), and at {@link #flush} (the end of a receive batch, or
 * when the slots are full) consecutive TCP segments of a flow are merged into super-packets of up to
 * 64 KB ({@link Coalescer}) and written one record per write; so the kernel takes one write, and one
 * trip up its stack, per super-packet instead of per segment. Packets longer than a slot go alone.
 *
 * <p>Buffers are allocated once. Not thread-safe: the udp thread's own.
 *
 * <p>Error contract: a write that fails goes to the given {@link Writes} error handler (logged and
 * counted by the runtime); a batch the coalescer cannot take (it should always take one) is written
 * packet by packet and counted in {@link #drops()} by reason; nothing is lost there.
 */
final class TunCoalescing {
    /** Packets per coalescing batch. */
    static final int SLOTS = 64;

    /** Where records and plain packets go; failures are the caller's to count. */
    interface Writes {
        void record(byte[] b, int off, int len);

        void packet(ByteBuffer packet);
    }

    private final Coalescer coalescer = new Coalescer(SLOTS);
    private final int slotSize;
    private final byte[][] slots = new byte[SLOTS][];
    private final ByteBuffer[] views = new ByteBuffer[SLOTS];
    private final int[] offsets = new int[SLOTS];
    private final int[] lengths = new int[SLOTS];
    private final byte[] arena;
    private final byte[][] outBufs = new byte[SLOTS][];
    private final int[] outOffsets = new int[SLOTS];
    private final int[] outLengths = new int[SLOTS];
    private final ByteBuffer big = ByteBuffer.allocate(io.pinhole.peer.PeerDataPath.BUFFER_SIZE);
    private final Writes writes;
    private final DropCounters<OffloadException.Reason> fallbacks = new DropCounters<>(OffloadException.Reason.class);
    private int pending;
    private long records;
    private long packets;

    /** For datagrams from a peer of tunnel MTU about {@code mtu}; larger ones are written alone. */
    TunCoalescing(int mtu, Writes writes) {
        this.writes = writes;
        this.slotSize = Math.max(mtu, 1500) + 64 + SessionDataPath.OVERHEAD;
        for (int i = 0; i < SLOTS; i++) {
            slots[i] = new byte[slotSize];
            views[i] = ByteBuffer.wrap(slots[i]);
        }
        arena = new byte[SLOTS * (slotSize + VirtioNetHdr.SIZE)];
    }

    /** The buffer to open a datagram of {@code length} bytes into. */
    ByteBuffer bufferFor(int length) {
        return length <= slotSize ? views[pending].clear() : big.clear();
    }

    /** The data path left an IP packet in {@code buffer} (from {@link #bufferFor}), position to limit. */
    void opened(ByteBuffer buffer) {
        if (buffer == big) {
            writes.packet(big);
            packets++;
            return;
        }
        offsets[pending] = buffer.position();
        lengths[pending] = buffer.remaining();
        pending++;
        if (pending == SLOTS) {
            flush();
        }
    }

    /** Writes what is collected: coalesced records, one write each. */
    void flush() {
        if (pending == 0) {
            return;
        }
        int n = pending;
        pending = 0;
        int out;
        try {
            out = coalescer.coalesce(slots, offsets, lengths, n, arena, outBufs, outOffsets, outLengths);
        } catch (OffloadException e) {
            fallbacks.count(e.reason());
            for (int i = 0; i < n; i++) {
                writes.packet(views[i].limit(offsets[i] + lengths[i]).position(offsets[i]));
            }
            packets += n;
            return;
        }
        for (int k = 0; k < out; k++) {
            writes.record(outBufs[k], outOffsets[k], outLengths[k]);
        }
        records += out;
        packets += n;
    }

    /** Batches the coalescer refused (written packet by packet instead), by reason. */
    Map<OffloadException.Reason, Long> drops() {
        return fallbacks.snapshot();
    }

    /** Packets written so far and the writes they took: packets per write is the GRO gain. */
    String summary() {
        return packets + " packets in " + records + " coalesced writes";
    }
}
