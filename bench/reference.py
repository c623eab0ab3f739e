#!/usr/bin/python3
"""The reference of the speed benchmark: the same training steps written the way the Python codebases of the
field write them (LDAM-DRW, CMO, BCL, SaliencyMix): a torch.utils.data.DataLoader with worker processes, a
Dataset whose __getitem__ applies torchvision transforms to one PIL image, a second weighted DataLoader for the
minor-weighted targets, and OpenCV's StaticSaliencyFineGrained called image by image in the training loop.
Everything else is left at its defaults, except that torch uses all cores as smcl does (this interpreter's
default is one thread here). Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision,
python3-opencv). One measurement per call; bench/speed.py interleaves them with smcl's and makes the table.

  /usr/bin/python3 bench/reference.py --mode pipeline|eval --method erm|scl|smcl
      --data fashion_mnist|cifar_shaped [--batch 256] [--steps 8] [--warmup 2] [--workers 2]
      [--device cpu|cuda] [--amp none|bf16] [--channels-last] [--compile] [--root FASHION_MNIST_DIR]

--compile (PyTorch 2.0 or later): the model's forward and the losses of a step as one function compiled with
torch.compile(mode="reduce-overhead"), which on CUDA replays them as CUDA graphs: the best a Python user can
do, not only eager mode (issue 22). Its warm-up steps include the compilation.

Prints one JSON line: images/second through the model (every view counted), seconds, peak resident memory of
this process and of its largest worker.
"""
import argparse
import gc
import gzip
import json
import os
import resource
import time

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image
from torch.utils.data import DataLoader, Dataset, WeightedRandomSampler

FMNIST = "/usr/share/datasets/fashion-mnist"
MEAN_STD = {"fashion_mnist": ([0.2860], [0.3530]), "cifar_shaped": ([0.5071, 0.4865, 0.4409], [0.2673, 0.2564, 0.2762])}


def long_tail_counts(num_classes, n_max, ratio):
    return [int(n_max * (1.0 / ratio) ** (k / (num_classes - 1.0))) for k in range(num_classes)]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(name, root):
    """(train images [N, H, W(, C)] uint8, train labels, test images, test labels, counts)."""
    if name == "fashion_mnist":
        counts = long_tail_counts(10, 6000, 100)
        images, labels = read_idx(f"{root}/train-images-idx3-ubyte.gz"), read_idx(f"{root}/train-labels-idx1-ubyte.gz")
        keep = np.concatenate([np.flatnonzero(labels == k)[:n] for k, n in enumerate(counts)])
        test_images, test_labels = read_idx(f"{root}/t10k-images-idx3-ubyte.gz"), read_idx(f"{root}/t10k-labels-idx1-ubyte.gz")
        return images[keep], labels[keep].astype(np.int64), test_images, test_labels.astype(np.int64), counts
    counts = long_tail_counts(100, 500, 100)
    rng = np.random.RandomState(12345)
    labels = np.concatenate([np.full(n, k, dtype=np.int64) for k, n in enumerate(counts)])
    images = rng.randint(0, 256, (len(labels), 32, 32, 3)).astype(np.uint8)
    test_images = rng.randint(0, 256, (10000, 32, 32, 3)).astype(np.uint8)
    return images, labels, test_images, np.arange(10000, dtype=np.int64) % 100, counts


class ImageSet(Dataset):
    """One PIL image per item through a torchvision transform; `views` transformed copies."""

    def __init__(self, images, labels, transform, views):
        self.images, self.labels, self.transform, self.views = images, labels, transform, views

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        image = Image.fromarray(self.images[i])
        out = [self.transform(image) for _ in range(self.views)]
        return (out if self.views > 1 else out[0]), int(self.labels[i])


def conv3x3(cin, cout, stride):
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(cin, planes, stride), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = conv3x3(planes, planes, 1), nn.BatchNorm2d(planes)
        self.pad = planes // 4 if stride != 1 or cin != planes else 0

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        shortcut = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad)) if self.pad else x
        return F.relu(out + shortcut)


