#!/usr/bin/env python3
"""The table of bench/device-tables.sh: medians (min-max) per JDK, peer count and case.

  device_tables_report.py RAW [--update FILE]

RAW: lines "label TAB peers TAB case TAB ns_per_operation"; RAW.meta: KEY=VALUE lines (config=
may repeat). Prints the markdown; with --update, puts it between the device-tables.sh markers of
FILE.
"""
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_report import micro_run_end, micro_run_header  # noqa: E402

CASES = [
    ("route-v4", "route by destination, IPv4 (`CryptokeyRoutingTable.destination`)"),
    ("route-v6", "route by destination, IPv6"),
    ("source-v4", "source check, IPv4 (`CryptokeyRoutingTable.checkSource`)"),
    ("linear-route-v4", "baseline: route by destination over N per-peer `AllowedIps` lists"),
    ("trie-route-v4", "alternative: route by destination, IPv4 multibit trie (stride 8; bench-only)"),
    ("index", "receiver index lookup (`IndexTable.get`)"),
    ("hashmap-index", "baseline: `HashMap<Integer, ...>.get`"),
    ("update", "control side: one insert or remove (snapshot rebuild)"),
]
PEERS = ["1", "1000"]


def main():
    raw = Path(sys.argv[1])
    update = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--update" else None
    ns = defaultdict(list)
    labels = []
    for line in raw.read_text().splitlines():
        label, peers, case, value = line.split("\t")
        ns[(label, peers, case)].append(float(value))
        if label not in labels:
            labels.append(label)

    def cell(v):
        if not v:
            return "-"
        med = statistics.median(v)
        return f"{med:,.1f} ({min(v):,.1f}-{max(v):,.1f})" if med < 1000 else f"{med:,.0f} ({min(v):,.0f}-{max(v):,.0f})"

    out = micro_run_header(raw)
    head = ["ns per operation, one core: median (min-max)"] + [f"{l}, {p} peer{'s' if p != '1' else ''}"
                                                               for l in labels for p in PEERS]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for case, text in CASES:
        cells = [cell(ns.get((l, p, case))) for l in labels for p in PEERS]
        out.append("| " + " | ".join([f"`{case}`: {text}"] + cells) + " |")
    micro_run_end(out, ns, "JDKs", "bench/device-tables.sh", update)


if __name__ == "__main__":
    main()
