#!/usr/bin/env python3
"""The table of bench/compare.sh: medians, min-max and ratios from the run's raw results.

  compare_report.py WORKDIR [--update FILE]

WORKDIR holds what compare.sh wrote: tools.tsv (id, label, kind: pinhole|nebula|wg, one a line,
in column order), results.tsv (tool id, metric, value; a metric measured several times has several
lines) and meta.env (KEY=VALUE lines: machine, kernel, JDKs, commit, command, ...). Prints the
markdown section; with --update, replaces the part of FILE between the compare.sh markers with it
(or appends it when FILE has no markers).
"""
import statistics
import sys
from collections import defaultdict
from pathlib import Path



def markers(script):
    """The comments around the part of docs/performance.md that SCRIPT writes."""
    return (f"<!-- {script}: begin (written by the script; edits here are overwritten) -->",
            f"<!-- {script}: end -->")


def micro_run_header(raw):
    """The opening lines of a micro-benchmark's run (aead.sh, device-tables.sh) from RAW.meta:
    KEY=VALUE lines (date, command, nproc, cpu, kernel, commit; config= may repeat)."""
    meta = defaultdict(list)
    for line in Path(str(raw) + ".meta").read_text().splitlines():
        k, v = line.split("=", 1)
        meta[k].append(v)

    def one(k):
        return meta[k][0] if meta[k] else "?"

    out = [f"### Run of {one('date')}", "", f"Command: `{one('command')}`", ""]
    out.append(f"- machine: {one('nproc')} CPUs, {one('cpu')}; kernel {one('kernel')}; commit {one('commit')}")
    for c in meta["config"]:
        out.append(f"- {c}")
    out.append("")
    return out


def micro_run_end(out, ns, across, script, update):
    """Ends a micro-benchmark's run: the count of measurements per cell (NS: cell -> values,
    interleaved ACROSS what), prints the section and, with UPDATE (a file), puts it between
    SCRIPT's markers there."""
    n = {len(v) for v in ns.values()}
    out.append("")
    out.append(f"Each cell: {', '.join(str(x) for x in sorted(n))} measurements (JVM launches x rounds inside each), "
               f"interleaved across {across} and cases.")
    body = "\n".join(out) + "\n"
    print(body)
    if update:
        update_section(update, script, body)


def update_section(path, script, body):
    """Puts BODY between SCRIPT's markers in the file PATH (appended, with the markers, if absent)."""
    begin, end = markers(script)
    section = f"{begin}\n\n{body.rstrip()}\n\n{end}\n"
    path = Path(path)
    text = path.read_text() if path.exists() else ""
    if begin in text and end in text:
        post = text[text.index(end) + len(end):].lstrip("\n")
        text = text[: text.index(begin)] + section + ("\n" + post if post else "")
    else:
        text = text + ("\n" if text and not text.endswith("\n\n") else "") + section
    path.write_text(text)

# metric, row label, decimals
ROWS = [
    ("tcp1_ab", "TCP 1 stream a->b, Mb/s", 0),
    ("tcp1_ba", "TCP 1 stream b->a, Mb/s", 0),
    ("tcp4_ab", "TCP 4 streams a->b, Mb/s", 0),
    ("tcp4_ba", "TCP 4 streams b->a, Mb/s", 0),
    ("cpu_gb", "CPU-s per GB, both tunnel processes (every transfer)", 1),
    ("cpu_gb_1", "CPU-s per GB, 1-stream transfers", 1),
    ("cpu_gb_4", "CPU-s per GB, 4-stream transfers", 1),
    ("rss_idle_a", "RSS idle after start, a, MB", 0),
    ("rss_idle_b", "RSS idle after start, b, MB", 0),
    ("rss_peak_a", "peak RSS (VmHWM), a, MB", 0),
    ("rss_peak_b", "peak RSS (VmHWM), b, MB", 0),
    ("rss_server", "RSS idle, server on rdv (pinhole-rendezvous, nebula lighthouse), MB", 0),
    ("rtt_idle_start", "ping RTT idle, right after start, ms", 2),
    ("rtt_load", "ping RTT under load (1-stream a->b), ms", 2),
    ("rtt_idle_warm", "ping RTT idle, warm (after the transfers), ms", 2),
    ("first_ping", "start to first ping, s", 2),
    ("outage", "outage after conntrack flush on NAT a (longest gap, ping b->a every 10 ms), s", 2),
    ("mtu", "tunnel MTU (default)", 0),
]


