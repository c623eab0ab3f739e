#include "smcl/augment/batch_transforms.h"

#include "smcl/augment/color.h"
#include "smcl/augment/image_views.h"
#include "smcl/augment/rand_augment.h"
#include "smcl/core/error.h"

namespace smcl::augment {
namespace {

// [n] int64 tensor of values uniform in [0, bound), on `device`.
torch::Tensor uniform_ints(int64_t n, int64_t bound, Rng& rng, const torch::Device& device) {
  std::vector<int64_t> values(static_cast<size_t>(n));
  for (auto& v : values) v = rng.uniform_int(bound);
  return torch::tensor(values, torch::kInt64).to(device);
}

}  // namespace

torch::Tensor random_crop(const torch::Tensor& images, int64_t padding, Rng& rng) {
  if (padding == 0) return images;
  const int64_t b = images.size(0), h = images.size(2), w = images.size(3);
  auto device = images.device();
  auto oy = uniform_ints(b, 2 * padding + 1, rng, device);
  auto ox = uniform_ints(b, 2 * padding + 1, rng, device);
  auto padded = torch::constant_pad_nd(images, {padding, padding, padding, padding}, 0).permute({0, 2, 3, 1});
  auto opts = torch::TensorOptions(torch::kInt64).device(device);
  auto rows = (oy.unsqueeze(1) + torch::arange(h, opts)).unsqueeze(2);  // [B, H, 1]
  auto cols = (ox.unsqueeze(1) + torch::arange(w, opts)).unsqueeze(1);  // [B, 1, W]
  auto batch = torch::arange(b, opts).view({b, 1, 1});
  // [B, H, W, C] -> [B, C, H, W] in NCHW strides: for one channel, .contiguous() would keep the permuted strides,
  // which are also channels_last ones, and convolutions would take their channels_last kernels.
  return padded.index({batch, rows, cols}).permute({0, 3, 1, 2}).clone(torch::MemoryFormat::Contiguous);
}

torch::Tensor random_flip(const torch::Tensor& images, Rng& rng) {
  const int64_t b = images.size(0);
  std::vector<uint8_t> flips(static_cast<size_t>(b));
  for (auto& f : flips) f = rng.bernoulli(0.5);
  auto mask = torch::tensor(std::vector<int64_t>(flips.begin(), flips.end()), torch::kInt64)
                  .to(torch::kBool)
                  .to(images.device())
                  .view({b, 1, 1, 1});
  return torch::where(mask, images.flip({3}), images);
}

torch::Tensor cutout(const torch::Tensor& images, int64_t size, Rng& rng) {
  if (size == 0) return images;
  const int64_t b = images.size(0), h = images.size(2), w = images.size(3);
  auto device = images.device();
  auto cy = uniform_ints(b, h, rng, device).view({b, 1, 1});
  auto cx = uniform_ints(b, w, rng, device).view({b, 1, 1});
  auto opts = torch::TensorOptions(torch::kInt64).device(device);
  auto rows = torch::arange(h, opts).view({1, h, 1});
  auto cols = torch::arange(w, opts).view({1, 1, w});
  // Rows [cy - size/2, cy + size/2) clipped to the image, columns likewise.
  auto hole = (rows >= cy - size / 2) & (rows < cy + size / 2) & (cols >= cx - size / 2) & (cols < cx + size / 2);
  return images.masked_fill(hole.unsqueeze(1), 0);
}

torch::Tensor normalize(const torch::Tensor& images, const std::vector<double>& mean, const std::vector<double>& std) {
  const int64_t c = images.size(1);
  SMCL_ASSERT(int64_t(mean.size()) == c && int64_t(std.size()) == c, "normalize: " << c << " channels");
  auto opts = torch::TensorOptions(torch::kFloat32).device(images.device());
  auto m = torch::tensor(std::vector<float>(mean.begin(), mean.end())).to(opts).view({1, c, 1, 1});
  auto s = torch::tensor(std::vector<float>(std.begin(), std.end())).to(opts).view({1, c, 1, 1});
  return (images.to(torch::kFloat32).div(255.0f) - m) / s;
}

torch::Tensor random_resized_crop(const torch::Tensor& images, const std::vector<double>& scale,
                                  const std::vector<double>& ratio, Rng& rng) {
  const int64_t b = images.size(0), h = images.size(2), w = images.size(3);
  // Image by image: each box has its own size. At 32x32 a resize costs microseconds, so one thread: more would
  // compete with the training step for the cores.
  std::vector<torch::Tensor> views;
  views.reserve(size_t(b));
  for (int64_t i = 0; i < b; ++i) {
    const CropBox box = random_resized_crop_box(h, w, scale, ratio, rng);
    views.push_back(resized_crop(images[i], box, h, w));
  }
  return torch::stack(views);
}

config::AugmentConfig view_augment(const config::AugmentConfig& run, config::ViewAugment view) {
  using config::ViewAugment;
  if (view == ViewAugment::kAugment) return run;
  config::AugmentConfig out = run;  // the normalisation, crop ratio and test view stay the run's
  out.crop_padding = 0;
  out.resized_crop = false;
  out.flip = true;
  out.rand_augment_n = 0;
  out.auto_augment = config::AutoAugmentPolicy::kNone;
  out.color_jitter_prob = 0;
  out.grayscale_prob = 0;
  out.cutout = 0;
  switch (view) {
    case ViewAugment::kAugment: break;
    case ViewAugment::kSimAugment:  // SPEC section 7: SupCon's CIFAR view
      out.resized_crop = true;
      out.crop_scale = {0.2, 1.0};
      out.color_jitter = {0.4, 0.4, 0.4, 0.1};
      out.color_jitter_prob = 0.8;
      out.grayscale_prob = 0.2;
      break;
    case ViewAugment::kAutoAugment:  // GPaCo's query view (paco_cifar.py's augmentation_regular)
      out.crop_padding = 4;
      out.auto_augment = config::AutoAugmentPolicy::kCifar10;
      out.cutout = 16;
      break;
    case ViewAugment::kRandAugment:  // BCL's classification view (main.py's augmentation_randncls)
      out.resized_crop = true;
      out.crop_scale = {0.08, 1.0};
      out.color_jitter = {0.4, 0.4, 0.4, 0.0};
      out.color_jitter_prob = 1.0;
      out.rand_augment_n = 2;
      out.rand_augment_m = 10;
      out.rand_augment_mstd = 0.5;
      break;
  }
  return out;
}

torch::Tensor random_view(const data::Images& images, const config::AugmentConfig& config, Rng& rng) {
  torch::Tensor x;
  if (!images.pixels.defined()) {
    x = random_resized_crops(images.decoded, images.side, config.crop_scale, config.crop_ratio, rng, images.threads)
            .to(images.device);
  } else if (config.resized_crop) {
    x = random_resized_crop(images.pixels, config.crop_scale, config.crop_ratio, rng);
  } else {
    x = random_crop(images.pixels, config.crop_padding, rng);
  }
  if (config.flip) x = random_flip(x, rng);
  if (config.auto_augment == config::AutoAugmentPolicy::kCifar10) x = auto_augment_cifar10(x, rng);
  x = rand_augment(x, config.rand_augment_n, config.rand_augment_m, config.rand_augment_mstd, rng);
  x = color_augment(x, config.color_jitter, config.color_jitter_prob, config.grayscale_prob, rng);
  return cutout(x, config.cutout, rng);
}

torch::Tensor train_view(const data::Images& images, const config::AugmentConfig& config, Rng& rng) {
  return normalize(random_view(images, config, rng), config.mean, config.std);
}

torch::Tensor test_view(const data::Images& images, const config::AugmentConfig& config) {
  if (images.pixels.defined()) return images.pixels;
  return center_views(images.decoded, images.side, config.test_crop, images.threads).to(images.device);
}

}  // namespace smcl::augment
