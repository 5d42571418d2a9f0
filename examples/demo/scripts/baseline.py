#!/usr/bin/env python3
"""Stage baseline: alert when load exceeds `threshold` x its trailing mean.

Reads its params from WORKBENCH_PARAMS (set by `git workbench run`) and writes
alerts.csv, alerts.svg (the load, the alert line and the alerts) and metrics.json
into WORKBENCH_RUN_DIR. Standard library only.
"""
import csv
import json
import os
from pathlib import Path

params = json.loads(os.environ["WORKBENCH_PARAMS"])
threshold = float(params["baseline.threshold"])
window = int(params["baseline.window"])
out = Path(os.environ["WORKBENCH_RUN_DIR"])
out.mkdir(parents=True, exist_ok=True)



def plot(loads, lines, alerts, incidents, path):
    """The load per hour, the alert line and the alerts, as a plain SVG."""
    w, h, pad = 720, 240, 30
    top = max(loads + lines) or 1.0
    x = lambda i: pad + i * (w - 2 * pad) / max(1, len(loads) - 1)
    y = lambda v: h - pad - v * (h - 2 * pad) / top
    line = lambda vs: " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs))
    dots = "".join(
        f'<circle cx="{x(i):.1f}" cy="{y(loads[i]):.1f}" r="3" fill="{"#c0392b" if incidents[i] else "#e67e22"}"/>'
        for i in alerts
    )
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">'
        f'<rect width="{w}" height="{h}" fill="white"/>'
        f'<polyline points="{line(loads)}" fill="none" stroke="#2c3e50" stroke-width="1"/>'
        f'<polyline points="{line(lines)}" fill="none" stroke="#7f8c8d" stroke-dasharray="4 3"/>'
        f'{dots}<text x="{pad}" y="18" font-size="12" font-family="sans-serif">'
        f"load per hour, alert line (dashed), alerts (red: incident, orange: false alarm)</text></svg>\n"
    )


rows = list(csv.DictReader(open("data/incidents.csv")))
loads = [float(r["load"]) for r in rows]
lines, alerts, incidents = [], [], []
tp = fp = fn = 0
with open(out / "alerts.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["hour", "load", "trailing_mean", "alert", "incident"])
    for i, r in enumerate(rows):
        past = loads[max(0, i - window):i] or [loads[i]]
        mean = sum(past) / len(past)
        alert = int(loads[i] > threshold * mean)
        incident = int(r["incident"])
        tp += alert and incident
        fp += alert and not incident
        fn += incident and not alert
        lines.append(threshold * mean)
        incidents.append(incident)
        if alert:
            alerts.append(i)
        w.writerow([r["hour"], r["load"], f"{mean:.1f}", alert, incident])

plot(loads, lines, alerts, incidents, out / "alerts.svg")
precision = tp / (tp + fp) if tp + fp else 0.0
recall = tp / (tp + fn) if tp + fn else 0.0
metrics = {"precision": round(precision, 4), "recall": round(recall, 4), "alerts": tp + fp, "rows": len(rows)}
json.dump(metrics, open(out / "metrics.json", "w"), indent=2)
print(f"baseline: threshold={threshold} window={window} -> precision={precision:.3f} recall={recall:.3f}")
