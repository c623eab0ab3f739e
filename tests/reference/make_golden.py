#!/usr/bin/python3
"""Makes the golden data of the smcl tests with independent implementations (numpy, Python's pickle).

Run with Debian's /usr/bin/python3 (python3-numpy): `/usr/bin/python3 tests/reference/make_golden.py`.
It rewrites everything under tests/reference/golden/. The C++ tests never run this script; they read its output.

- long_tail.json: kept indices of long-tailed subsets selected exactly as the Python codebases do
  (LDAM-DRW's IMBALANCECIFAR.gen_imbalanced_data: np.random.seed, then per class np.random.shuffle).
- class_weights.json: class-balanced weights (Cui et al.) computed with numpy.
- cifar/py2/...: CIFAR Python-version files as Python 2's cPickle wrote them (protocol 2, str as BINSTRING).
- cifar/py3/...: the same dicts pickled by Python 3 (protocols 3, 4 and 5).
"""
import io
import json
import os
import pickle
import struct

import numpy as np

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT = GOLDEN


def synthetic_labels(n, k):
    # Every class has n / k images, interleaved in a scrambled but deterministic order.
    return [(i * 7919) % k for i in range(n)]


def img_num_per_cls(profile, k, n_max, rho):
    if profile == "exp":
        return [int(n_max * ((1.0 / rho) ** (c / (k - 1.0)))) for c in range(k)]
    return [n_max] * (k // 2) + [int(n_max / rho)] * (k - k // 2)


def gen_imbalanced(labels, counts, seed):
    np.random.seed(seed)
    targets = np.array(labels, dtype=np.int64)
    kept = []
    for c, n in zip(np.unique(targets), counts):
        idx = np.where(targets == c)[0]
        np.random.shuffle(idx)
        kept.extend(int(i) for i in idx[:n])
    return kept


def long_tail():
    cases = []
    for (n, k, profile, n_max, rho, seed) in [
        (3000, 10, "exp", 300, 100, 0),
        (3000, 10, "exp", 300, 10, 12345),
        (3000, 10, "step", 300, 10, 7),
        (5000, 100, "exp", 50, 10, 0),
    ]:
        labels = synthetic_labels(n, k)
        counts = img_num_per_cls(profile, k, n_max, rho)
        cases.append({"n": n, "num_classes": k, "profile": profile, "max_per_class": n_max,
                      "imbalance_ratio": rho, "seed": seed, "counts": counts,
                      "kept": gen_imbalanced(labels, counts, seed)})
    return cases


def class_weights():
    cases = []
    for counts, beta in [([6000, 3596, 2156, 1292, 774, 464, 278, 166, 100, 60], 0.9999),
                         ([5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50], 0.9999),
                         ([10, 5, 1], 0.5)]:
        n = np.array(counts, dtype=np.float64)
        w = (1.0 - beta) / (1.0 - np.power(beta, n))
        w = w / np.sum(w) * len(counts)
        cases.append({"counts": counts, "beta": beta, "weights": w.tolist()})
    return cases


class Py2Pickler(pickle._Pickler):
    """Python's pure-Python pickler, writing str and bytes as Python 2's cPickle wrote str: BINSTRING."""

    def save_py2_str(self, obj):
        data = obj.encode("latin-1") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[str] = save_py2_str
    dispatch[bytes] = save_py2_str


def pixels(n, salt):
    i = np.arange(n, dtype=np.int64)[:, None]
    j = np.arange(3072, dtype=np.int64)[None, :]
    return ((i * 31 + j * 7 + salt) % 256).astype(np.uint8)


def cifar_dicts():
    """(folder, file name, dict) of both CIFAR Python distributions, with small batches."""
    files = []
    for b, name in enumerate(["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
                              "test_batch"]):
        n = 3 + b
        labels = [(b * 5 + i * 3) % 10 for i in range(n)]
        files.append(("cifar-10-batches-py", name, {
            "batch_label": "batch %d of 5" % (b + 1), "labels": labels, "data": pixels(n, b),
            "filenames": ["img_%d_%d.png" % (b, i) for i in range(n)]}))
    for b, name in enumerate(["train", "test"]):
        n = 7 - 2 * b
        files.append(("cifar-100-python", name, {
            "filenames": ["f%d.png" % i for i in range(n)], "batch_label": name,
            "fine_labels": [(b * 41 + i * 17) % 100 for i in range(n)],
            "coarse_labels": [(i * 3) % 20 for i in range(n)], "data": pixels(n, 100 + b)}))
    return files


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    with open(os.path.join(OUT, "long_tail.json"), "w") as f:
        json.dump(long_tail(), f)
    with open(os.path.join(OUT, "class_weights.json"), "w") as f:
        json.dump(class_weights(), f, indent=1)
    expected = {}
    for i, (folder, name, d) in enumerate(cifar_dicts()):
        buffer = io.BytesIO()
        Py2Pickler(buffer, protocol=2).dump(d)
        write(os.path.join(OUT, "cifar", "py2", folder, name), buffer.getvalue())
        py3 = dict(d)
        if name == "test_batch":  # a Python 3 user may store labels as a numpy array
            py3["labels"] = np.array(d["labels"], dtype=np.int64)
        write(os.path.join(OUT, "cifar", "py3", folder, name), pickle.dumps(py3, protocol=3 + i % 3))
        key = "labels" if "labels" in d else "fine_labels"
        expected[folder + "/" + name] = {"count": len(d[key]), "labels": d[key],
                                          "first_pixels": d["data"][:, :4].tolist()}
    with open(os.path.join(OUT, "cifar", "expected.json"), "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
