#!/usr/bin/env python3
"""The table of bench/aead.sh: medians (min-max) per configuration and case.

  aead_report.py RAW [--update FILE]

RAW: lines "label TAB java.version TAB case TAB ns_per_packet" plus a trailing Gb/s column;
RAW.meta: KEY=VALUE lines (config= may repeat). Prints the markdown; with --update, puts it
between the aead.sh markers of FILE.
"""
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_report import micro_run_end, micro_run_header  # noqa: E402

CASES = [
    ("pinhole-aead", "pinhole's ChaCha20Poly1305 today (Cipher.init with new specs per seal and open)"),
    ("jdk-min-array", "JDK minimum: key spec once, new nonce + init + doFinal, heap array in place"),
    ("jdk-min-direct", "the same on a direct ByteBuffer"),
    ("java-candidate", "plain-Java candidate (bench's JavaChaCha20Poly1305: key once, no allocation, in place)"),
    ("session", "whole WireGuardSession send + receive (framing, copies, replay, AEAD)"),
]


def main():
    raw = Path(sys.argv[1])
    update = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--update" else None
    ns = defaultdict(list)
    labels = []
    for line in raw.read_text().splitlines():
        label, _version, case, value, _gbps = line.split("\t")
        ns[(label, case)].append(float(value))
        if label not in labels:
            labels.append(label)
    out = micro_run_header(raw)
    head = ["seal+open of 1,420 B, one core: ns/packet median (min-max); Gb/s at the median"] + labels
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for case, text in CASES:
        cells = []
        for label in labels:
            v = ns.get((label, case))
            if not v:
                cells.append("-")
                continue
            med = statistics.median(v)
            cells.append(f"{med:,.0f} ({min(v):,.0f}-{max(v):,.0f}); {1420 * 8 / med:.2f} Gb/s")
        out.append("| " + " | ".join([f"`{case}`: {text}"] + cells) + " |")
    micro_run_end(out, ns, "configurations", "bench/aead.sh", update)


if __name__ == "__main__":
    main()
