// Background-biased long-tailed sets (data.name fashion_mnist_bg, mnist_bg): the grayscale objects of a set
// composited on 32x32 colour backgrounds drawn from a fixed family of procedural textures, so that, as in the
// paper's Figure 1, a background can stand in for a major class. In training each major class has its own
// background kind with probability data.bg_bias and a uniformly random kind otherwise; minor classes always get
// a random kind. The test set gets random kinds, independent of the class; the conflict split puts every
// minor-class test object on the own background of a major class. Everything is drawn from data.subset_seed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "smcl/core/rng.h"
#include "smcl/data/datasets.h"

namespace smcl::data {

inline constexpr int64_t kBackgroundSide = 32;

// The texture kinds, in the order of their numbers: "horizontal stripes", "checkers", ...
const std::vector<std::string>& background_kind_names();

// One background of `kind`: [3, side, side] uint8. The kind fixes the pattern and its two base colours; the
// geometry (period, phase, centre, ...) and a colour jitter of up to +-24 per channel are drawn from rng.
torch::Tensor render_background(int64_t kind, int64_t side, Rng& rng);

// Grayscale objects [N, 1, h, w] uint8 (h, w <= side) centred on backgrounds [N, 3, side, side] uint8: a pixel of
// value v covers the background with opacity min(1, v / 85) in its own gray, so the object's dark parts stay
// mostly opaque and its black surround lets the background through. -> [N, 3, side, side] uint8.
torch::Tensor composite(const torch::Tensor& objects, const torch::Tensor& backgrounds);

// The major classes of a long-tailed set: the floor(K / 2) largest by training count (ties: the lower index),
// largest first. Major class number r (in this order) owns background kind r.
std::vector<int64_t> major_classes(const std::vector<int64_t>& counts);

// Turns the grayscale `data` (its long-tailed training subset already cut) into the background-biased set:
// train and test become [N, 3, 32, 32], and data.conflict / data.conflict_background_class are filled.
// Throws smcl::Error when the images are not grayscale or larger than 32x32, or there are more major classes
// than background kinds.
void add_biased_backgrounds(LongTailedData& data, double bias, uint32_t seed);

// The grayscale set under a background-biased one (fashion_mnist_bg -> fashion_mnist); nullopt for the others.
std::optional<config::DatasetName> background_base(config::DatasetName name);

}  // namespace smcl::data
