#!/usr/bin/env python3
"""Writes a CIFAR-10 image folder (train/<class>/NNNN.jpg, test/<class>/NNNN.jpg, as the public JPEG copy is laid
out: results/cifar10-jpeg/README.md) in CIFAR-10's official binary layout, for builds of smcl without OpenCV (the
GPU machine's, bench/gpu_check.sh), which read the official files but not JPEG.

Usage: cifar_folder_to_binary.py FOLDER OUT   ->  OUT/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin

Images go class by class, each class's files in their numbers' order: the order smcl's folder reader gives
(data::read_cifar_folder), so that both readers give the same long-tailed subset (it picks by position within a
class) and the same images at the same indices. The training images are split over the five batch files as
evenly as they go (10,000 each for CIFAR-10 itself). Each record: the label byte, then the red, green and blue
32x32 planes. Decoded with OpenCV (the same libjpeg-turbo decoding as smcl's OpenCV build), else with Pillow.
"""
import os
import re
import sys

import numpy as np

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def decoder():
    try:
        import cv2

        def decode(path):
            bgr = cv2.imread(path, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
            if bgr is None:
                sys.exit(f"cifar_folder_to_binary.py: '{path}' is not an image OpenCV can read")
            return bgr[:, :, ::-1]
        return decode, "OpenCV " + cv2.__version__
    except ImportError:
        from PIL import Image
        import PIL

        def decode(path):
            with Image.open(path) as image:
                return np.asarray(image.convert("RGB"))
        return decode, "Pillow " + PIL.__version__


def natural_key(name):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def records(split_dir, decode):
    """The split's records, [N, 3073] uint8, class by class."""
    rows = []
    for label, name in enumerate(CLASSES):
        folder = os.path.join(split_dir, name)
        if not os.path.isdir(folder):
            sys.exit(f"cifar_folder_to_binary.py: '{folder}' is missing (CIFAR-10's class {label})")
        for file in sorted(os.listdir(folder), key=natural_key):
            rgb = decode(os.path.join(folder, file))
            if rgb.shape != (32, 32, 3):
                sys.exit(f"cifar_folder_to_binary.py: '{os.path.join(folder, file)}' is {rgb.shape}; expected 32x32 RGB")
            rows.append(np.concatenate([[label], rgb.transpose(2, 0, 1).reshape(-1)]).astype(np.uint8))
    return np.stack(rows)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    folder, out = sys.argv[1], sys.argv[2]
    decode, name = decoder()
    target = os.path.join(out, "cifar-10-batches-bin")
    os.makedirs(target, exist_ok=True)
    train = records(os.path.join(folder, "train"), decode)
    for i, part in enumerate(np.array_split(train, 5), start=1):
        part.tofile(os.path.join(target, f"data_batch_{i}.bin"))
    test = records(os.path.join(folder, "test"), decode)
    test.tofile(os.path.join(target, "test_batch.bin"))
    print(f"cifar_folder_to_binary.py: {len(train)} training and {len(test)} test images of '{folder}' decoded with "
          f"{name} into '{target}'")


if __name__ == "__main__":
    main()
