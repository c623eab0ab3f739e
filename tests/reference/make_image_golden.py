#!/usr/bin/python3
"""Makes the golden data of the image-file tests with PIL and torchvision (Debian's python3-torchvision).

Run with Debian's /usr/bin/python3: `/usr/bin/python3 tests/reference/make_image_golden.py`. It rewrites
tests/reference/golden/images/. The C++ tests never run this script; they read its output.

- images/*.png, *.jpg: small images of deterministic content, written by PIL: colour and grayscale, PNG with
  and without alpha, JPEG colour and grayscale, odd sizes.
- images/decoded.json: each file as torchvision's ImageFolder sees it (PIL open, convert("RGB") or ("L")),
  as [C, H, W] nested lists.
- images/views.json: torchvision's resized_crop(..., antialias=True) of the decoded tensors for given boxes and
  output sizes, and Resize(int(side / crop)) + CenterCrop(side), on uint8 tensors as smcl does them.
- images/color.json: torchvision's adjust_brightness / contrast / saturation / hue and rgb_to_grayscale of
  float images in [0, 1], one factor per image, image by image.
- images/rand_augment.json: each RandAugment operation of timm's rand-n2-m10 op set applied by PIL exactly as
  timm's auto_augment.py does (ImageOps, ImageEnhance, Image.transform AFFINE with bilinear resampling and the
  fill colour (124, 116, 104)), to one RGB and one grayscale image, at several magnitudes.
- images/auto_augment.json: each operation of torchvision's AutoAugment CIFAR-10 policy applied by torchvision's
  own _apply_op to PIL images (nearest resampling, no fill: black), at every magnitude bin of 10 with both signs,
  to an RGB and a grayscale image of 11x13, and the geometric ones at three bins to a 32x32 RGB image (CIFAR's
  size); with the magnitudes torchvision's _augmentation_space gives for each size.
"""
import json
import os

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image, ImageEnhance, ImageOps

