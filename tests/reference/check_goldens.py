#!/usr/bin/python3
"""Goldens that cannot go stale: runs every tests/reference/make_*.py into a temporary folder
(SMCL_GOLDEN_OUT) and compares what each writes with the committed tests/reference/golden/. Fails when a file
differs, when a generator no longer writes a committed file, or when it writes one that is not committed.
CTest runs it with /usr/bin/python3 (python3-torch, python3-torchvision, python3-numpy).

JSON files must have the same structure, strings and integers, and floats equal to a relative 1e-6; *.bin files
(little-endian float32 gradients) to a relative 1e-4 or an absolute 1e-5 (a tenth of what smcl_test allows).
That much slack is needed because numpy's and oneDNN's vectorised paths depend on the CPU: on another machine a
float64 weight moves in its 14th digit, a float32 loss by one unit in the last place and a float32 gradient
summed over a batch by up to 1e-6. A generator that changed moves values far more than that. Every other file
must be equal byte for byte.
"""
import filecmp
import glob
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
COMMITTED = os.path.join(HERE, "golden")


def files_under(root):
    return {os.path.relpath(os.path.join(folder, name), root)
            for folder, _, names in os.walk(root) for name in names}


def close(a, b, relative=1e-6, absolute=1e-12):
    return math.isclose(a, b, rel_tol=relative, abs_tol=absolute)


def json_difference(a, b, path="$"):
    """The first place where a and b differ beyond the tolerance, or None."""
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or a is None:
        return None if a == b and type(a) is type(b) else f"{path}: {b!r} committed, {a!r} now"
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            return None if a == b else f"{path}: {b} committed, {a} now"
        return None if close(a, b) else f"{path}: {b!r} committed, {a!r} now"
    if type(a) is not type(b):
        return f"{path}: a {type(b).__name__} committed, a {type(a).__name__} now"
    if isinstance(a, dict):
        if a.keys() != b.keys():
            return f"{path}: keys {sorted(b)} committed, {sorted(a)} now"
        found = (json_difference(a[k], b[k], f"{path}.{k}") for k in a)
    else:
        if len(a) != len(b):
            return f"{path}: {len(b)} entries committed, {len(a)} now"
        found = (json_difference(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
    return next((d for d in found if d), None)


def difference(fresh, committed):
    """Why the freshly written file does not match the committed one, or None."""
    if fresh.endswith(".json"):
        with open(fresh) as f, open(committed) as g:
            return json_difference(json.load(f), json.load(g))
    if fresh.endswith(".bin"):
        with open(fresh, "rb") as f, open(committed, "rb") as g:
            a, b = f.read(), g.read()
        if len(a) != len(b) or len(a) % 4:
            return f"{len(b)} bytes committed, {len(a)} now"
        values = zip(struct.unpack(f"<{len(a) // 4}f", a), struct.unpack(f"<{len(b) // 4}f", b))
        bad = next(((i, x, y) for i, (x, y) in enumerate(values) if not close(x, y, 1e-4, 1e-5)), None)
        return None if bad is None else f"float {bad[0]}: {bad[2]!r} committed, {bad[1]!r} now"
    return None if filecmp.cmp(fresh, committed, shallow=False) else "the bytes differ"


def main():
    problems = []
    with tempfile.TemporaryDirectory() as fresh:
        for script in sorted(glob.glob(os.path.join(HERE, "make_*.py"))):
            done = subprocess.run([sys.executable, script], env=dict(os.environ, SMCL_GOLDEN_OUT=fresh),
                                  capture_output=True, text=True)
            if done.returncode != 0:
                problems.append(f"{os.path.basename(script)} failed (exit {done.returncode}):\n{done.stderr}")
        written, committed = files_under(fresh), files_under(COMMITTED)
        for name in sorted(written - committed):
            problems.append(f"golden/{name} is written by a generator but not committed")
        for name in sorted(committed - written):
            problems.append(f"golden/{name} is committed but no generator writes it")
        for name in sorted(written & committed):
            why = difference(os.path.join(fresh, name), os.path.join(COMMITTED, name))
            if why:
                problems.append(f"golden/{name} differs from what its generator writes today: {why}")
        print(f"{len(written & committed)} golden files regenerated and compared")
    for problem in problems:
        print("FAIL:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