def read_tsv(path):
    rows = []
    for line in path.read_text().splitlines():
        if line.strip():
            rows.append(line.split("\t"))
    return rows


def fmt(x, dec):
    return f"{x:,.{dec}f}"


def cell(values, dec):
    nums = [float(v.rstrip("+")) for v in values if v not in ("", "fail")]
    fails = sum(1 for v in values if v == "fail")
    bounds = sum(1 for v in values if v.endswith("+"))
    if not nums:
        return "failed" if fails else "-", None, False
    med = statistics.median(nums)
    text = fmt(med, dec)
    if len(nums) > 1:
        text += f" ({fmt(min(nums), dec)}-{fmt(max(nums), dec)})"
    if bounds:
        text += " (no recovery within the window: at least)" if bounds == len(values) else f", {bounds} not recovered"
    if fails:
        text += f", {fails} failed"
    return text, med, bounds > 0


def main():
    work = Path(sys.argv[1])
    update = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--update" else None
    tools = read_tsv(work / "tools.tsv")
    results = defaultdict(list)
    for tool, metric, value in read_tsv(work / "results.tsv"):
        results[(tool, metric)].append(value)
    meta = {}
    for line in (work / "meta.env").read_text().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            meta[k] = v

    pinholes = [t for t in tools if t[2] == "pinhole"]
    others = [t for t in tools if t[2] != "pinhole"]
    ratio_cols = [(p, o) for p in pinholes for o in others]
    head = ["metric (median of runs, min-max)"] + [t[1] for t in tools]
    head += [f"{p[1]} / {o[1]}" for p, o in ratio_cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for metric, label, dec in ROWS:
        meds = {}
        bound = {}
        cells = []
        for t in tools:
            text, med, bound[t[0]] = cell(results.get((t[0], metric), []), dec)
            meds[t[0]] = med
            cells.append(text)
        if all(c == "-" for c in cells):
            continue
        for p, o in ratio_cols:
            a, b = meds[p[0]], meds[o[0]]
            # a lower bound below the line makes the ratio an upper bound, and the other way round
            sign = "<= " if bound[o[0]] and not bound[p[0]] else ">= " if bound[p[0]] and not bound[o[0]] else ""
            cells.append(f"{sign}{a / b:.2f}" if a is not None and b else "-")
        lines.append("| " + " | ".join([label] + cells) + " |")

    out = [f"### Run of {meta.get('date', '?')}", ""]
    out.append(f"Command: `{meta.get('command', '?')}` (took {meta.get('elapsed', '?')} s)")
    out.append("")
    out.append(f"- machine: {meta.get('nproc', '?')} CPUs, {meta.get('cpu', '?')}; kernel {meta.get('kernel', '?')}")
    out.append(f"- commit: {meta.get('commit', '?')}")
    for p in pinholes:
        out.append(f"- {p[1]}: JDK `{meta.get('java_' + p[0], '?')}`")
    for key, label in (("nebula", "nebula"), ("wg", "wireguard-go"), ("iperf3", "iperf3")):
        if key in meta:
            out.append(f"- {label}: {meta[key]}")
    out.append(f"- runs: {meta.get('runs', '?')} x {meta.get('duration', '?')} s per transfer, tool order rotated "
               f"each round; underlay ping RTT a -> rdv: {meta.get('rtt_underlay', '?')} ms")
    if meta.get("paths"):
        out.append(f"- paths: {meta['paths']}")
    out.append("")
    out.extend(lines)
    out.append("")
    out.append("Ratios are pinhole's median divided by the other tool's: above 1 is better for throughput, "
               "below 1 is better for CPU, memory, RTT and times.")
    body = "\n".join(out) + "\n"
    print(body)
    if update:
        update_section(update, "bench/compare.sh", body)


if __name__ == "__main__":
    main()
