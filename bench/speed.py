#!/usr/bin/python3
"""smcl's speed benchmark (issue 5): floor, pipeline, reference and eval, in interleaved rounds.

  /usr/bin/python3 bench/speed.py [--rounds 3] [--data fashion_mnist cifar_shaped] [--methods erm scl smcl]
      [--variant NAME:key=value,key=value ...] [--variant-data cifar_shaped] [--variant-methods erm smcl]
      [--device cpu|cuda] [--matched-variants] [--compiled-reference] [--step-scale N] [--fmnist-root DIR]
      [--allocator jemalloc|glibc_kept|glibc] [--json FILE] [--tiny]

For every dataset and method, each round runs, as separate processes in rotating order: `floor` (the model's
forward + backward + SGD step alone on ready tensors, same images per step), `pipeline` (smcl's real training
steps) and `reference` (the same steps the Python way, bench/reference.py), plus `eval` for both. Reported:
images/second through the model (every view counted) and peak resident memory, as the median (memory: the
maximum) over rounds, and the ratios pipeline/floor and pipeline/reference as the median of the per-round
ratios. smcl's processes run with --allocator: by default jemalloc as the smcl executable links and configures
it (preloaded into smcl_bench_speed, which itself uses glibc), so that the table measures what ships; the
reference runs with Python's. A --variant adds pipeline rows with config overrides (e.g.
nopf:train.prefetch=false; an item allocator=NAME runs the variant with another allocator) measured in the same
rounds; with --matched-variants each variant also gets its own floor and reference with the same precision and
layout (train.amp=bf16 -> reference --amp bf16, train.channels_last=true -> --channels-last), and its ratios are
against those (for the GPU, where bf16 and NHWC change the floor itself). --compiled-reference adds, beside
every reference, the reference with torch.compile(mode="reduce-overhead") (PyTorch 2.x; on CUDA its CUDA
graphs) and the ratio pipeline/compiled. --tiny is the CI check: one round of one tiny step of everything, to
see that it all runs.
Needs the build (build/bench/smcl_bench_speed) and Debian's python3-torch, python3-torchvision, python3-opencv.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = {"erm": 8, "scl": 4, "smcl": 2}  # about the same number of model images per measurement
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
# What each allocator adds to a smcl_bench_speed process: its flags and its environment.
ALLOCATORS = {
    # jemalloc as apps/smcl/main.cpp links and configures it (its malloc_conf); glibc's settings untouched.
    "jemalloc": (["--default-malloc"],
                 {"LD_PRELOAD": JEMALLOC, "MALLOC_CONF": "dirty_decay_ms:-1,muzzy_decay_ms:-1,retain:true"}),
    "glibc_kept": ([], {}),  # glibc with smcl's settings (src/smcl/core/allocator.cpp): the binary's own
    "glibc": (["--default-malloc"], {}),  # glibc's defaults
}


def run(command, env=None):
    started = time.time()
    out = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, **env) if env else None)
    if out.returncode != 0:
        sys.exit(f"speed.py: {' '.join(command)} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        sys.exit(f"speed.py: {' '.join(command)} printed no result:\n{out.stdout[-2000:]}")
    result = json.loads(lines[-1])
    result["wall_seconds"] = time.time() - started
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", nargs="+", default=["fashion_mnist", "cifar_shaped"])
    parser.add_argument("--methods", nargs="+", default=["erm", "scl", "smcl"])
    parser.add_argument("--model", default="resnet32")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=0, help="timed steps per measurement (0: per method)")
    parser.add_argument("--step-scale", type=int, default=1, help="multiplies the per-method steps (a GPU needs more)")
    parser.add_argument("--matched-variants", action="store_true",
                        help="each variant gets its own floor and reference with its precision and layout")
    parser.add_argument("--compiled-reference", action="store_true",
                        help="also the reference compiled with torch.compile (PyTorch 2.x)")
    parser.add_argument("--fmnist-root", default="", help="Fashion-MNIST's IDX files (default: the Debian package's)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--variant", action="append", default=[],
                        help="NAME:key=value,key=value (pipeline rows; an item --flag goes to smcl_bench_speed as is, "
                             "allocator=NAME picks the variant's allocator)")
    parser.add_argument("--variant-data", nargs="+", default=[], help="datasets that get the variants (default: all)")
    parser.add_argument("--variant-methods", nargs="+", default=[], help="methods that get the variants (default: all)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda: train.device of smcl, --device of the reference")
    parser.add_argument("--workers", type=int, default=2, help="the reference's DataLoader workers per loader")
    parser.add_argument("--binary", default=os.path.join(ROOT, "build/bench/smcl_bench_speed"))
    parser.add_argument("--allocator", choices=sorted(ALLOCATORS),
                        default="jemalloc" if os.path.exists(JEMALLOC) else "glibc_kept",
                        help="smcl's allocator (default: jemalloc, as the smcl executable links it, where installed)")
    parser.add_argument("--json", default="", help="write every measurement and the table here")
    parser.add_argument("--tiny", action="store_true", help="CI: one tiny step of everything, no timing meaning")
    args = parser.parse_args()
    if args.tiny:
        args.rounds, args.model, args.batch, args.warmup, args.steps = 1, "resnet8", 8, 0, 1
    if not os.path.exists(args.binary):
        sys.exit(f"speed.py: {args.binary} does not exist; build first (scripts/build)")
    variants = [("", [])]
    for text in args.variant:
        name, _, sets = text.partition(":")
        if not name or not sets:
            sys.exit(f"speed.py: --variant '{text}' is not NAME:key=value[,key=value]")
        variants.append((name, sets.split(",")))

    def steps_of(mode, method):
        return args.steps or (STEPS[method] * args.step_scale if mode != "eval" else 1)

    def smcl(mode, method, data, sets=()):
        """The command of one smcl measurement and its environment."""
        allocator = args.allocator
        for s in sets:
            if s.startswith("allocator="):
                allocator = s.partition("=")[2]
                if allocator not in ALLOCATORS:
                    sys.exit(f"speed.py: '{s}': the allocator is one of {', '.join(sorted(ALLOCATORS))}")
        if allocator == "jemalloc" and not os.path.exists(JEMALLOC):  # a missing preload would only be a warning
            sys.exit(f"speed.py: the allocator jemalloc needs {JEMALLOC} (apt-get install libjemalloc2)")
        flags, env = ALLOCATORS[allocator]
        command = [args.binary, "--mode", mode, "--method", method, "--data", data, "--model", args.model,
                   "--batch", str(args.batch), "--steps", str(steps_of(mode, method)),
                   "--warmup", str(min(args.warmup, 1) if mode == "eval" else args.warmup),
                   "--set", "train.device=" + args.device]
        if args.fmnist_root and data == "fashion_mnist":
            command += ["--set", "data.root=" + args.fmnist_root]
        for s in sets:
            if not s.startswith("allocator="):
                command += [s] if s.startswith("--") else ["--set", s]
        return command + flags, env

    def reference(mode, method, data, sets=(), compiled=False):
        """The command of one reference measurement (Python's own allocator) and its environment."""
        command = [sys.executable, os.path.join(ROOT, "bench/reference.py"), "--mode", mode, "--method", method,
                   "--data", data, "--model", args.model, "--batch", str(args.batch),
                   "--steps", str(steps_of(mode, method)),
                   "--warmup", str(min(args.warmup, 1) if mode == "eval" else args.warmup),
                   "--device", args.device, "--workers", str(args.workers)]
        if args.fmnist_root:
            command += ["--root", args.fmnist_root]
        if compiled:
            command.append("--compile")
        for s in sets:
            if s.startswith("allocator="):
                continue
            if s == "train.amp=bf16":
                command += ["--amp", "bf16"]
            elif s == "train.channels_last=true":
                command.append("--channels-last")
            else:
                sys.exit(f"speed.py: --matched-variants: the reference has no counterpart of '{s}'")
        return command, None

    # Every measurement of a round, keyed by (data, method, kind).
    jobs = []
    def suffix(name):
        return f" ({name})" if name else ""

    for data in args.data:
        for method in args.methods:
            for name, sets in variants:
                if name and ((args.variant_data and data not in args.variant_data) or
                             (args.variant_methods and method not in args.variant_methods)):
                    continue
                matched = args.matched_variants or not name
                if matched:
                    jobs.append(((data, method, "floor" + suffix(name)), smcl("floor", method, data, sets)))
                jobs.append(((data, method, "pipeline" + suffix(name)), smcl("pipeline", method, data, sets)))
                if matched:
                    jobs.append(((data, method, "reference" + suffix(name)),
                                 reference("pipeline", method, data, sets)))
                if matched and args.compiled_reference:
                    jobs.append(((data, method, "compiled reference" + suffix(name)),
                                 reference("pipeline", method, data, sets, compiled=True)))
        jobs.append(((data, "-", "eval"), smcl("eval", "erm", data)))
        jobs.append(((data, "-", "eval reference"), reference("eval", "erm", data)))

    results = {key: [] for key, _ in jobs}
    for r in range(args.rounds):
        # Rotate the order each round so that no kind always runs first (or right after the same neighbour).
        shift = (r * 3) % len(jobs)
        for key, (command, env) in jobs[shift:] + jobs[:shift]:
            out = run(command, env)
            results[key].append(out)
            print(f"round {r + 1}/{args.rounds}  {key[0]:<13} {key[1]:<5} {key[2]:<22} "
                  f"{out['images_per_second']:8.1f} img/s  {out['peak_rss_mib']:7.0f} MiB", flush=True)

    def ips(key):
        return [m["images_per_second"] for m in results[key]]

    rows = []
    for data in args.data:
        for method in args.methods:
            for name, _ in variants:
                kind = "pipeline" + suffix(name)
                if (data, method, kind) not in results:
                    continue
                against = suffix(name) if args.matched_variants else ""
                floor = ips((data, method, "floor" + against))
                ref = ips((data, method, "reference" + against))
                pipe = ips((data, method, kind))
                rows.append({
                    "data": data, "method": method, "pipeline": kind,
                    "floor": statistics.median(floor), "pipeline_ips": statistics.median(pipe),
                    "reference": statistics.median(ref),
                    "pipeline_over_floor": statistics.median(p / f for p, f in zip(pipe, floor)),
                    "pipeline_over_reference": statistics.median(p / q for p, q in zip(pipe, ref)),
                    "pipeline_peak_mib": max(m["peak_rss_mib"] for m in results[(data, method, kind)]),
                    "reference_peak_mib": max(m["peak_rss_mib"] for m in results[(data, method, "reference" + against)]),
                })
                if args.compiled_reference:
                    compiled = ips((data, method, "compiled reference" + against))
                    rows[-1].update({"compiled_reference": statistics.median(compiled),
                                     "pipeline_over_compiled": statistics.median(p / c for p, c in zip(pipe, compiled))})
    evals = [{"data": data, "eval": statistics.median(ips((data, "-", "eval"))),
              "eval_reference": statistics.median(ips((data, "-", "eval reference")))} for data in args.data]

    lines = [f"{args.model}, batch {args.batch}, {args.device}, smcl with {args.allocator}, median of {args.rounds} "
             "interleaved rounds; images/s through the model (every view counted)", "",
             "| data | method | pipeline | floor img/s | pipeline img/s | reference img/s | pipeline/floor | "
             "pipeline/reference | peak MiB (smcl) | peak MiB (reference) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    if args.compiled_reference:
        lines[2] += " compiled reference img/s | pipeline/compiled |"
        lines[3] += "---|---|"
    for row in rows:
        lines.append(f"| {row['data']} | {row['method']} | {row['pipeline']} | {row['floor']:.0f} | "
                     f"{row['pipeline_ips']:.0f} | {row['reference']:.0f} | {row['pipeline_over_floor']:.2f} | "
                     f"{row['pipeline_over_reference']:.2f} | {row['pipeline_peak_mib']:.0f} | "
                     f"{row['reference_peak_mib']:.0f} |")
        if args.compiled_reference:
            lines[-1] += f" {row['compiled_reference']:.0f} | {row['pipeline_over_compiled']:.2f} |"
    lines += ["", "| data | eval img/s (smcl) | eval img/s (reference) | ratio |", "|---|---|---|---|"]
    for e in evals:
        lines.append(f"| {e['data']} | {e['eval']:.0f} | {e['eval_reference']:.0f} | "
                     f"{e['eval'] / e['eval_reference']:.2f} |")
    table = "\n".join(lines)
    print("\n" + table)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        measurements = [dict(m, key=list(key)) for key, ms in results.items() for m in ms]
        with open(args.json + ".tmp", "w") as f:
            json.dump({"rows": rows, "eval": evals, "table": table, "measurements": measurements,
                       "arguments": vars(args)}, f, indent=1)
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
