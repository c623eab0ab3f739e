#!/usr/bin/python3
"""Tests of the Python module (`import smcl`), run by CTest with Debian's /usr/bin/python3 and
PYTHONPATH=<build>/python. Every expected value comes from PyTorch, numpy or OpenCV written out here, never
from smcl itself; the run tests train a tiny Fashion-MNIST-LT run through smcl.train.
"""
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

import smcl

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
SOURCE_DIR = os.environ.get("SMCL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
# SPEC section 4 written anchor by anchor, pair by pair, as the C++ tests' golden is made.
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "reference"))
from make_supcon_golden import supcon_reference  # noqa: E402
sys.path.insert(0, os.path.join(SOURCE_DIR, "bench"))
from reference import read_idx as read_idx_file  # noqa: E402


# The child of Functions.test_no_argument_is_an_internal_error: calls every function with wrong arguments of
# every kind and prints how many calls it made and which raised anything but smcl.Error or TypeError.
HOSTILE_CALLS = r"""
import json, torch, smcl
f32 = lambda *s: torch.zeros(*s)
tensors = [torch.tensor(1.0), f32(4), f32(4, 3), f32(2, 3, 4), f32(2, 1, 4, 4), f32(2, 3, 4, 4), f32(0, 3),
           f32(0, 1, 4, 4), torch.tensor([0, 1, 0, 1]), torch.tensor([-1, 0, 1, 0]), torch.zeros(4, 2, dtype=torch.long),
           torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.full((4, 3), float("nan")),
           torch.zeros(4, 3, dtype=torch.float64), torch.ones(4, dtype=torch.bool), torch.tensor([0, 2**40, 1, 0])]
numbers = [0, -1, 1, 2**31, 2**62, float("nan"), float("inf"), -0.5, 1.5]
sizes = [n for n in numbers if isinstance(n, int)]
unit = torch.nn.functional.normalize(torch.randn(4, 3), dim=1)
labels = torch.tensor([0, 1, 0, 1])
rng = smcl.Rng(1)
one = smcl.MaskBoxes(torch.tensor([0]), torch.tensor([2]), torch.tensor([0]), torch.tensor([2]), torch.tensor([0.25]))
loss = smcl.ClassificationLoss("ce", [5, 3])
sampler = smcl.ClassWeightedSampler(labels, [0.5, 0.5])
calls, failures = 0, []
def attempt(name, f, *args):
    global calls
    calls += 1
    try:
        f(*args)
    except (smcl.Error, TypeError):
        pass
    except BaseException as e:
        failures.append("%s%s: %s: %s" % (name, repr(args)[:120], type(e).__name__, str(e)[:200]))
for a in tensors:
    attempt("fine_grained_saliency", smcl.fine_grained_saliency, a)
    attempt("saliency_peaks", smcl.saliency_peaks, a)
    attempt("ClassificationLoss.mixed", loss.mixed, f32(4, 2), labels, labels, a)
    attempt("long_tail_indices", smcl.long_tail_indices, a, [1, 1])
    attempt("ClassWeightedSampler", smcl.ClassWeightedSampler, a, [0.5, 0.5])
    attempt("balanced_contrastive", smcl.balanced_contrastive, unit, labels, a)
    for b in tensors:
        attempt("class_activation_map", smcl.class_activation_map, a, b, labels, 8, 8)
        attempt("class_activation_map", smcl.class_activation_map, f32(2, 3, 4, 4), a, b, 8, 8)
        attempt("supcon", smcl.supcon, a, b)
        attempt("balanced_contrastive", smcl.balanced_contrastive, a, b, unit[:2])
        attempt("masked_images", smcl.masked_images, a, b, one)
        attempt("masked_images", smcl.masked_images, a, None, one)
        attempt("ClassificationLoss", loss, a, b)
        attempt("ClassificationLoss.per_sample", loss.per_sample, a, b)
        attempt("ClassificationLoss.mixed", loss.mixed, a, b, b, a)
        attempt("MaskBoxes", smcl.MaskBoxes, a, b, a, b, a)
        for n in numbers:
            attempt("boxes_at", smcl.boxes_at, a, n, 4, 4)
for n in numbers:
    attempt("supcon", smcl.supcon, unit, labels, n)
    attempt("long_tail_counts", smcl.long_tail_counts, "step", 4, 10, n)
    attempt("class_balanced_weights", smcl.class_balanced_weights, [5, 3], n)
    attempt("class_probabilities", smcl.class_probabilities, "inverse_power", [5, 3], 0.9, n)
    for m in numbers:
        attempt("Rng.beta", rng.beta, n, m)
        attempt("ClassificationLoss", smcl.ClassificationLoss, "ldam", [5, 3], n, m)
        attempt("class_probabilities", smcl.class_probabilities, "effective_number", [5, 3], n, m)
for n in sizes:
    attempt("Rng.uniform_int", rng.uniform_int, n)
    attempt("Rng.permutation", rng.permutation, n)
    attempt("ClassWeightedSampler.sample", sampler.sample, n, rng)
    for m in sizes:
        attempt("center_peaks", smcl.center_peaks, n, m, 4)
        attempt("random_peaks", smcl.random_peaks, 2, n, m, rng)
        attempt("box_mask", smcl.box_mask, one, n, m)
        attempt("boxes_at", smcl.boxes_at, torch.tensor([[1, 1]]), 0.5, n, m)
        attempt("long_tail_counts", smcl.long_tail_counts, "exp", n, m, 10)
        attempt("shot_groups", smcl.shot_groups, [5, 3, 200], n, m)
for counts in [[], [0], [-1, 3], [5, 0], [2**62, 2**62]]:
    attempt("shot_groups", smcl.shot_groups, counts)
    attempt("class_balanced_weights", smcl.class_balanced_weights, counts)
    attempt("class_probabilities", smcl.class_probabilities, "class_balanced", counts)
    attempt("ClassificationLoss", smcl.ClassificationLoss, "ldam", counts)
    attempt("long_tail_indices", smcl.long_tail_indices, labels, counts)
for name in ["", "x", "ce "]:
    attempt("ClassificationLoss", smcl.ClassificationLoss, name, [5, 3])
    attempt("class_probabilities", smcl.class_probabilities, name, [5, 3])
    attempt("long_tail_counts", smcl.long_tail_counts, name, 3, 10, 10)
print(json.dumps({"calls": calls, "failures": failures}))
"""


