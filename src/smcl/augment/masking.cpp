#include "smcl/augment/masking.h"

#include <torch/torch.h>

#include <cmath>

#include "smcl/core/error.h"

namespace smcl::augment {

MaskBoxes boxes_at(const torch::Tensor& peaks, double u, int64_t height, int64_t width, bool per_batch) {
  SMCL_ASSERT(peaks.dim() == 2 && peaks.size(1) == 2 && peaks.size(0) >= 1, "boxes_at: peaks " << peaks.sizes());
  SMCL_ASSERT(u >= 0 && u <= 1, "boxes_at: u = " << u);
  auto centre = per_batch ? peaks.narrow(0, 0, 1).expand({peaks.size(0), 2}) : peaks;
  auto row = centre.select(1, 0).to(torch::kInt64), col = centre.select(1, 1).to(torch::kInt64);
  const int64_t half_h = int64_t(std::floor(double(height) * std::sqrt(u))) / 2;
  const int64_t half_w = int64_t(std::floor(double(width) * std::sqrt(u))) / 2;
  MaskBoxes boxes;
  boxes.top = (row - half_h).clamp(0, height);
  boxes.bottom = (row + half_h).clamp(0, height);
  boxes.left = (col - half_w).clamp(0, width);
  boxes.right = (col + half_w).clamp(0, width);
  boxes.lambda = ((boxes.bottom - boxes.top) * (boxes.right - boxes.left)).to(torch::kFloat32) / float(height * width);
  return boxes;
}

torch::Tensor box_mask(const MaskBoxes& boxes, int64_t height, int64_t width) {
  auto options = torch::TensorOptions(torch::kInt64).device(boxes.top.device());
  auto rows = torch::arange(height, options).view({1, height, 1});
  auto cols = torch::arange(width, options).view({1, 1, width});
  auto view = [](const torch::Tensor& t) { return t.view({-1, 1, 1}); };
  auto inside =
      rows.ge(view(boxes.top)) & rows.lt(view(boxes.bottom)) & cols.ge(view(boxes.left)) & cols.lt(view(boxes.right));
  return inside.unsqueeze(1);
}

torch::Tensor masked_images(const torch::Tensor& source, const torch::Tensor& fill, const MaskBoxes& boxes) {
  SMCL_ASSERT(source.dim() == 4 && (!fill.defined() || fill.sizes() == source.sizes()),
              "masked_images: source " << source.sizes() << (fill.defined() ? ", fill " : "")
                                       << (fill.defined() ? fill.sizes() : source.sizes()));
  auto inside = box_mask(boxes, source.size(2), source.size(3)).to(source.device());
  return torch::where(inside, fill.defined() ? fill : torch::zeros_like(source), source);
}

}  // namespace smcl::augment
