#include "smcl/augment/image_views.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "smcl/core/error.h"
#include "smcl/core/parallel.h"

namespace smcl::augment {
namespace F = torch::nn::functional;
namespace {

// Python's int(round(x)), which rounds halves to even (std::nearbyint under the default rounding mode).
int64_t round_half_even(double x) { return int64_t(std::nearbyint(x)); }

}  // namespace

CropBox random_resized_crop_box(int64_t height, int64_t width, const std::vector<double>& scale,
                                const std::vector<double>& ratio, Rng& rng) {
  const double area = double(height) * double(width);
  const double log_lo = std::log(ratio[0]), log_hi = std::log(ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * (scale[0] + (scale[1] - scale[0]) * rng.uniform());
    const double aspect = std::exp(log_lo + (log_hi - log_lo) * rng.uniform());
    const auto w = round_half_even(std::sqrt(target_area * aspect));
    const auto h = round_half_even(std::sqrt(target_area / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const int64_t top = rng.uniform_int(height - h + 1);
      const int64_t left = rng.uniform_int(width - w + 1);
      return {top, left, h, w};
    }
  }
  // Fallback: the central crop of the whole image, its aspect ratio clamped into range.
  const double in_ratio = double(width) / double(height);
  int64_t w = width, h = height;
  if (in_ratio < ratio[0]) {
    h = round_half_even(double(w) / ratio[0]);
  } else if (in_ratio > ratio[1]) {
    w = round_half_even(double(h) * ratio[1]);
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

torch::Tensor resized_crop(const torch::Tensor& image, const CropBox& box, int64_t out_h, int64_t out_w) {
  SMCL_ASSERT(image.dim() == 3 && image.scalar_type() == torch::kUInt8, "resized_crop: [C, H, W] uint8");
  auto crop = image.slice(1, box.top, box.top + box.height).slice(2, box.left, box.left + box.width);
  if (box.height == out_h && box.width == out_w) return crop.contiguous();
  auto x = crop.unsqueeze(0).to(torch::kFloat32);
  x = F::interpolate(x, F::InterpolateFuncOptions()
                            .size(std::vector<int64_t>{out_h, out_w})
                            .mode(torch::kBilinear)
                            .align_corners(false)
                            .antialias(true));
  return x.squeeze(0).round().clamp(0, 255).to(torch::kUInt8);
}

torch::Tensor center_view(const torch::Tensor& image, int64_t side, double crop) {
  const int64_t h = image.size(1), w = image.size(2);
  const auto resized = int64_t(std::floor(double(side) / crop));
  // torchvision Resize(int): the shorter side becomes `resized`, the longer int(resized * long / short).
  const int64_t new_h = h <= w ? resized : int64_t(double(resized) * double(h) / double(w));
  const int64_t new_w = h <= w ? int64_t(double(resized) * double(w) / double(h)) : resized;
  auto full = resized_crop(image, {0, 0, h, w}, new_h, new_w);
  // torchvision CenterCrop: offsets int(round((size - side) / 2)), Python's round: half to even.
  const auto top = round_half_even(double(new_h - side) / 2.0);
  const auto left = round_half_even(double(new_w - side) / 2.0);
  return full.slice(1, top, top + side).slice(2, left, left + side).contiguous();
}

torch::Tensor random_resized_crops(const std::vector<torch::Tensor>& images, int64_t side,
                                   const std::vector<double>& scale, const std::vector<double>& ratio, Rng& rng,
                                   int64_t threads) {
  SMCL_ASSERT(!images.empty());
  std::vector<CropBox> boxes;
  for (const auto& image : images)
    boxes.push_back(random_resized_crop_box(image.size(1), image.size(2), scale, ratio, rng));
  // Each worker makes its own tensor, stacked on this thread: worker threads do not share this thread's
  // inference or no-grad mode, so they must not write into a tensor made under it.
  std::vector<torch::Tensor> views(images.size());
  parallel_for(int64_t(images.size()), threads,
               [&](int64_t i) { views[size_t(i)] = resized_crop(images[size_t(i)], boxes[size_t(i)], side, side); });
  return torch::stack(views);
}

torch::Tensor center_views(const std::vector<torch::Tensor>& images, int64_t side, double crop, int64_t threads) {
  SMCL_ASSERT(!images.empty());
  std::vector<torch::Tensor> views(images.size());
  parallel_for(int64_t(images.size()), threads,
               [&](int64_t i) { views[size_t(i)] = center_view(images[size_t(i)], side, crop); });
  return torch::stack(views);
}

}  // namespace smcl::augment
