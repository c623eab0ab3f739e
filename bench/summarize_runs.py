#!/usr/bin/env python3
"""Mean and spread of the last-epoch metrics of several smcl run folders (summary.json), as a markdown row.

Usage: bench/summarize_runs.py NAME RUN_DIR [RUN_DIR ...]
Spread is the sample standard deviation over the runs. Needs only the Python standard library.
"""
import json
import statistics
import sys


def cell(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return "%.2f +- %.2f" % (statistics.mean(values), spread)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    name, runs = sys.argv[1], sys.argv[2:]
    summaries = [json.load(open(run + "/summary.json")) for run in runs]
    columns = [cell([s["last"][key] for s in summaries]) for key in ("top1", "many", "medium", "few")]
    speed = statistics.mean(s["train_images_per_second"] for s in summaries)
    print("| %s | %s | %d | %.0f |" % (name, " | ".join(columns), len(runs), speed))


if __name__ == "__main__":
    main()