class ResNetCifar(nn.Module):
    """ResNet-32 of LDAM-DRW (option A shortcuts), with BCL's projection head for the contrastive methods."""

    def __init__(self, depth, num_classes, channels, head):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1, self.bn1 = conv3x3(channels, 16, 1), nn.BatchNorm2d(16)
        layers, cin = [], 16
        for planes, stride in [(16, 1), (32, 2), (64, 2)]:
            for i in range(n):
                layers.append(BasicBlock(cin, planes, stride if i == 0 else 1))
                cin = planes
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(64, num_classes)
        self.head = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 128)) if head else None
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        features = self.layers(F.relu(self.bn1(self.conv1(x)))).mean((2, 3))
        projection = F.normalize(self.head(features), dim=1) if self.head is not None else None
        return self.linear(features), projection


def supcon(features, labels, temperature=0.07):
    """SupContrast's loss, one view per row (the rows of all views stacked)."""
    mask = torch.eq(labels[:, None], labels[None, :]).float()
    logits = features @ features.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True)[0].detach()
    self_mask = 1 - torch.eye(len(labels), device=features.device)
    mask = mask * self_mask
    log_prob = logits - torch.log((torch.exp(logits) * self_mask).sum(1, keepdim=True))
    return -((mask * log_prob).sum(1) / mask.sum(1).clamp(min=1)).mean()