def read_idx(name):
    """A Fashion-MNIST IDX file of the Debian package, with the benchmark's reader."""
    return read_idx_file(os.path.join(FASHION_MNIST, name))


class Functions(unittest.TestCase):
    def test_supcon_value_and_gradient_match_autograd_of_the_formula(self):
        g = torch.Generator().manual_seed(3)
        labels = torch.tensor([0, 1, 0, 2, 1, 0, 3, 2])  # class 3 has no positive
        raw = torch.randn(8, 5, generator=g, dtype=torch.float64)
        for t, t_base in [(0.07, 0.07), (0.5, 0.07)]:
            ours = torch.nn.functional.normalize(raw, dim=1).requires_grad_(True)
            theirs = ours.detach().clone().requires_grad_(True)
            loss = smcl.supcon(ours, labels, t, t_base)
            expected = supcon_reference(theirs, labels, t, t_base)
            loss.backward()
            expected.backward()
            self.assertAlmostEqual(loss.item(), expected.item(), delta=1e-10 * max(1.0, abs(expected.item())))
            self.assertTrue(torch.allclose(ours.grad, theirs.grad, rtol=0, atol=1e-10))

    def test_balanced_contrastive_matches_bcl_written_anchor_by_anchor(self):
        g = torch.Generator().manual_seed(8)
        labels = torch.tensor([0, 1, 0, 1, 1, 0])  # two views of 3 images; class 2 only as a prototype
        anchors = torch.nn.functional.normalize(torch.randn(6, 4, generator=g, dtype=torch.float64), dim=1)
        prototypes = torch.nn.functional.normalize(torch.randn(3, 4, generator=g, dtype=torch.float64), dim=1)
        contrast = torch.cat([anchors, prototypes])
        contrast_labels = labels.tolist() + [0, 1, 2]
        expected = 0.0
        for a in range(6):
            ya = contrast_labels[a]
            terms = [torch.exp(anchors[a] @ contrast[c] / 0.1) /
                     (contrast_labels.count(contrast_labels[c]) - (contrast_labels[c] == ya))
                     for c in range(9) if c != a]
            positives = [c for c in range(9) if c != a and contrast_labels[c] == ya]
            log_den = torch.log(torch.stack(terms).sum())
            expected -= sum(anchors[a] @ contrast[p] / 0.1 - log_den for p in positives) / len(positives)
        ours = smcl.balanced_contrastive(anchors, labels, prototypes, 0.1)
        self.assertAlmostEqual(ours.item(), (expected / 6).item(), delta=1e-10)

    def test_saliency_equals_opencv(self):
        import cv2
        rng = np.random.default_rng(0)
        # Smooth shapes on noise: non-trivial maps.
        images = rng.integers(0, 40, size=(3, 40, 52, 3), dtype=np.uint8)
        images[0, 10:25, 8:30] += 180
        images[1, 5:15, 30:50, 1] += 200
        images[2, 20:38, 2:20, 2] += 150
        batch = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
        ours = smcl.fine_grained_saliency(batch)
        self.assertEqual(tuple(ours.shape), (3, 40, 52))
        for i in range(3):
            found, expected = cv2.saliency.StaticSaliencyFineGrained_create().computeSaliency(
                cv2.cvtColor(images[i], cv2.COLOR_RGB2BGR))
            self.assertTrue(found)
            # OpenCV's Python binding returns its uint8 map as float32 / 255, as ours is.
            np.testing.assert_allclose(ours[i].numpy(), expected, rtol=0, atol=1e-6)
            self.assertGreater(float(expected.max() - expected.min()), 0.5)  # not a flat map
        peaks = smcl.saliency_peaks(ours)
        flat = ours.reshape(3, -1).argmax(dim=1)
        self.assertTrue(torch.equal(peaks, torch.stack([flat // 52, flat % 52], dim=1)))

    def test_boxes_and_masked_images_by_hand(self):
        peaks = torch.tensor([[10, 10], [0, 31]])
        boxes = smcl.boxes_at(peaks, 0.25, 32, 32)
        # side floor(32 * sqrt(0.25)) = 16: rows/columns [p - 8, p + 8) clipped to [0, 32].
        self.assertEqual(boxes.top.tolist(), [2, 0])
        self.assertEqual(boxes.bottom.tolist(), [18, 8])
        self.assertEqual(boxes.left.tolist(), [2, 23])
        self.assertEqual(boxes.right.tolist(), [18, 32])
        self.assertTrue(torch.allclose(boxes.lambda_, torch.tensor([256 / 1024, 8 * 9 / 1024])))
        source = torch.rand(2, 3, 32, 32, requires_grad=True)
        fill = torch.rand(2, 3, 32, 32)
        out = smcl.masked_images(source, fill, boxes)
        self.assertTrue(torch.equal(out[0, :, 2:18, 2:18], fill[0, :, 2:18, 2:18]))
        self.assertTrue(torch.equal(out[1, :, 0:8, 23:32], fill[1, :, 0:8, 23:32]))
        inside = smcl.box_mask(boxes, 32, 32)
        self.assertEqual(int(inside.sum()), 256 + 72)
        self.assertTrue(torch.equal(out.detach()[~inside.expand_as(out)], source.detach()[~inside.expand_as(out)]))
        zeros = smcl.masked_images(source, None, boxes)
        self.assertEqual(float(zeros[0, :, 2:18, 2:18].abs().sum()), 0.0)
        # The gradient reaches the source outside the boxes only.
        out.sum().backward()
        self.assertTrue(torch.equal(source.grad, (~inside).expand_as(source).float()))

    def test_classification_losses_match_their_formulas(self):
        g = torch.Generator().manual_seed(5)
        counts = [500, 120, 30, 5]
        z = torch.randn(12, 4, generator=g, dtype=torch.float64)
        y = torch.randint(0, 4, (12,), generator=g)
        n = torch.tensor(counts, dtype=torch.float64)
        w = torch.tensor([0.5, 1.0, 1.5, 2.0], dtype=torch.float64)
        F = torch.nn.functional
        # Balanced softmax: CE(z + log(n / N)), weighted mean.
        expected = F.cross_entropy(z + torch.log(n / n.sum()), y, weight=w)
        self.assertAlmostEqual(smcl.ClassificationLoss("balanced_softmax", counts)(z, y, w).item(), expected.item(),
                               delta=1e-6)
        # Logit-adjusted: CE(z + tau log(n / N)), weighted mean.
        expected = F.cross_entropy(z + 0.7 * torch.log(n / n.sum()), y, weight=w)
        self.assertAlmostEqual(smcl.ClassificationLoss("logit_adjusted", counts, la_tau=0.7)(z, y, w).item(),
                               expected.item(), delta=1e-6)
        # LDAM: margins C / n^(1/4) with the largest 0.5, on s * (z - m_y).
        m = n ** -0.25
        m = m * (0.5 / m.max())
        ldam = smcl.ClassificationLoss("ldam", counts, ldam_max_margin=0.5, ldam_scale=30.0)
        self.assertTrue(torch.allclose(ldam.margins.double(), m, atol=1e-7))
        expected = F.cross_entropy(30.0 * (z - F.one_hot(y, 4) * m), y)
        self.assertAlmostEqual(ldam(z, y).item(), expected.item(), delta=1e-5)
        # Focal (sigmoid): sum_k (1 - p_t)^gamma BCE, per-sample class weight, / batch size.
        t = F.one_hot(y, 4).double()
        p = torch.sigmoid(z)
        p_t = t * p + (1 - t) * (1 - p)
        bce = F.binary_cross_entropy_with_logits(z, t, reduction="none")
        expected = ((1 - p_t) ** 2.0 * bce).sum(1).mul(w[y]).sum() / 12
        focal = smcl.ClassificationLoss("focal", counts, focal_gamma=2.0)
        self.assertAlmostEqual(focal(z, y, w).item(), expected.item(), delta=1e-9)
        # Mixed labels: share-weighted sums over the same normaliser.
        b = torch.randint(0, 4, (12,), generator=g)
        lam = torch.rand(12, generator=g, dtype=torch.float64)
        ce = smcl.ClassificationLoss("ce", counts)
        l_a = F.cross_entropy(z, y, reduction="none")
        l_b = F.cross_entropy(z, b, reduction="none")
        expected = (lam * w[y] * l_a).sum() / w[y].sum() + ((1 - lam) * w[b] * l_b).sum() / w[b].sum()
        self.assertAlmostEqual(ce.mixed(z, y, b, lam, w).item(), expected.item(), delta=1e-9)
        with self.assertRaisesRegex(smcl.Error, "loss 'hinge' is not one of: ce, "):
            smcl.ClassificationLoss("hinge", counts)

    def test_class_weights_and_probabilities_by_hand(self):
        counts = [1000, 100, 10]
        beta = 0.999
        raw = np.array([(1 - beta) / (1 - beta ** n) for n in counts])
        np.testing.assert_allclose(smcl.class_balanced_weights(counts, beta).numpy(), raw / raw.sum() * 3, rtol=1e-6)
        effective = np.array([(1 - beta ** n) / (1 - beta) for n in counts])
        np.testing.assert_allclose(smcl.class_probabilities("effective_number", counts, beta),
                                   (1 / effective) / (1 / effective).sum(), rtol=1e-12)
        inverse = np.array(counts, dtype=np.float64) ** (1 - 0.5)
        np.testing.assert_allclose(smcl.class_probabilities("inverse_power", counts, power=0.5),
                                   inverse / inverse.sum(), rtol=1e-12)
        self.assertEqual(smcl.shot_groups([500, 100, 50, 19]), [0, 1, 1, 2])

    def test_long_tail_subset_is_numpys_legacy_shuffle(self):
        shuffle = torch.randperm(60, generator=torch.Generator().manual_seed(1))
        labels = torch.tensor([k for k in range(3) for _ in range(20)])[shuffle]
        counts = smcl.long_tail_counts("exp", 3, 20, 10.0)
        # floor(20 * (1/10)^(k/2)): 20, 6, 2.
        self.assertEqual(counts, [20, 6, 2])
        rng = np.random.RandomState(7)
        expected = []
        for k, n in enumerate(counts):
            idx = np.where(labels.numpy() == k)[0]
            rng.shuffle(idx)
            expected.extend(idx[:n].tolist())
        self.assertEqual(smcl.long_tail_indices(labels, counts, 7).tolist(), expected)

    def test_sampler_draws_classes_at_their_probabilities(self):
        labels = torch.tensor([0] * 90 + [1] * 9 + [2] * 1)
        sampler = smcl.ClassWeightedSampler(labels, [0.2, 0.3, 0.5])
        drawn = labels[sampler.sample(20000, smcl.Rng(4))]
        shares = torch.bincount(drawn, minlength=3).double() / 20000
        # Binomial standard deviation at 20,000 draws is at most 0.0036: five of them.
        self.assertTrue(torch.allclose(shares, torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64), atol=0.018))

    def test_rng_state_round_trips(self):
        rng = smcl.Rng(11)
        rng.uniform()
        state = rng.state
        first = [rng.uniform() for _ in range(3)]
        rng.state = state
        self.assertEqual([rng.uniform() for _ in range(3)], first)
        with self.assertRaises(smcl.Error):
            rng.state = "not a state"

    def test_python_training_loop_with_masked_images(self):
        """A few SGD steps of an SMCL-style loss written in Python around smcl's functions."""
        torch.manual_seed(0)
        images = torch.from_numpy(read_idx("t10k-images-idx3-ubyte.gz")[:64].copy()).unsqueeze(1)
        labels = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz")[:64].astype(np.int64))
        net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                  torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
        classifier = torch.nn.Linear(8, 10)
        head = torch.nn.Linear(8, 16)
        params = list(net.parameters()) + list(classifier.parameters()) + list(head.parameters())
        optimizer = torch.optim.SGD(params, lr=0.1, momentum=0.9)
        loss_fn = smcl.ClassificationLoss("ce", [100] * 10)
        rng = smcl.Rng(0)
        before = [p.detach().clone() for p in params]
        losses = []
        for step in range(4):
            rows = torch.arange(16) + 16 * step
            source, target = images[rows], images[rows.flip(0)]
            boxes = smcl.boxes_at(smcl.saliency_peaks(smcl.fine_grained_saliency(source)), rng.beta(1, 1), 28, 28)
            x = (source.float() / 255 - 0.286) / 0.353
            masked = smcl.masked_images(x, (target.float() / 255 - 0.286) / 0.353, boxes)
            h = net(torch.cat([x, masked]))
            y = labels[rows]
            ce = loss_fn(classifier(h[:16]), y) + loss_fn.mixed(classifier(h[16:]), labels[rows.flip(0)], y,
                                                                 boxes.lambda_)
            features = torch.nn.functional.normalize(head(h), dim=1)
            loss = ce + smcl.supcon(features, torch.cat([y, y]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        self.assertTrue(all(np.isfinite(losses)))
        self.assertTrue(all(not torch.equal(b, p) for b, p in zip(before, params)))

    def test_bad_input_is_a_named_error(self):
        with self.assertRaises(smcl.Error) as caught:
            smcl.long_tail_counts("zigzag", 10, 100, 10.0)
        self.assertIn("zigzag", str(caught.exception))
        self.assertTrue(issubclass(smcl.Error, ValueError))
        with self.assertRaisesRegex(smcl.Error, "/no/such/run"):
            smcl.load_run("/no/such/run")

    def test_every_bad_argument_is_a_named_error(self):
        # Issue 38: each of these was a silent wrong value (NaN, INT64_MIN counts, a broadcast box), an internal
        # error, or a process killed for memory; each is now smcl.Error naming the argument.
        unit = torch.nn.functional.normalize(torch.randn(4, 3), dim=1)
        labels = torch.tensor([0, 1, 0, 1])
        one = smcl.MaskBoxes(torch.tensor([0]), torch.tensor([2]), torch.tensor([0]), torch.tensor([2]),
                             torch.tensor([0.25]))
        images = torch.zeros(5, 1, 4, 4)
        cases = [
            ("imbalance_ratio = 0", lambda: smcl.long_tail_counts("exp", 10, 100, 0)),
            ("imbalance_ratio = nan", lambda: smcl.long_tail_counts("exp", 10, 100, float("nan"))),
            ("max_per_class = 0", lambda: smcl.long_tail_counts("exp", 10, 0, 10)),
            ("probabilities\\[0\\] = -1", lambda: smcl.ClassWeightedSampler(labels, [-1.0, 2.0])),
            ("probabilities sum to 0.5", lambda: smcl.ClassWeightedSampler(labels, [0.25, 0.25])),
            ("beta = 1", lambda: smcl.class_balanced_weights([5, 3], beta=1.0)),
            ("beta = 1", lambda: smcl.class_probabilities("effective_number", [5, 3], beta=1.0)),
            ("boxes: \\[1\\] boxes for a batch of 5", lambda: smcl.masked_images(images, None, one)),
            ("fill: expected the source's shape", lambda: smcl.masked_images(images, torch.zeros(5, 1, 4, 3), one)),
            ("more than 2\\^31 pixels|expected each in", lambda: smcl.box_mask(one, 2**31, 2**31)),
            ("more than 2\\^31 pixels", lambda: smcl.center_peaks(2**31, 65536, 65536)),  # would overflow int64
            ("u = -1", lambda: smcl.boxes_at(torch.tensor([[1, 1]]), -1.0, 4, 4)),
            ("labels: labels from 0 to 5, expected them in \\[0, 2\\)",
             lambda: smcl.balanced_contrastive(unit, torch.tensor([0, 1, 5, 1]), unit[:2])),
            ("temperature = 0", lambda: smcl.supcon(unit, labels, temperature=0.0)),
            ("features: expected L2-normalised rows", lambda: smcl.supcon(unit * 3, labels)),
            ("labels has 3 labels for 4 samples", lambda: smcl.supcon(unit, labels[:3])),
            ("uniform_int: n = 0", lambda: smcl.Rng(1).uniform_int(0)),
            ("a = -1", lambda: smcl.Rng(1).beta(-1.0, 1.0)),
            ("labels: labels from 0 to 7", lambda: smcl.ClassificationLoss("ce", [5, 3])(torch.zeros(2, 2),
                                                                                            torch.tensor([0, 7]))),
            ("class_weights: expected \\[K\\]", lambda: smcl.ClassificationLoss("ce", [5, 3])(
                torch.zeros(2, 2), torch.tensor([0, 1]), class_weights=torch.ones(3))),
            ("maps: expected \\[B, H, W\\]", lambda: smcl.saliency_peaks(torch.zeros(4, 4))),
            ("classifier_weight \\[K, D\\] expected", lambda: smcl.class_activation_map(
                torch.zeros(2, 3, 4, 4), torch.zeros(5, 2), torch.tensor([0, 1]), 8, 8)),
        ]
        for pattern, call in cases:
            with self.subTest(pattern), self.assertRaisesRegex(smcl.Error, pattern):
                call()

    def test_no_argument_is_an_internal_error(self):
        # Issue 38: every function called with every kind of wrong tensor (rank, dtype, emptiness, NaN, labels out
        # of range) and wrong number (negative, huge, NaN); each call returns or raises smcl.Error or TypeError,
        # never an internal error, a MemoryError or an OOM kill. In a child process under a 4 GiB address-space
        # limit, so that a size check that regressed fails this test instead of the machine.
        child = subprocess.run([sys.executable, "-c", HOSTILE_CALLS], capture_output=True, text=True, timeout=600,
                               preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30)))
        self.assertEqual(child.returncode, 0, child.stderr[-3000:])
        report = json.loads(child.stdout)
        self.assertGreater(report["calls"], 5000)
        self.assertEqual(report["failures"], [])


class Runs(unittest.TestCase):
    """One tiny Fashion-MNIST-LT run trained through smcl.train, then used through smcl.load_run."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.run_dir = os.path.join(cls.tmp.name, "run")
        cls.summary = smcl.train(os.path.join(SOURCE_DIR, "configs", "fashion_mnist_lt_erm.yaml"),
                                 ["train.epochs=2", "data.max_per_class=300", "train.batch_size=64",
                                  "optim.warmup_epochs=1", "train.threads=2"], out=cls.run_dir)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_paths_and_overrides_of_the_wrong_kind_are_named_errors(self):
        # Issue 38: out=None trained into ./None, and a single string was taken apart letter by letter.
        config = os.path.join(SOURCE_DIR, "configs", "fashion_mnist_lt_erm.yaml")
        cwd = os.getcwd()
        with self.assertRaisesRegex(smcl.Error, "out: expected a path"):
            smcl.train(config, ["train.epochs=1"], out=None)
        self.assertFalse(os.path.exists(os.path.join(cwd, "None")))
        with self.assertRaisesRegex(smcl.Error, "overrides: expected a sequence"):
            smcl.train(config, "train.epochs=1", out=os.path.join(self.tmp.name, "letters"))
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "letters")))
        with self.assertRaisesRegex(smcl.Error, "run_dir: expected a path"):
            smcl.load_run(None)
        with self.assertRaisesRegex(smcl.Error, "run_dir: expected a path"):
            smcl.resume(3)

    def test_summary_is_the_run_folders(self):
        with open(os.path.join(self.run_dir, "summary.json")) as f:
            self.assertEqual(json.load(f), self.summary)
        self.assertEqual(self.summary["epochs"], 2)

    def test_loaded_run_reproduces_the_runs_test_accuracy(self):
        model = smcl.load_run(self.run_dir, "last")
        self.assertIsInstance(model, torch.nn.Module)
        self.assertFalse(model.training)
        self.assertEqual(model.class_names[0], "T-shirt/top")
        images = torch.from_numpy(read_idx("t10k-images-idx3-ubyte.gz").copy()).unsqueeze(1)
        labels = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))
        correct = 0
        with torch.no_grad():
            for start in range(0, len(labels), 512):
                logits = model(model.prepare(images[start:start + 512]))
                correct += int((logits.argmax(1) == labels[start:start + 512]).sum())
        self.assertEqual(correct, round(self.summary["last"]["top1"] * len(labels) / 100))
        probabilities = model.predict_proba(images[:4])
        self.assertTrue(torch.allclose(probabilities.sum(1), torch.ones(4, dtype=torch.float64)))

    def test_forward_checks_its_input(self):
        model = smcl.load_run(self.run_dir, "best")
        for x in (torch.zeros(2, 28, 28), torch.zeros(2, 3, 28, 28), torch.zeros(2, 1, 28, 28, dtype=torch.uint8),
                  torch.zeros(2, 1, 28, 28, dtype=torch.float64), torch.zeros(2, 1, 0, 0)):
            with self.subTest(str(x.shape)), \
                    self.assertRaisesRegex(smcl.Error, "x: expected Float images \\[B, 1, H, W\\]"):
                model(x)

    def test_parameters_are_the_networks_own(self):
        model = smcl.load_run(self.run_dir, "best")
        names = list(model.state_dict())
        self.assertIn("conv1.weight", names)
        self.assertIn("linear.weight", names)
        self.assertIn("bn1.running_mean", names)
        x = model.prepare(torch.from_numpy(read_idx("t10k-images-idx3-ubyte.gz")[:8].copy()).unsqueeze(1))
        before = model(x).detach()
        # One SGD step from Python trains the network smcl runs: the output changes, and the gradient is there.
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        torch.nn.functional.cross_entropy(model(x), torch.arange(8) % 10).backward()
        self.assertIsNotNone(model.linear.weight.grad)
        optimizer.step()
        model.eval()
        self.assertFalse(torch.equal(model(x).detach(), before))
        # Conversions act on the C++ network too.
        model.double()
        self.assertEqual(model(x.double()).dtype, torch.float64)

    def test_classify_files_and_errors(self):
        import cv2
        model = smcl.load_run(self.run_dir, "last")
        image = read_idx("t10k-images-idx3-ubyte.gz")[0]
        good = os.path.join(self.tmp.name, "shoe.png")
        cv2.imwrite(good, image)
        rows = model.classify([good, os.path.join(self.tmp.name, "missing.png")], top_k=3)
        self.assertIsNone(rows[0]["error"])
        self.assertEqual(len(rows[0]["classes"]), 3)
        expected = model.predict_proba(torch.from_numpy(image.copy()).unsqueeze(0).unsqueeze(0))[0]
        self.assertEqual(rows[0]["classes"][0], int(expected.argmax()))
        self.assertAlmostEqual(rows[0]["probabilities"][0], float(expected.max()), delta=1e-6)
        self.assertIn("missing.png", rows[1]["error"])

    def test_bad_config_key_is_named(self):
        with self.assertRaisesRegex(smcl.Error, "optim.lr"):
            smcl.train(os.path.join(SOURCE_DIR, "configs", "fashion_mnist_lt_erm.yaml"), ["optim.lr=-1"],
                       out=os.path.join(self.tmp.name, "bad"))

    def test_stop_signal_is_keyboard_interrupt_and_resumable(self):
        # A child process asks itself to stop (SIGINT) at step 3: smcl stops at the step boundary, Python sees
        # KeyboardInterrupt, its own SIGINT handling is back afterwards, and the run resumes.
        out = os.path.join(self.tmp.name, "stopped")
        script = f"""
import os, signal, smcl
try:
    smcl.train({os.path.join(SOURCE_DIR, "configs", "fashion_mnist_lt_erm.yaml")!r},
               ["train.epochs=2", "data.max_per_class=100", "train.batch_size=64", "train.threads=1"], out={out!r})
    print("not stopped")
except KeyboardInterrupt as e:
    print("stopped:", e)
try:
    os.kill(os.getpid(), signal.SIGINT)
    print("python's handler is gone")
except KeyboardInterrupt:
    print("python handles SIGINT again")
"""
        env = dict(os.environ, SMCL_DEBUG_KILL_AT_STEP="3", SMCL_DEBUG_KILL_SIGNAL=str(int(signal.SIGINT)))
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("stopped: stopped by SIGINT at epoch 0, step 3", done.stdout)
        self.assertIn("python handles SIGINT again", done.stdout)
        summary = smcl.resume(out)
        self.assertEqual(summary["epochs"], 2)


if __name__ == "__main__":
    unittest.main()
