#include "smcl/augment/color.h"

#include <torch/torch.h>

#include <algorithm>

#include "smcl/core/error.h"

namespace smcl::augment {
namespace {

// torchvision's _blend: ratio * a + (1 - ratio) * b, clamped to [0, 1]; ratio [B].
torch::Tensor blend(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& ratio) {
  auto r = ratio.view({-1, 1, 1, 1});
  return (r * a + (1 - r) * b).clamp(0, 1);
}

// torchvision's _rgb2hsv and _hsv2rgb, batched.
torch::Tensor rgb_to_hsv(const torch::Tensor& images) {
  auto r = images.select(1, 0), g = images.select(1, 1), b = images.select(1, 2);
  auto maxc = std::get<0>(images.max(1)), minc = std::get<0>(images.min(1));
  auto equal = maxc == minc;
  auto range = maxc - minc;
  auto ones = torch::ones_like(maxc);
  auto s = range / torch::where(equal, ones, maxc);
  auto divisor = torch::where(equal, ones, range);
  auto rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor;
  auto hr = (maxc == r).to(images.dtype()) * (bc - gc);
  auto hg = ((maxc == g) & (maxc != r)).to(images.dtype()) * (2.0 + rc - bc);
  auto hb = ((maxc != g) & (maxc != r)).to(images.dtype()) * (4.0 + gc - rc);
  auto h = torch::fmod((hr + hg + hb) / 6.0 + 1.0, 1.0);
  return torch::stack({h, s, maxc}, 1);
}

// torchvision's _hsv2rgb in closed form: channel n of (r, g, b) is v - v s clamp(min(k, 4 - k), 0, 1) with
// k = (n + 6 h) mod 6 for n = 5, 3, 1: the same six sectors, without a tensor per sector.
torch::Tensor hsv_to_rgb(const torch::Tensor& hsv) {
  auto h6 = hsv.select(1, 0) * 6.0, s = hsv.select(1, 1), v = hsv.select(1, 2);
  auto vs = v * s;
  std::vector<torch::Tensor> channels;
  for (double n : {5.0, 3.0, 1.0}) {
    auto k = (h6 + n).remainder(6.0);
    channels.push_back((v - vs * torch::min(k, 4.0 - k).clamp(0, 1)).clamp(0, 1));
  }
  return torch::stack(channels, 1);
}

torch::Tensor factors_tensor(const std::vector<double>& values, const torch::Device& device) {
  return torch::tensor(std::vector<float>(values.begin(), values.end()), torch::kFloat32).to(device);
}

}  // namespace

torch::Tensor grayscale(const torch::Tensor& images) {
  if (images.size(1) == 1) return images;
  return (0.2989 * images.select(1, 0) + 0.587 * images.select(1, 1) + 0.114 * images.select(1, 2)).unsqueeze(1);
}

torch::Tensor adjust_brightness(const torch::Tensor& images, const torch::Tensor& factors) {
  return blend(images, torch::zeros_like(images), factors);
}

torch::Tensor adjust_contrast(const torch::Tensor& images, const torch::Tensor& factors) {
  auto mean = grayscale(images).mean({1, 2, 3}, /*keepdim=*/true);
  return blend(images, mean, factors);
}

torch::Tensor adjust_saturation(const torch::Tensor& images, const torch::Tensor& factors) {
  if (images.size(1) == 1) return images;
  return blend(images, grayscale(images), factors);
}

torch::Tensor adjust_hue(const torch::Tensor& images, const torch::Tensor& shifts) {
  if (images.size(1) == 1) return images;
  auto hsv = rgb_to_hsv(images);
  auto h = (hsv.select(1, 0) + shifts.view({-1, 1, 1})).remainder(1.0);
  return hsv_to_rgb(torch::stack({h, hsv.select(1, 1), hsv.select(1, 2)}, 1));
}

torch::Tensor color_augment(const torch::Tensor& images, const std::vector<double>& strength, double jitter_prob,
                            double gray_prob, Rng& rng) {
  if (jitter_prob <= 0 && gray_prob <= 0) return images;
  SMCL_ASSERT(strength.size() == 4 && images.scalar_type() == torch::kUInt8, "color_augment: 4 strengths, uint8");
  const int64_t b = images.size(0);
  const auto device = images.device();
  // Draws, image by image: whether to jitter, the order of the four operations, their factors; then grayscale.
  std::vector<std::vector<int64_t>> order(static_cast<size_t>(b));
  std::vector<std::vector<double>> factors(4, std::vector<double>(size_t(b), 1.0));
  factors[3].assign(size_t(b), 0.0);  // no hue shift
  std::vector<int64_t> gray;
  auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * rng.uniform(); };
  for (int64_t i = 0; i < b; ++i) {
    if (rng.bernoulli(jitter_prob)) {
      order[size_t(i)] = rng.permutation(4);
      for (int k = 0; k < 3; ++k) {
        factors[size_t(k)][size_t(i)] = uniform(std::max(0.0, 1 - strength[size_t(k)]), 1 + strength[size_t(k)]);
      }
      factors[3][size_t(i)] = uniform(-strength[3], strength[3]);
    }
    if (rng.bernoulli(gray_prob)) gray.push_back(i);
  }
  auto x = images.to(torch::kFloat32).div_(255.0f);
  const std::vector<torch::Tensor> f = {factors_tensor(factors[0], device), factors_tensor(factors[1], device),
                                        factors_tensor(factors[2], device), factors_tensor(factors[3], device)};
  // Slot by slot, each operation runs on the images that have it in that slot.
  for (size_t slot = 0; slot < 4; ++slot) {
    for (int64_t op = 0; op < 4; ++op) {
      std::vector<int64_t> rows;
      for (int64_t i = 0; i < b; ++i) {
        if (!order[size_t(i)].empty() && order[size_t(i)][slot] == op) rows.push_back(i);
      }
      if (rows.empty()) continue;
      auto index = torch::tensor(rows, torch::kInt64).to(device);
      auto part = x.index_select(0, index);
      auto part_factors = f[size_t(op)].index_select(0, index);
      if (op == 0) part = adjust_brightness(part, part_factors);
      if (op == 1) part = adjust_contrast(part, part_factors);
      if (op == 2) part = adjust_saturation(part, part_factors);
      if (op == 3) part = adjust_hue(part, part_factors);
      x.index_copy_(0, index, part);
    }
  }
  if (!gray.empty()) {
    auto index = torch::tensor(gray, torch::kInt64).to(device);
    x.index_copy_(0, index, grayscale(x.index_select(0, index)).expand({-1, x.size(1), -1, -1}).contiguous());
  }
  return x.mul_(255.0f).round_().clamp_(0, 255).to(torch::kUInt8);
}

}  // namespace smcl::augment