def saliency_boxes(views_uint8, u, saliency):
    """SaliencyMix's box, image by image: the peak of OpenCV's fine-grained saliency, a box of area share u."""
    boxes = []
    for image in views_uint8:
        ok, smap = saliency.computeSaliency(image)
        y, x = np.unravel_index(np.argmax((smap * 255).astype(np.uint8)), smap.shape)
        h, w = smap.shape
        ch, cw = int(h * np.sqrt(u)), int(w * np.sqrt(u))
        boxes.append((max(y - ch // 2, 0), min(y + ch // 2, h), max(x - cw // 2, 0), min(x + cw // 2, w)))
    return boxes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=["pipeline", "eval"], default="pipeline")
    parser.add_argument("--method", choices=["erm", "scl", "smcl"], default="erm")
    parser.add_argument("--data", choices=["fashion_mnist", "cifar_shaped"], default="fashion_mnist")
    parser.add_argument("--model", default="resnet32")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes per loader")
    parser.add_argument("--device", default="cpu", help="cpu | cuda (batches copied from pinned memory)")
    parser.add_argument("--amp", choices=["none", "bf16"], default="none",
                        help="bf16: forward and losses under autocast")
    parser.add_argument("--channels-last", action="store_true", help="NHWC model and inputs")
    parser.add_argument("--compile", action="store_true",
                        help='forward and losses compiled with torch.compile(mode="reduce-overhead")')
    parser.add_argument("--root", default=FMNIST, help="Fashion-MNIST's IDX files")
    args = parser.parse_args()
    if args.compile and not hasattr(torch, "compile"):
        parser.error(f"--compile needs PyTorch 2.0 or later (this is {torch.__version__})")
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(0)

    images, labels, test_images, test_labels, counts = load(args.data, args.root)
    mean, std = MEAN_STD[args.data]
    channels = 1 if images.ndim == 3 else 3
    size = images.shape[1]
    device = torch.device(args.device)
    pin = device.type == "cuda"
    model = ResNetCifar(int(args.model.replace("resnet", "")), len(counts), channels, args.method != "erm").to(device)
    layout = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)

    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.amp == "bf16")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    result = {"implementation": "python", "mode": args.mode, "method": args.method, "data": args.data,
              "model": args.model, "batch": args.batch, "steps": args.steps, "workers": args.workers,
              "threads": torch.get_num_threads(), "torch": torch.__version__, "device": str(device),
              "amp": args.amp, "channels_last": args.channels_last, "compiled": args.compile}

    if args.mode == "eval":
        loader = DataLoader(ImageSet(test_images, test_labels, T.Compose([T.ToTensor(), T.Normalize(mean, std)]), 1),
                            batch_size=512, num_workers=args.workers, pin_memory=pin)
        model.eval()

        def one_pass():
            correct = 0
            with torch.no_grad(), autocast():
                for x, y in loader:
                    x = x.to(device, non_blocking=True).contiguous(memory_format=layout)
                    correct += (model(x)[0].argmax(1).cpu() == y).sum().item()
            return correct

        for _ in range(args.warmup):
            one_pass()
        start = time.perf_counter()
        for _ in range(args.steps):
            one_pass()
        seconds = time.perf_counter() - start
        images_done = args.steps * len(test_labels)
    else:
        train_transform = T.Compose([T.RandomCrop(size, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                                     T.Normalize(mean, std)])
        views = 1 if args.method == "erm" else 2
        source = DataLoader(ImageSet(images, labels, train_transform, views), batch_size=args.batch, shuffle=True,
                            num_workers=args.workers, drop_last=True, pin_memory=pin)
        loaders = [source]
        if args.method == "smcl":
            # CMO's weighted loader: each image drawn with the effective-number weight of its class.
            beta = 0.9999
            per_class = (1 - beta) / (1 - np.power(beta, counts))
            weights = per_class[labels] / np.array(counts)[labels]
            target = DataLoader(ImageSet(images, labels, train_transform, 2), batch_size=args.batch,
                                sampler=WeightedRandomSampler(weights, len(labels), replacement=True),
                                num_workers=args.workers, drop_last=True, pin_memory=pin)
            loaders.append(target)
        # OpenCV's contrib module (Debian: python3-opencv); opencv-python-headless lacks it.
        saliency = cv2.saliency.StaticSaliencyFineGrained_create() if args.method == "smcl" else None
        mean_t, std_t = torch.tensor(mean).view(1, -1, 1, 1), torch.tensor(std).view(1, -1, 1, 1)
        iterators = [iter(loader) for loader in loaders]

        def next_batch(i):
            try:
                return next(iterators[i])
            except StopIteration:
                iterators[i] = iter(loaders[i])
                return next(iterators[i])

        model.train()

        def to_device(batch):
            x, y = batch
            x = [v.to(device, non_blocking=True) for v in x] if isinstance(x, list) else x.to(device, non_blocking=True)
            return x, y.to(device, non_blocking=True)

        def one_step():
            with autocast():
                loss, n = forward_and_loss()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()  # waits for the device
            return n

        # The tensor part of a step: the model on every view and the method's losses (b source images).
        def model_and_losses(x, y, yt=None, lam=None):
            if args.method == "erm":
                return F.cross_entropy(model(x)[0], y)
            logits, projection = model(x)
            b = len(y)
            loss = F.cross_entropy(logits[:2 * b], torch.cat([y, y]))
            if yt is None:
                return loss + supcon(projection, torch.cat([y, y]))
            view_labels = torch.cat([y, y, yt, yt])
            m = logits[4 * b:]
            loss = loss + (lam * F.cross_entropy(m, yt, reduction="none") +
                           (1 - lam) * F.cross_entropy(m, y, reduction="none")).mean()
            lb = lam.mean()
            return loss + lb * supcon(projection, torch.cat([view_labels, yt])) + \
                (1 - lb) * supcon(projection, torch.cat([view_labels, y]))

        if args.compile:
            model_and_losses = torch.compile(model_and_losses, mode="reduce-overhead")

        def forward_and_loss():
            x, y = to_device(next_batch(0))
            if args.method == "erm":
                return model_and_losses(x.contiguous(memory_format=layout), y), len(y)
            groups = [x[0], x[1]]
            yt = lam = None
            if args.method == "smcl":
                (t1, t2), yt = to_device(next_batch(1))
                groups += [t1, t2]
                u = np.random.beta(1.0, 1.0)
                s1_uint8 = ((x[0].cpu() * std_t + mean_t) * 255).clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
                masked = x[0].clone()
                lam = []
                for i, (y0, y1, x0, x1) in enumerate(saliency_boxes(s1_uint8, u, saliency)):
                    masked[i, :, y0:y1, x0:x1] = t1[i, :, y0:y1, x0:x1]
                    lam.append((y1 - y0) * (x1 - x0) / float(size * size))
                groups.append(masked)
                lam = torch.tensor(lam, device=device)
            x_all = torch.cat(groups).contiguous(memory_format=layout)
            return model_and_losses(x_all, y, yt, lam), len(x_all)

        for _ in range(args.warmup):
            one_step()
        start = time.perf_counter()
        images_done = sum(one_step() for _ in range(args.steps))
        seconds = time.perf_counter() - start
        iterators.clear()  # shuts the workers down, so that their peak memory is counted
        gc.collect()
    usage_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    usage_workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    result.update({"images": images_done, "seconds": seconds, "images_per_second": images_done / seconds,
                   "peak_rss_mib": usage_self, "worker_peak_rss_mib": usage_workers})
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