GOLDEN = os.environ.get("SMCL_GOLDEN_OUT", os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden"))
OUT = os.path.join(GOLDEN, "images")


def pattern(h, w, c, seed):
    # Smooth gradients plus a few sharp edges, so that resizing and JPEG both have something to do.
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for k in range(c):
        v = 127.5 + 90 * np.sin((x * (k + 1) + y * (seed + 2)) / 5.0) + 30 * ((x // 4 + y // 3 + k) % 2)
        planes.append(v)
    return np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {
        "rgb_23x17.png": Image.fromarray(pattern(17, 23, 3, 0), "RGB"),
        "rgba_19x26.png": Image.fromarray(pattern(26, 19, 4, 1), "RGBA"),
        "gray_21x14.png": Image.fromarray(pattern(14, 21, 1, 2)[:, :, 0], "L"),
        "rgb_40x28.jpg": Image.fromarray(pattern(28, 40, 3, 3), "RGB"),
        "gray_20x31.jpg": Image.fromarray(pattern(31, 20, 1, 4)[:, :, 0], "L"),
    }
    decoded = {}
    for name, image in files.items():
        path = os.path.join(OUT, name)
        if name.endswith(".jpg"):
            image.save(path, quality=90)
        else:
            image.save(path)
        with Image.open(path) as opened:
            decoded[name] = {
                "rgb": np.asarray(opened.convert("RGB")).transpose(2, 0, 1).tolist(),
                "gray": np.asarray(opened.convert("L"))[None].tolist(),
            }
    with open(os.path.join(OUT, "decoded.json"), "w") as f:
        json.dump(decoded, f)

    views = {"resized_crop": [], "center_view": []}
    source = torch.tensor(decoded["rgb_23x17.png"]["rgb"], dtype=torch.uint8)  # [3, 17, 23]
    for top, left, height, width, out_h, out_w in [(0, 0, 17, 23, 8, 8), (2, 3, 11, 15, 8, 8), (5, 1, 6, 9, 12, 10),
                                                   (1, 4, 16, 5, 7, 7), (0, 0, 17, 23, 17, 23)]:
        out = TF.resized_crop(source, top, left, height, width, [out_h, out_w], antialias=True)
        views["resized_crop"].append({"box": [top, left, height, width], "out": [out_h, out_w], "image": out.tolist()})
    for name in ["rgb_23x17.png", "rgba_19x26.png"]:
        image = torch.tensor(decoded[name]["rgb"], dtype=torch.uint8)
        for side, crop in [(8, 0.875), (12, 1.0), (9, 0.7)]:
            resized = TF.resize(image, int(side / crop), antialias=True)
            out = TF.center_crop(resized, [side, side])
            views["center_view"].append({"file": name, "side": side, "crop": crop, "image": out.tolist()})
    with open(os.path.join(OUT, "views.json"), "w") as f:
        json.dump(views, f)

    torch.manual_seed(0)
    color = {}
    for name, channels in [("rgb", 3), ("gray", 1)]:
        images = torch.rand(4, channels, 5, 6, dtype=torch.float64).float()
        images[0, :, 0, 0] = 0.5  # a grey pixel (max == min) and a saturated one for the hue branches
        images[1, :, 1, 1] = torch.tensor([1.0, 0.0, 0.0])[:channels]
        factors = [0.6, 1.0, 1.37, 0.0]
        shifts = [-0.1, 0.0, 0.05, 0.5]
        entry = {"images": images.tolist(), "factors": factors, "shifts": shifts}
        for op, fn in [("brightness", TF.adjust_brightness), ("contrast", TF.adjust_contrast),
                       ("saturation", TF.adjust_saturation)]:
            entry[op] = torch.stack([fn(images[i], factors[i]) for i in range(4)]).tolist()
        entry["hue"] = torch.stack([TF.adjust_hue(images[i], shifts[i]) for i in range(4)]).tolist()
        entry["grayscale"] = (TF.rgb_to_grayscale(images) if channels == 3 else images).tolist()
        color[name] = entry
    with open(os.path.join(OUT, "color.json"), "w") as f:
        json.dump(color, f)

    with open(os.path.join(OUT, "rand_augment.json"), "w") as f:
        json.dump(rand_augment_golden(), f)

    with open(os.path.join(OUT, "auto_augment.json"), "w") as f:
        json.dump(auto_augment_golden(), f)


FILL = (124, 116, 104)


def pil_affine(img, matrix):
    fill = FILL if img.mode == "RGB" else FILL[0]
    return img.transform(img.size, Image.AFFINE, matrix, resample=Image.BILINEAR, fillcolor=fill)


def pil_op(img, name, value):
    # value: the operation's argument after timm's level_to_arg (signs already applied).
    if name == "AutoContrast":
        return ImageOps.autocontrast(img)
    if name == "Equalize":
        return ImageOps.equalize(img)
    if name == "Invert":
        return ImageOps.invert(img)
    if name == "Posterize":
        return ImageOps.posterize(img, value)
    if name == "Solarize":
        return ImageOps.solarize(img, value)
    if name == "SolarizeAdd":
        lut = [min(255, i + value) if i < 128 else i for i in range(256)]
        return img.point(lut * (3 if img.mode == "RGB" else 1))
    if name in ("Color", "Contrast", "Brightness", "Sharpness"):
        return getattr(ImageEnhance, name)(img).enhance(value)
    if name == "Rotate":
        fill = FILL if img.mode == "RGB" else FILL[0]
        return img.rotate(value, resample=Image.BILINEAR, fillcolor=fill)
    if name == "ShearX":
        return pil_affine(img, (1, value, 0, 0, 1, 0))
    if name == "ShearY":
        return pil_affine(img, (1, 0, 0, value, 1, 0))
    if name == "TranslateX":
        return pil_affine(img, (1, 0, value * img.size[0], 0, 1, 0))
    if name == "TranslateY":
        return pil_affine(img, (1, 0, 0, 0, 1, value * img.size[1]))
    raise ValueError(name)


def rand_augment_golden():
    rgb = Image.fromarray(pattern(11, 13, 3, 5), "RGB")
    gray = Image.fromarray(pattern(11, 13, 1, 6)[:, :, 0], "L")
    # (operation, argument): magnitudes 10, 7 and 3 through timm's level_to_arg, signed ones with both signs.
    cases = [("AutoContrast", 0), ("Equalize", 0), ("Invert", 0)]
    for m in (10, 7, 3):
        cases += [("Posterize", int(m / 10 * 4)), ("Solarize", int(m / 10 * 256)), ("SolarizeAdd", int(m / 10 * 110)),
                  ("Color", m / 10 * 1.8 + 0.1), ("Contrast", m / 10 * 1.8 + 0.1),
                  ("Brightness", m / 10 * 1.8 + 0.1), ("Sharpness", m / 10 * 1.8 + 0.1)]
        for sign in (1, -1):
            cases += [("Rotate", sign * m / 10 * 30), ("ShearX", sign * m / 10 * 0.3), ("ShearY", sign * m / 10 * 0.3),
                      ("TranslateX", sign * m / 10 * 0.45), ("TranslateY", sign * m / 10 * 0.45)]
    out = {"rgb": np.asarray(rgb).transpose(2, 0, 1).tolist(), "gray": np.asarray(gray)[None].tolist(), "cases": []}
    for name, value in cases:
        out["cases"].append({
            "op": name, "value": value,
            "rgb": np.asarray(pil_op(rgb, name, value)).transpose(2, 0, 1).tolist(),
            "gray": np.asarray(pil_op(gray, name, value))[None].tolist(),
        })
    return out


def auto_augment_golden():
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.autoaugment import AutoAugment, AutoAugmentPolicy, _apply_op
    auto = AutoAugment(AutoAugmentPolicy.CIFAR10)
    ops = sorted({op for policy in auto.policies for op, _, _ in policy})
    images = {"rgb32": Image.fromarray(pattern(32, 32, 3, 7), "RGB"),
              "rgb11x13": Image.fromarray(pattern(11, 13, 3, 8), "RGB"),
              "gray11x13": Image.fromarray(pattern(11, 13, 1, 9)[:, :, 0], "L")}
    out = {"policy": [[[op, p, bin] for op, p, bin in policy] for policy in auto.policies], "images": {}}
    for key, img in images.items():
        array = np.asarray(img)
        entry = {"image": (array.transpose(2, 0, 1) if array.ndim == 3 else array[None]).tolist(), "cases": []}
        space = auto._augmentation_space(10, (img.height, img.width))
        geometric = ("Rotate", "ShearX", "ShearY", "TranslateX", "TranslateY")
        for op in ops if key != "rgb32" else geometric:
            magnitudes, signed = space[op]
            bins = ((2, 5, 9) if key == "rgb32" else range(10)) if magnitudes.ndim > 0 else [None]
            for bin in bins:
                magnitude = float(magnitudes[bin].item()) if bin is not None else 0.0
                for sign in ((1, -1) if signed else (1,)):
                    result = np.asarray(_apply_op(img, op, sign * magnitude, InterpolationMode.NEAREST, None))
                    entry["cases"].append({
                        "op": op, "bin": bin, "magnitude": sign * magnitude,
                        "image": (result.transpose(2, 0, 1) if result.ndim == 3 else result[None]).tolist()})
        out["images"][key] = entry
    return out


if __name__ == "__main__":
    main()
