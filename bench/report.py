#!/usr/bin/env python3
"""The tables and plots of bench/run.sh from its JSON lines (README "Performance" explains the columns).

    python3 bench/report.py bench/results

Reads latest.jsonl (sync_bench), latency.jsonl (latency_bench) and machine.json; prints the tables,
writes them to latest.md, and writes the gnuplot data (*.dat) and script (plots.gp) for bulk.png
(wall time and peak RSS vs N) and latency_cdf.png (change-to-mirror latency CDF)."""
import json
import os
import sys


def read_lines(path):
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip()]


def bulk_table(rows):
    cols = [
        ("N", lambda r: f"{r['records']:,}"),
        ("RTT ms", lambda r: str(r["rtt_ms"])),
        ("wall s", lambda r: f"{r['bulk']['wall_s']:.1f}"),
        ("API-bound s", lambda r: f"{r['bulk_api_bound_s']:.1f}"),
        ("ratio", lambda r: f"{r['bulk_ratio']:.2f}" if r["bulk_api_bound_s"] > 0 else "-"),
        ("PC calls/rec", lambda r: f"{r['pc_calls_per_record']:.2f}"),
        ("CRM calls/rec", lambda r: f"{r['crm_calls_per_record']:.3f}"),
        ("CPU us/rec", lambda r: f"{r['daemon_cpu_us_per_record']:.0f}"),
        ("peak RSS MiB", lambda r: f"{r['bulk']['peak_rss_mib']:.0f}"),
        ("disk KB/rec", lambda r: f"{r['disk_bytes_per_record'] / 1000:.1f}"),
        ("DB+WAL KB/rec", lambda r: f"{r.get('state_bytes_after_bulk', 0) / 1000 / max(1, r['records']):.2f}"),
        ("fakes CPU", lambda r: f"{100 * r['fakes_cpu_share']:.0f}%"),
        ("fakes core", lambda r: f"{100 * r.get('fakes_core_share', 0):.0f}%"),
        ("echo calls", lambda r: str(r["echo_calls"])),
        ("quiet calls", lambda r: str(r["quiet_calls"])),
        ("quiet writes", lambda r: str(r["quiet_writes"])),
        ("quiet rows", lambda r: str(r["quiet_link_rows_written"])),
        ("quiet CPU ms", lambda r: f"{1000 * r['quiet']['daemon_cpu_s']:.0f}"),
        ("quiet RSS MiB", lambda r: f"{r['quiet']['peak_rss_mib']:.0f}"),
    ]
    lines = ["| " + " | ".join(c for c, _ in cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f(r) for _, f in cols) + " |")
    return lines


def latency_table(rows):
    lines = ["| poll s | direction | changes | p50 s | p95 s | max s | missed |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        for key, name in (("pc_to_crm", "PC -> CRM"), ("crm_to_pc", "CRM -> PC")):
            d = r[key]
            lines.append(f"| {r['poll_s']} | {name} | {len(d['latencies_s']) + d['missed']} | {d['p50_s']:.1f} | "
                         f"{d['p95_s']:.1f} | {d['max_s']:.1f} | {d['missed']} |")
    return lines


def write_plots(results, bulk, latency):
    with open(os.path.join(results, "bulk.dat"), "w") as f:
        f.write("# N wall_s api_bound_s peak_rss_mib rtt_ms\n")
        for r in sorted(bulk, key=lambda r: r["records"]):
            f.write(f"{r['records']} {r['bulk']['wall_s']} {r['bulk_api_bound_s']} {r['bulk']['peak_rss_mib']} {r['rtt_ms']}\n")
    rtt = bulk[0]["rtt_ms"] if bulk else 0
    curves = []
    for run, r in enumerate(latency):
        for key, name in (("pc_to_crm", "PC -> CRM"), ("crm_to_pc", "CRM -> PC")):
            values = sorted(r[key]["latencies_s"])
            if not values:
                continue
            data = f"latency_{run}_{r['poll_s']}s_{key}.dat"
            with open(os.path.join(results, data), "w") as f:
                for i, v in enumerate(values):
                    f.write(f"{v} {(i + 1) / len(values)}\n")
            curves.append(f"'{data}' using 1:2 with steps lw 2 title 'poll {r['poll_s']} s, {name}'")
    script = [
        "set terminal pngcairo size 1100,450 font ',10'" if has_cairo() else "set terminal png size 1100,450",
        "set output 'bulk.png'",
        "set multiplot layout 1,2 title 'Bulk of N new Microsoft leads into an empty Salesforce (cosyncd once)'",
        "set logscale xy", "set grid", "set key top left", "set xlabel 'N records'",
        "set ylabel 'seconds'", "set title 'wall time vs API-bound minimum'",
        # one round trip only (the first run's): an N@0 run beside 20 ms ones would bend the line
        f"plot 'bulk.dat' using 1:($5 == {rtt} ? $2 : 1/0) with linespoints lw 2 title 'wall at {rtt} ms', "
        f"'bulk.dat' using 1:($5 == {rtt} && $3 > 0 ? $3 : 1/0) with linespoints lw 2 dt 2 title 'API-bound minimum'",
        "set ylabel 'MiB'", "set title 'daemon peak RSS'",
        "plot 'bulk.dat' using 1:4 with linespoints lw 2 title 'peak RSS', 64 with lines dt 2 title '64 MiB goal'",
        "unset multiplot", "unset logscale",
    ]
    if curves:
        script += [
            "set terminal pngcairo size 800,500 font ',10'" if has_cairo() else "set terminal png size 800,500",
            "set output 'latency_cdf.png'", "set title 'Change-to-mirror latency (cosyncd run)'",
            "set xlabel 'seconds from the change to its mirror'", "set ylabel 'fraction of changes'",
            "set yrange [0:1]", "set key bottom right", "set grid",
            "plot " + ", ".join(curves),
        ]
    with open(os.path.join(results, "plots.gp"), "w") as f:
        f.write("\n".join(script) + "\n")


def has_cairo():
    return os.system("gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1") == 0


def main():
    results = sys.argv[1] if len(sys.argv) > 1 else "bench/results"
    bulk = read_lines(os.path.join(results, "latest.jsonl"))
    latency = read_lines(os.path.join(results, "latency.jsonl"))
    machine = read_lines(os.path.join(results, "machine.json"))
    m = machine[0] if machine else {}
    head = (f"commit {m.get('commit', '?')}, {m.get('started', '?')}; {m.get('nproc', '?')} cores ({m.get('cpu', '?')}), "
            f"load {m.get('load_before', '?')} before, {m.get('load_after', '?')} after")
    lines = [head, ""]
    if bulk:
        lines += [f"Bulk ({bulk[0]['in_flight']} in flight per host):", ""] + bulk_table(bulk) + [""]
    if latency:
        lines += [f"Change-to-mirror latency ({latency[0]['rtt_ms']} ms round trip):", ""] + latency_table(latency)
    text = "\n".join(lines) + "\n"
    print(text)
    with open(os.path.join(results, "latest.md"), "w") as f:
        f.write(text)
    write_plots(results, bulk, latency)


if __name__ == "__main__":
    main()
