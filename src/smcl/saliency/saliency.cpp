#include "smcl/saliency/saliency.h"

#include <torch/torch.h>

#include "smcl/core/error.h"

namespace smcl::saliency {
namespace {

using torch::indexing::Slice;

// Index of each position -1 .. n of a length-n axis under OpenCV's BORDER_REFLECT_101 (... 2 1 | 0 1 2 ...).
torch::Tensor reflect101_index(int64_t n, const torch::Device& device) {
  auto index = torch::arange(-1, n + 1, torch::TensorOptions(torch::kInt64).device(device));
  if (n == 1) return torch::zeros_like(index);
  return index.abs().sub(index.ge(n).to(torch::kInt64) * 2 * (index - (n - 1)));
}

// OpenCV's bit-exact GaussianBlur(3x3, sigma 0) of 8-bit images: kernel [1 2 1] / 4 in each direction,
// accumulated exactly and rounded half up once: (sum + 8) >> 4. gray [B, H, W] int32.
torch::Tensor blur121(const torch::Tensor& gray) {
  const int64_t h = gray.size(1), w = gray.size(2);
  auto rows = gray.index_select(1, reflect101_index(h, gray.device()));
  auto vertical = rows.narrow(1, 0, h) + 2 * rows.narrow(1, 1, h) + rows.narrow(1, 2, h);
  auto cols = vertical.index_select(2, reflect101_index(w, gray.device()));
  auto sum = cols.narrow(2, 0, w) + 2 * cols.narrow(2, 1, w) + cols.narrow(2, 2, w);
  return (sum + 8).div(16, "floor");
}

// OpenCV's six centre-surround neighbourhood sizes.
constexpr int64_t kScales[] = {12, 24, 48, 28, 56, 112};
constexpr int64_t kNumScales = 6;

// For every scale s and pixel (y, x), the flat indices into the (H + 1) x (W + 1) integral image of the four
// corners of its clamped window rows [y - n + 1, y + n + 1) x columns [x - n + 1, x + n + 1): [4 * 6 * H * W]
// int64 in the order bottom-right, top-left, bottom-left, top-right (box = c0 + c1 - c2 - c3); and the window
// areas [6, H, W].
std::pair<torch::Tensor, torch::Tensor> window_corners(int64_t h, int64_t w, const torch::Device& device) {
  auto options = torch::TensorOptions(torch::kInt64).device(device);
  auto sizes = torch::tensor(std::vector<int64_t>(std::begin(kScales), std::end(kScales)), options).view({-1, 1});
  auto rows = torch::arange(h, options).view({1, -1});
  auto cols = torch::arange(w, options).view({1, -1});
  auto top = (rows - sizes + 1).clamp(0, h).view({kNumScales, h, 1});
  auto bottom = (rows + sizes + 1).clamp(0, h).view({kNumScales, h, 1});
  auto left = (cols - sizes + 1).clamp(0, w).view({kNumScales, 1, w});
  auto right = (cols + sizes + 1).clamp(0, w).view({kNumScales, 1, w});
  auto flat = [w](const torch::Tensor& r, const torch::Tensor& c) { return r * (w + 1) + c; };
  auto corners = torch::stack({flat(bottom, right), flat(top, left), flat(bottom, left), flat(top, right)});
  return {corners.reshape({-1}), (bottom - top) * (right - left)};
}

// Per-image maximum of [B, H, W], shaped [B, 1, 1].
torch::Tensor image_max(const torch::Tensor& x) { return x.flatten(1).amax(1).view({-1, 1, 1}); }

// OpenCV's (uchar)(255. * (float)(value / (float)max)): the ratio in float32, the product in double,
// truncated; a zero maximum gives 0 (OpenCV's 0/0 converts to 0 on x86).
torch::Tensor rescale_to_255(const torch::Tensor& value, const torch::Tensor& max) {
  auto ratio = value.to(torch::kFloat32) / max.to(torch::kFloat32);
  auto scaled = (ratio.to(torch::kFloat64) * 255.0).trunc();
  return torch::where(max > 0, scaled, torch::zeros_like(scaled)).to(torch::kInt64);
}

}  // namespace

torch::Tensor fine_grained(const torch::Tensor& images) {
  SMCL_CHECK(images.dim() == 4 && images.scalar_type() == torch::kUInt8 && (images.size(1) == 1 || images.size(1) == 3),
             "fine_grained saliency: expected uint8 images [B, 1 or 3, H, W], got " << images.scalar_type() << " "
                                                                                    << images.sizes());
  const int64_t b = images.size(0), h = images.size(2), w = images.size(3);
  SMCL_CHECK(h >= 2 && w >= 2 && h * w <= 8000000,
             "fine_grained saliency: images must be at least 2x2 and at most 8 megapixels, got " << h << "x" << w);
  if (b == 0) return torch::zeros({0, h, w}, images.options().dtype(torch::kFloat32));
  const auto device = images.device();

  // 1. Gray as OpenCV 4's cvtColor(BGR2GRAY) of 8-bit images, 15-bit fixed point:
  //    (9798 R + 19235 G + 3735 B + 2^14) >> 15 (checked against OpenCV on every pixel of the tests).
  auto x = images.to(torch::kInt32);
  torch::Tensor gray =
      images.size(1) == 1
          ? x.select(1, 0)
          : (x.select(1, 0) * 9798 + x.select(1, 1) * 19235 + x.select(1, 2) * 3735 + 16384).div(32768, "floor");
  // 2. Two 3x3 Gaussian blurs.
  gray = blur121(blur121(gray));

  // 3. Integral image, (H + 1) x (W + 1), exact in int32 (OpenCV's float32 is exact up to 65,793 pixels).
  auto integral = torch::zeros({b, h + 1, w + 1}, gray.options());
  integral.index_put_({Slice(), Slice(1), Slice(1)}, gray.cumsum(1, torch::kInt32).cumsum(2, torch::kInt32));

  // 4. Centre-surround differences at the six neighbourhood sizes, all at once: [B, 6, H, W].
  auto [corner_index, area] = window_corners(h, w, device);
  auto corners = integral.view({b, -1}).index_select(1, corner_index).view({b, 4, kNumScales, h, w});
  auto box = corners.select(1, 0) + corners.select(1, 1) - corners.select(1, 2) - corners.select(1, 3);
  // OpenCV: (float)(box - centre) / (float)(area - 1), then centre - mean in float, truncated to uchar.
  auto centre = gray.unsqueeze(1);
  auto mean = (box - centre).to(torch::kFloat32) / (area - 1).to(torch::kFloat32);
  auto difference = centre.to(torch::kFloat32) - mean;
  auto on_sum = difference.clamp_min(0).trunc().to(torch::kInt32).sum(1, false, torch::kInt32);
  auto off_sum = difference.neg().clamp_min(0).trunc().to(torch::kInt32).sum(1, false, torch::kInt32);

  // 5. On and off maps each scaled to 255 at their maximum.
  auto on = rescale_to_255(on_sum, image_max(on_sum));
  auto off = rescale_to_255(off_sum, image_max(off_sum));

  // 6. (uchar)(255. * (on + off) / max(max on, max off)). The cast wraps above 255 (OpenCV converts through
  // a 32-bit integer and keeps the low byte), which this keeps so that the peaks are OpenCV's.
  auto top_value = torch::maximum(image_max(on), image_max(off)).to(torch::kFloat64);
  auto mixed = ((on + off).to(torch::kFloat64) * 255.0 / top_value).trunc();
  mixed = torch::where(top_value > 0, mixed, torch::zeros_like(mixed)).to(torch::kInt64).bitwise_and(255);
  return mixed.to(torch::kFloat32) / 255.0f;
}

torch::Tensor class_activation_map(const torch::Tensor& feature_map, const torch::Tensor& classifier_weight,
                                   const torch::Tensor& labels, int64_t height, int64_t width) {
  SMCL_ASSERT(feature_map.dim() == 4 && classifier_weight.dim() == 2 &&
                  classifier_weight.size(1) == feature_map.size(1) && labels.size(0) == feature_map.size(0),
              "class_activation_map: feature map " << feature_map.sizes() << ", weight " << classifier_weight.sizes()
                                                   << ", labels " << labels.sizes());
  auto weight = classifier_weight.index_select(0, labels);                          // [B, D]
  auto cam = torch::relu((feature_map * weight.unsqueeze(2).unsqueeze(3)).sum(1));  // [B, h, w]
  cam = torch::nn::functional::interpolate(cam.unsqueeze(1), torch::nn::functional::InterpolateFuncOptions()
                                                                 .size(std::vector<int64_t>{height, width})
                                                                 .mode(torch::kBilinear)
                                                                 .align_corners(false))
            .squeeze(1);
  auto max = image_max(cam);
  return torch::where(max > 0, cam / max.clamp_min(1e-12), torch::zeros_like(cam));
}

torch::Tensor peaks(const torch::Tensor& maps) {
  SMCL_ASSERT(maps.dim() == 3, "peaks: expected maps [B, H, W], got " << maps.sizes());
  // argmax returns the first maximal index: the first maximum in row-major order.
  auto flat = maps.flatten(1).argmax(1);
  const int64_t w = maps.size(2);
  return torch::stack({flat.div(w, "floor"), flat.remainder(w)}, 1);
}

torch::Tensor center_peaks(int64_t batch, int64_t height, int64_t width) {
  return torch::tensor({height / 2, width / 2}, torch::kInt64).repeat({batch, 1});
}

torch::Tensor random_peaks(int64_t batch, int64_t height, int64_t width, Rng& rng) {
  auto result = torch::empty({batch, 2}, torch::kInt64);
  auto a = result.accessor<int64_t, 2>();
  for (int64_t i = 0; i < batch; ++i) {
    a[i][0] = rng.uniform_int(height);
    a[i][1] = rng.uniform_int(width);
  }
  return result;
}

}  // namespace smcl::saliency
