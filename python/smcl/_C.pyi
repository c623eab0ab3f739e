# Type hints of smcl's compiled module (python/bindings.cpp). Shapes and formulas: SPEC.md.
from typing import Any, Dict, List, Optional, Tuple

import torch

class Error(ValueError):
    """Bad input to smcl: the message names the file, key or value and what was expected."""

class Rng:
    """smcl's random stream (64-bit Mersenne twister) with a saveable state."""
    def __init__(self, seed: int = 0) -> None: ...
    def uniform(self) -> float: ...
    def uniform_int(self, n: int) -> int: ...
    def beta(self, a: float, b: float) -> float: ...
    def permutation(self, n: int) -> List[int]: ...
    state: str

# Saliency (SPEC section 3).
def fine_grained_saliency(images: torch.Tensor) -> torch.Tensor:
    """uint8 [B, C, H, W] (C = 1, or 3 as RGB) -> float32 [B, H, W] in [0, 1]: OpenCV's
    StaticSaliencyFineGrained map / 255, batched, on the images' device."""
def opencv_available() -> bool: ...
def fine_grained_saliency_opencv(images: torch.Tensor) -> torch.Tensor:
    """The same map computed by OpenCV itself, image by image on the CPU (needs a build with OpenCV)."""
def class_activation_map(feature_map: torch.Tensor, classifier_weight: torch.Tensor, labels: torch.Tensor,
                         height: int, width: int) -> torch.Tensor:
    """[B, D, h, w], [K, D], [B] int64 -> [B, height, width]: ReLU(sum_d W[y, d] F[:, d]), bilinear, / max."""
def saliency_peaks(maps: torch.Tensor) -> torch.Tensor:
    """maps [B, H, W] -> [B, 2] int64 (row, column) of each map's first maximum (row-major)."""
def center_peaks(batch: int, height: int, width: int) -> torch.Tensor: ...
def random_peaks(batch: int, height: int, width: int, rng: Rng) -> torch.Tensor: ...

# SMCL's mask (SPEC section 3).
class MaskBoxes:
    """One box per sample: rows [top, bottom), columns [left, right) ([B] int64), lambda_ = area / (H W)."""
    def __init__(self, top: torch.Tensor, bottom: torch.Tensor, left: torch.Tensor, right: torch.Tensor,
                 lambda_: torch.Tensor) -> None: ...
    @property
    def top(self) -> torch.Tensor: ...
    @property
    def bottom(self) -> torch.Tensor: ...
    @property
    def left(self) -> torch.Tensor: ...
    @property
    def right(self) -> torch.Tensor: ...
    @property
    def lambda_(self) -> torch.Tensor: ...

def boxes_at(peaks: torch.Tensor, u: float, height: int, width: int, per_batch: bool = False) -> MaskBoxes:
    """Boxes of side c = floor(D sqrt(u)) (D = height, width) centred on peaks [B, 2], clipped to the image;
    per_batch: every sample gets sample 0's box."""
def box_mask(boxes: MaskBoxes, height: int, width: int) -> torch.Tensor:
    """[B, 1, H, W] bool, true inside each sample's box."""
def masked_images(source: torch.Tensor, fill: Optional[torch.Tensor], boxes: MaskBoxes) -> torch.Tensor:
    """source [B, C, H, W] outside each box, fill's pixels (zeros when fill is None) inside it."""

# Losses (SPEC sections 4 and 5).
def supcon(features: torch.Tensor, labels: torch.Tensor, temperature: float = 0.07,
           base_temperature: float = 0.07) -> torch.Tensor:
    """Supervised contrastive loss of L2-normalised features [N, D] with labels [N] (all anchors; an anchor
    without positives adds 0); differentiable."""

def balanced_contrastive(anchors: torch.Tensor, labels: torch.Tensor, prototypes: torch.Tensor,
                         temperature: float = 0.07) -> torch.Tensor:
    """BCL's balanced contrastive loss of L2-normalised anchors [N, D] with labels [N] and class prototypes
    [K, D] (class-averaged denominators, the prototypes in the contrast set); differentiable."""

class ClassificationLoss:
    """ce | ldam (margins C / n_k^(1/4), on cosine logits scaled by ldam_scale) | focal | balanced_softmax |
    logit_adjusted (CE(z + la_tau log pi, y))."""
    def __init__(self, name: str, counts: List[int], ldam_max_margin: float = 0.5, ldam_scale: float = 30.0,
                 focal_gamma: float = 1.0, la_tau: float = 1.0) -> None: ...
    def per_sample(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor: ...
    def __call__(self, logits: torch.Tensor, labels: torch.Tensor, class_weights: Optional[torch.Tensor] = None,
                 share: Optional[torch.Tensor] = None) -> torch.Tensor:
        """sum_i share_i w_{y_i} l_i / normaliser (the weighted mean; focal: / batch size)."""
    def mixed(self, logits: torch.Tensor, labels_a: torch.Tensor, labels_b: torch.Tensor, lambda_: torch.Tensor,
              class_weights: Optional[torch.Tensor] = None) -> torch.Tensor: ...
    @property
    def margins(self) -> torch.Tensor: ...

def class_balanced_weights(counts: List[int], beta: float = 0.9999) -> torch.Tensor:
    """w_k = (1 - beta) / (1 - beta^n_k), normalised to sum to K: [K] float32."""

# Long-tailed subsets and samplers (SPEC sections 1 and 2).
def long_tail_counts(profile: str, num_classes: int, max_per_class: int, imbalance_ratio: float) -> List[int]: ...
def long_tail_indices(labels: torch.Tensor, counts: List[int], seed: int = 0) -> torch.Tensor:
    """[M] int64 kept indices, chosen as numpy.random.RandomState(seed).shuffle per class does."""
def shot_groups(counts: List[int], many_threshold: int = 100, few_threshold: int = 20) -> List[int]: ...
def class_probabilities(sampler: str, counts: List[int], beta: float = 0.9999, power: float = 1.0) -> List[float]:
    """p_k of effective_number | class_balanced | inverse_power."""

class ClassWeightedSampler:
    def __init__(self, labels: torch.Tensor, probabilities: List[float]) -> None: ...
    def sample(self, n: int, rng: Rng) -> torch.Tensor:
        """n dataset indices [n] int64: class k ~ p, then an image of k uniformly (with replacement)."""

# Runs.
def train(config_path: str, overrides: List[str], out: str) -> str: ...
def resume(run_dir: str, from_: str = "last") -> str: ...

class LoadedRun:
    def __init__(self, run_dir: str, checkpoint: str = "best") -> None: ...
    def forward(self, x: torch.Tensor) -> Dict[str, Optional[torch.Tensor]]: ...
    def named_parameters(self) -> List[Tuple[str, torch.Tensor]]: ...
    def named_buffers(self) -> List[Tuple[str, torch.Tensor]]: ...
    def set_training(self, on: bool) -> None: ...
    def prepare(self, images: List[torch.Tensor]) -> torch.Tensor: ...
    def classify(self, paths: List[str], top_k: int = 5) -> List[Dict[str, Any]]: ...
    @property
    def class_names(self) -> List[str]: ...
    @property
    def epoch(self) -> int: ...
    @property
    def temperature(self) -> float: ...
    @property
    def device(self) -> str: ...
    @property
    def config_yaml(self) -> str: ...
