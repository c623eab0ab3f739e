"""smcl from Python: saliency masked contrastive learning for long-tailed image classification.

The functions work on torch.Tensors in place, without copies, on the tensors' device, and autograd flows
through the losses. Training writes the same run folder as `smcl train`; `load_run` turns a run folder into
a torch.nn.Module. SPEC.md defines every formula; the README lists this API.
"""
from __future__ import annotations

import itertools
import json
import os
from typing import Any, Dict, List, Optional, Sequence, Union

import torch

from smcl._C import (  # noqa: F401  (re-exported)
    ClassificationLoss,
    ClassWeightedSampler,
    Error,
    LoadedRun,
    MaskBoxes,
    Rng,
    balanced_contrastive,
    box_mask,
    boxes_at,
    center_peaks,
    class_activation_map,
    class_balanced_weights,
    class_probabilities,
    fine_grained_saliency,
    fine_grained_saliency_opencv,
    long_tail_counts,
    long_tail_indices,
    masked_images,
    opencv_available,
    random_peaks,
    saliency_peaks,
    shot_groups,
    supcon,
)
from smcl import _C

__all__ = [
    "ClassificationLoss", "ClassWeightedSampler", "Error", "MaskBoxes", "Rng", "Run", "balanced_contrastive",
    "box_mask", "boxes_at", "center_peaks", "class_activation_map", "class_balanced_weights", "class_probabilities",
    "fine_grained_saliency", "fine_grained_saliency_opencv", "load_run", "long_tail_counts", "long_tail_indices",
    "masked_images", "opencv_available", "random_peaks", "resume", "saliency_peaks", "shot_groups", "supcon",
    "train",
]


def _path(value: Any, name: str) -> str:
    """A path argument as text; anything but a str or os.PathLike is an Error naming the argument (str(None)
    would be a folder called 'None')."""
    if not isinstance(value, (str, os.PathLike)):
        raise Error(f"{name}: expected a path (str or os.PathLike), not {type(value).__name__} {value!r}")
    return os.fspath(value)


def _overrides(value: Any) -> List[str]:
    """The overrides argument as a list of "key=value"; a single str would be taken apart letter by letter."""
    if isinstance(value, (str, bytes)) or not all(isinstance(o, str) for o in value):
        raise Error(f"overrides: expected a sequence of 'key=value' strings, not {value!r}")
    return list(value)


def train(config_path: str, overrides: Sequence[str] = (), *, out: str) -> Dict[str, Any]:
    """Trains a run as `smcl train --config config_path --set KEY=VALUE... --out out` does.

    overrides: "key=value" strings (the value read as YAML), e.g. ["train.epochs=2"]. out: the run folder to
    create. Returns the run's summary.json as a dict. Ctrl-C stops at the next step boundary (the last
    checkpoint stays resumable) and raises KeyboardInterrupt. Bad configs raise smcl.Error naming the key.
    """
    return json.loads(_C.train(_path(config_path, "config_path"), _overrides(overrides), _path(out, "out")))


def resume(run_dir: str, from_: str = "last") -> Dict[str, Any]:
    """Continues the run in run_dir from its "last" (or "best") checkpoint; returns the summary as a dict."""
    return json.loads(_C.resume(_path(run_dir, "run_dir"), from_))


class Run(torch.nn.Module):
    """A trained run as a torch.nn.Module: forward(x) gives the logits.

    Its parameters and buffers are the C++ network's own tensors (state_dict() has the names `smcl export`
    writes), so an optimiser in Python trains the network that smcl runs, and .to(), .train() and .eval() act
    on it. x is the run's network input, [B, C, S, S] float32 normalised as the run's test transform: prepare()
    makes it from uint8 images.
    """

    def __init__(self, run_dir: str, checkpoint: str = "best") -> None:
        super().__init__()
        self._run = LoadedRun(_path(run_dir, "run_dir"), checkpoint)
        self.class_names: List[str] = list(self._run.class_names)
        self.epoch: int = self._run.epoch
        self.temperature: float = self._run.temperature
        self.config_yaml: str = self._run.config_yaml
        for name, tensor in self._run.named_parameters():
            owner, leaf = self._owner(name)
            # The C++ tensor itself becomes the Parameter (no copy), so gradients reach it.
            tensor.__class__ = torch.nn.Parameter
            owner.register_parameter(leaf, tensor)
        for name, tensor in self._run.named_buffers():
            owner, leaf = self._owner(name)
            owner.register_buffer(leaf, tensor)
        super().train(False)

    def _owner(self, dotted: str):
        """The (empty) submodule that holds `dotted`'s last part, made on the way: the C++ module tree."""
        *path, leaf = dotted.split(".")
        owner: torch.nn.Module = self
        for part in path:
            if part not in owner._modules:
                owner.add_module(part, torch.nn.Module())
            owner = owner._modules[part]
        return owner, leaf

    @property
    def device(self) -> torch.device:
        return next(itertools.chain(self.parameters(), self.buffers())).device

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run.forward(x)["logits"]

    def forward_all(self, x: torch.Tensor) -> Dict[str, Optional[torch.Tensor]]:
        """feature_map [B, D, h, w], features [B, D], logits [B, K] and projection [B, P] (None without a head)."""
        return self._run.forward(x)

    def prepare(self, images: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
        """uint8 images ([B, C, H, W], or a list of [C, H, W] of any size for a run on files) -> the network's input."""
        if isinstance(images, torch.Tensor):
            images = list(images.unbind(0)) if images.dim() == 4 else [images]
        return self._run.prepare(list(images))

    def predict_proba(self, images: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
        """Class probabilities [B, K] of uint8 images, with the run's calibrated temperature (1 if none)."""
        with torch.no_grad():
            logits = self(self.prepare(images)).double() / self.temperature
        return torch.softmax(logits, dim=1)

    def classify(self, paths: Sequence[str], top_k: int = 5) -> List[Dict[str, Any]]:
        """Image files -> one dict per file: path, classes, probabilities (top_k, most probable first), error
        (None, or why the file could not be classified) and warning (None, or what the decoder warned about, a
        corrupt JPEG scan say, for a file classified anyway), as `smcl predict` writes them."""
        return self._run.classify([str(p) for p in paths], top_k)

    def train(self, mode: bool = True) -> "Run":
        super().train(mode)
        self._run.set_training(mode)
        return self

    def _apply(self, fn, *args, **kwargs):
        # Conversions (.to, .cuda, .double) must change the C++ network's tensors in place: torch's own
        # _apply would put new buffer tensors into the Python dicts only.
        with torch.no_grad():
            for tensor in itertools.chain(self.parameters(), self.buffers()):
                tensor.data = fn(tensor)
                if tensor.grad is not None:
                    tensor.grad.data = fn(tensor.grad)
        return self


def load_run(run_dir: str, checkpoint: str = "best") -> Run:
    """Loads run_dir's checkpoints/<checkpoint>.pt ("best" or "last"): a torch.nn.Module in eval mode with the
    trained weights, the class names (.class_names) and the run's test transform (.prepare), on the GPU when
    there is one. Raises smcl.Error naming the folder or file when it cannot."""
    return Run(run_dir, checkpoint)
