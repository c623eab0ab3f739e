#include "smcl/augment/rand_augment.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "smcl/core/error.h"

namespace smcl::augment {
namespace {

constexpr double kFill[3] = {124, 116, 104};  // timm's fill: ImageNet's mean colour

torch::Tensor per_image(const std::vector<double>& values, const torch::Tensor& like) {
  return torch::tensor(values, torch::kFloat64).to(like.device()).view({-1, 1, 1, 1});
}

// PIL's Image.blend(degenerate, image, factor): degenerate + factor * (image - degenerate) in single precision,
// clipped to [0, 255] and truncated.
torch::Tensor pil_blend(const torch::Tensor& degenerate, const torch::Tensor& images,
                        const std::vector<double>& factors) {
  auto f = per_image(factors, images).to(torch::kFloat32);
  auto d = degenerate.to(torch::kFloat32);
  return (d + f * (images.to(torch::kFloat32) - d)).clamp(0, 255).floor().to(torch::kUInt8);
}

// PIL's convert("L") in its fixed point; [N, 3, H, W] -> [N, 1, H, W] int64 (C = 1: as it is).
torch::Tensor pil_luma(const torch::Tensor& images) {
  auto x = images.to(torch::kInt64);
  if (images.size(1) == 1) return x;
  return (x.select(1, 0) * 19595 + x.select(1, 1) * 38470 + x.select(1, 2) * 7471 + 32768)
      .div(65536, "floor")
      .unsqueeze(1);
}

// ImageOps.autocontrast (cutoff 0), per image and channel: lo..hi stretched to 0..255, int(ix * scale + offset).
torch::Tensor auto_contrast(const torch::Tensor& images) {
  auto x = images.to(torch::kFloat64);
  auto lo = x.amin({2, 3}, true), hi = x.amax({2, 3}, true);
  auto spread = hi > lo;
  auto scale = 255.0 / torch::where(spread, hi - lo, torch::ones_like(hi));
  auto stretched = (x * scale - lo * scale).floor().clamp(0, 255);
  return torch::where(spread, stretched, x).to(torch::kUInt8);
}

// ImageOps.equalize, per image and channel: lut[i] = (step / 2 + pixels below i) / step with step = (pixels -
// count of the last used level) / 255; unchanged when one level or step 0.
torch::Tensor equalize(const torch::Tensor& images) {
  const int64_t n = images.size(0), c = images.size(1), pixels = images.size(2) * images.size(3);
  auto index = images.reshape({n * c, pixels}).to(torch::kInt64);
  auto hist = torch::zeros({n * c, 256}, index.options()).scatter_add_(1, index, torch::ones_like(index));
  auto levels = torch::arange(256, index.options()).expand({n * c, 256});
  auto used = hist > 0;
  auto last_level = torch::where(used, levels, torch::full_like(levels, -1)).amax(1, true);
  auto last_count = hist.gather(1, last_level.clamp_min(0));
  auto step = (pixels - last_count).div(255, "floor");
  auto below = hist.cumsum(1) - hist;
  auto lut = (step.div(2, "floor") + below).div(step.clamp_min(1), "floor").clamp_max(255);
  auto keep = (used.sum(1, true) <= 1) | (step == 0);
  lut = torch::where(keep, levels, lut);
  return lut.gather(1, index).reshape(images.sizes()).to(torch::kUInt8);
}

// ImageFilter.SMOOTH (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1, scale 13), rounded; the border keeps its pixels.
torch::Tensor smooth(const torch::Tensor& images) {
  const int64_t c = images.size(1);
  auto kernel = torch::tensor({1.f, 1.f, 1.f, 1.f, 5.f, 1.f, 1.f, 1.f, 1.f}).div(13.f).view({1, 1, 3, 3});
  kernel = kernel.to(images.device()).repeat({c, 1, 1, 1});
  auto x = images.to(torch::kFloat32);
  namespace F = torch::nn::functional;
  auto filtered = F::conv2d(x, kernel, F::Conv2dFuncOptions().groups(c));  // [N, C, H - 2, W - 2]
  auto out = x.clone();
  using torch::indexing::Slice;
  out.index_put_({Slice(), Slice(), Slice(1, -1), Slice(1, -1)}, (filtered + 0.5f).floor().clamp(0, 255));
  return out.to(torch::kUInt8);
}

// Image.transform(AFFINE, matrix, BILINEAR, fillcolor): output pixel (x, y) samples the input at
// (a (x + .5) + b (y + .5) + c, d (x + .5) + e (y + .5) + f) between pixel centres, neighbours clamped to the
// image, truncated to uint8; points outside the image get the fill. matrices: one {a, b, c, d, e, f} per image.
torch::Tensor pil_affine(const torch::Tensor& images, const std::vector<std::array<double, 6>>& matrices) {
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  std::vector<double> flat;
  for (const auto& m : matrices) flat.insert(flat.end(), m.begin(), m.end());
  auto m = torch::tensor(flat, torch::kFloat64).to(images.device()).view({n, 6, 1, 1});
  auto opts = torch::TensorOptions(torch::kFloat64).device(images.device());
  auto xs = (torch::arange(w, opts) + 0.5).view({1, 1, w});
  auto ys = (torch::arange(h, opts) + 0.5).view({1, h, 1});
  auto col = [&](int k) { return m.select(1, k); };  // [N, 1, 1]
  auto xin = col(0) * xs + col(1) * ys + col(2);     // [N, H, W]
  auto yin = col(3) * xs + col(4) * ys + col(5);
  auto outside = (xin < 0) | (xin >= double(w)) | (yin < 0) | (yin >= double(h));
  auto xf = xin - 0.5, yf = yin - 0.5;
  auto x0 = xf.floor(), y0 = yf.floor();
  auto dx = (xf - x0).unsqueeze(1), dy = (yf - y0).unsqueeze(1);
  auto clamp_x = [&](const torch::Tensor& v) { return v.clamp(0, double(w - 1)).to(torch::kInt64); };
  auto clamp_y = [&](const torch::Tensor& v) { return v.clamp(0, double(h - 1)).to(torch::kInt64); };
  auto xa = clamp_x(x0), xb = clamp_x(x0 + 1), ya = clamp_y(y0), yb = clamp_y(y0 + 1);
  auto pixels = images.to(torch::kFloat64).reshape({n, c, h * w});
  auto at = [&](const torch::Tensor& yi, const torch::Tensor& xi) {
    auto index = (yi * w + xi).reshape({n, 1, h * w}).expand({n, c, h * w});
    return pixels.gather(2, index).reshape({n, c, h, w});
  };
  auto top = at(ya, xa) + (at(ya, xb) - at(ya, xa)) * dx;
  auto bottom = at(yb, xa) + (at(yb, xb) - at(yb, xa)) * dx;
  auto value = (top + (bottom - top) * dy).floor().clamp(0, 255);  // PIL truncates
  std::vector<double> fill(kFill, kFill + 3);
  if (c == 1) fill = {kFill[0]};
  auto fill_values = torch::tensor(fill, opts).view({1, c, 1, 1}).expand({n, c, h, w});
  return torch::where(outside.unsqueeze(1), fill_values, value).to(torch::kUInt8);
}

// PIL's Image.rotate(degrees) about the image centre (expand off) as the affine matrix it builds.
std::array<double, 6> rotation_matrix(double degrees, int64_t h, int64_t w) {
  const double angle = -degrees * M_PI / 180.0;
  auto round15 = [](double v) { return std::round(v * 1e15) / 1e15; };
  const double a = round15(std::cos(angle)), b = round15(std::sin(angle));
  const double d = round15(-std::sin(angle)), e = round15(std::cos(angle));
  const double cx = double(w) / 2.0, cy = double(h) / 2.0;
  return {a, b, a * -cx + b * -cy + cx, d, e, d * -cx + e * -cy + cy};
}

// Image.transform(AFFINE, m, NEAREST) with black fill, as Pillow computes it (libImaging/Geometry.c): a matrix
// without rotation or shear (m[1] == m[3] == 0) maps each axis on its own in floating point (ImagingScaleAffine),
// any other in 16.16 fixed point (affine_fixed): output pixel (x, y) reads input pixel (xx >> 16, yy >> 16),
// xx = FIX(m2 + m0 / 2 + m1 / 2) + x FIX(m0) + y FIX(m1), yy likewise, FIX(v) = floor(65536 v + 0.5).
// Pixels that read outside the image are black.
torch::Tensor pil_affine_nearest(const torch::Tensor& images, const std::vector<std::array<double, 6>>& matrices) {
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  std::vector<int64_t> source(size_t(n * h * w), -1);  // input pixel of each output pixel; -1: outside
  for (int64_t i = 0; i < n; ++i) {
    const auto& m = matrices[size_t(i)];
    int64_t* out = source.data() + i * h * w;
    auto coord = [](double v) { return v < 0.0 ? int64_t(-1) : int64_t(v); };  // Pillow's COORD
    if (m[1] == 0 && m[3] == 0) {
      double yo = m[5] + m[4] * 0.5;
      for (int64_t y = 0; y < h; ++y, yo += m[4]) {
        const int64_t yin = coord(yo);
        double xo = m[2] + m[0] * 0.5;
        for (int64_t x = 0; x < w; ++x, xo += m[0]) {
          const int64_t xin = coord(xo);
          if (xin >= 0 && xin < w && yin >= 0 && yin < h) out[y * w + x] = yin * w + xin;
        }
      }
      continue;
    }
    auto fits = [&](double x, double y) {
      return std::fabs(x * m[0] + y * m[1] + m[2]) < 32768.0 && std::fabs(x * m[3] + y * m[4] + m[5]) < 32768.0;
    };
    SMCL_CHECK(fits(0, 0) && fits(double(w), double(h)) && fits(0, double(h)) && fits(double(w), 0),
               "AutoAugment: a " << h << "x" << w << " image is beyond Pillow's fixed-point affine transform");
    auto fix = [](double v) { return int64_t(std::floor(v * 65536.0 + 0.5)); };
    const int64_t a0 = fix(m[0]), a1 = fix(m[1]), a3 = fix(m[3]), a4 = fix(m[4]);
    const int64_t a2 = fix(m[2] + m[0] * 0.5 + m[1] * 0.5), a5 = fix(m[5] + m[3] * 0.5 + m[4] * 0.5);
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        const int64_t xin = (a2 + y * a1 + x * a0) >> 16, yin = (a5 + y * a4 + x * a3) >> 16;
        if (xin >= 0 && xin < w && yin >= 0 && yin < h) out[y * w + x] = yin * w + xin;
      }
    }
  }
  auto index = torch::tensor(source, torch::kInt64).view({n, 1, h * w}).to(images.device());
  auto read = images.reshape({n, c, h * w}).gather(2, index.clamp_min(0).expand({n, c, h * w}));
  return torch::where(index.ge(0), read, torch::zeros_like(read)).view({n, c, h, w});
}

// torchvision's _get_inverse_affine_matrix (functional.py) for scale 1: the matrix Pillow gets for a rotation by
// angle, a translation and shears (all in degrees), about centre (cx, cy). Python's math.radians multiplies by
// pi / 180, as here.
std::array<double, 6> torchvision_inverse_affine(double cx, double cy, double angle, double tx, double ty,
                                                 double shear_x, double shear_y) {
  constexpr double kDegToRad = M_PI / 180.0;
  const double rot = angle * kDegToRad, sx = shear_x * kDegToRad, sy = shear_y * kDegToRad;
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  std::array<double, 6> m = {d, -b, 0.0, -c, a, 0.0};
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

double standard_normal(Rng& rng) {
  // Box-Muller from two uniforms; 1 - u is in (0, 1].
  return std::sqrt(-2.0 * std::log(1.0 - rng.uniform())) * std::cos(2.0 * M_PI * rng.uniform());
}

}  // namespace

const std::vector<std::string>& rand_augment_ops() {
  static const std::vector<std::string> ops = {"AutoContrast", "Equalize",    "Invert", "Rotate",     "Posterize",
                                               "Solarize",     "SolarizeAdd", "Color",  "Contrast",   "Brightness",
                                               "Sharpness",    "ShearX",      "ShearY", "TranslateX", "TranslateY"};
  return ops;
}

double rand_augment_argument(const std::string& op, double magnitude, bool* is_signed) {
  const double level = magnitude / 10.0;
  *is_signed = op == "Rotate" || op == "ShearX" || op == "ShearY" || op == "TranslateX" || op == "TranslateY";
  if (op == "Rotate") return level * 30.0;
  if (op == "ShearX" || op == "ShearY") return level * 0.3;
  if (op == "TranslateX" || op == "TranslateY") return level * 0.45;
  if (op == "Posterize") return double(int(level * 4));
  if (op == "Solarize") return double(int(level * 256));
  if (op == "SolarizeAdd") return double(int(level * 110));
  if (op == "Color" || op == "Contrast" || op == "Brightness" || op == "Sharpness") return level * 1.8 + 0.1;
  return 0.0;  // AutoContrast, Equalize, Invert
}

torch::Tensor rand_augment_op(const std::string& op, const torch::Tensor& images, const std::vector<double>& values) {
  SMCL_ASSERT(images.scalar_type() == torch::kUInt8 && int64_t(values.size()) == images.size(0));
  const int64_t h = images.size(2), w = images.size(3);
  if (op == "AutoContrast") return auto_contrast(images);
  if (op == "Equalize") return equalize(images);
  if (op == "Invert") return 255 - images;
  if (op == "Posterize") {
    std::vector<double> masks;
    for (double bits : values) masks.push_back(double((0xFF << (8 - int(bits))) & 0xFF));
    return images.bitwise_and(per_image(masks, images).to(torch::kUInt8));
  }
  if (op == "Solarize") {
    auto x = images.to(torch::kInt64);
    return torch::where(x >= per_image(values, images).to(torch::kInt64), 255 - x, x).to(torch::kUInt8);
  }
  if (op == "SolarizeAdd") {
    auto x = images.to(torch::kInt64);
    auto added = (x + per_image(values, images).to(torch::kInt64)).clamp_max(255);
    return torch::where(x < 128, added, x).to(torch::kUInt8);
  }
  if (op == "Color") return pil_blend(pil_luma(images).expand_as(images), images, values);
  if (op == "Contrast") {
    // ImageEnhance.Contrast: a flat image of int(mean luma + 0.5).
    auto mean = (pil_luma(images).to(torch::kFloat64).mean({1, 2, 3}, true) + 0.5).floor();
    return pil_blend(mean.expand_as(images), images, values);
  }
  if (op == "Brightness") return pil_blend(torch::zeros_like(images), images, values);
  if (op == "Sharpness") return pil_blend(smooth(images), images, values);
  std::vector<std::array<double, 6>> matrices;
  for (double v : values) {
    if (op == "Rotate")
      matrices.push_back(rotation_matrix(v, h, w));
    else if (op == "ShearX")
      matrices.push_back({1, v, 0, 0, 1, 0});
    else if (op == "ShearY")
      matrices.push_back({1, 0, 0, v, 1, 0});
    else if (op == "TranslateX")
      matrices.push_back({1, 0, v * double(w), 0, 1, 0});
    else if (op == "TranslateY")
      matrices.push_back({1, 0, 0, 0, 1, v * double(h)});
    else
      throw Error("unknown RandAugment operation '" + op + "'");
  }
  return pil_affine(images, matrices);
}

torch::Tensor rand_augment(const torch::Tensor& images, int64_t n, double magnitude, double magnitude_std, Rng& rng) {
  if (n <= 0) return images;
  const auto& ops = rand_augment_ops();
  const int64_t b = images.size(0);
  // Draws, image by image and layer by layer: the operation, whether it applies, its magnitude and sign.
  std::vector<std::vector<int64_t>> chosen(static_cast<size_t>(n), std::vector<int64_t>(static_cast<size_t>(b), -1));
  std::vector<std::vector<double>> arguments(static_cast<size_t>(n), std::vector<double>(static_cast<size_t>(b), 0));
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t layer = 0; layer < n; ++layer) {
      const int64_t op = rng.uniform_int(int64_t(ops.size()));
      if (rng.uniform() > 0.5) continue;  // timm: skipped when random() > prob
      double m = magnitude;
      if (magnitude_std > 0) m += magnitude_std * standard_normal(rng);
      m = std::clamp(m, 0.0, 10.0);
      bool is_signed = false;
      double argument = rand_augment_argument(ops[size_t(op)], m, &is_signed);
      if (is_signed && rng.uniform() > 0.5) argument = -argument;
      chosen[size_t(layer)][size_t(i)] = op;
      arguments[size_t(layer)][size_t(i)] = argument;
    }
  }
  auto x = images.clone();  // written in place, image rows at a time
  for (int64_t layer = 0; layer < n; ++layer) {
    for (int64_t op = 0; op < int64_t(ops.size()); ++op) {
      std::vector<int64_t> rows;
      std::vector<double> values;
      for (int64_t i = 0; i < b; ++i) {
        if (chosen[size_t(layer)][size_t(i)] == op) {
          rows.push_back(i);
          values.push_back(arguments[size_t(layer)][size_t(i)]);
        }
      }
      if (rows.empty()) continue;
      auto index = torch::tensor(rows, torch::kInt64).to(images.device());
      x.index_copy_(0, index, rand_augment_op(ops[size_t(op)], x.index_select(0, index), values));
    }
  }
  return x;
}

const std::vector<std::array<AutoAugmentStep, 2>>& auto_augment_cifar10_policy() {
  // torchvision's AutoAugment._get_policies(AutoAugmentPolicy.CIFAR10), in its order.
  static const std::vector<std::array<AutoAugmentStep, 2>> policy = {
      {{{"Invert", 0.1, -1}, {"Contrast", 0.2, 6}}},         {{{"Rotate", 0.7, 2}, {"TranslateX", 0.3, 9}}},
      {{{"Sharpness", 0.8, 1}, {"Sharpness", 0.9, 3}}},      {{{"ShearY", 0.5, 8}, {"TranslateY", 0.7, 9}}},
      {{{"AutoContrast", 0.5, -1}, {"Equalize", 0.9, -1}}},  {{{"ShearY", 0.2, 7}, {"Posterize", 0.3, 7}}},
      {{{"Color", 0.4, 3}, {"Brightness", 0.6, 7}}},         {{{"Sharpness", 0.3, 9}, {"Brightness", 0.7, 9}}},
      {{{"Equalize", 0.6, -1}, {"Equalize", 0.5, -1}}},      {{{"Contrast", 0.6, 7}, {"Sharpness", 0.6, 5}}},
      {{{"Color", 0.7, 7}, {"TranslateX", 0.5, 8}}},         {{{"Equalize", 0.3, -1}, {"AutoContrast", 0.4, -1}}},
      {{{"TranslateY", 0.4, 3}, {"Sharpness", 0.2, 6}}},     {{{"Brightness", 0.9, 6}, {"Color", 0.2, 8}}},
      {{{"Solarize", 0.5, 2}, {"Invert", 0.0, -1}}},         {{{"Equalize", 0.2, -1}, {"AutoContrast", 0.6, -1}}},
      {{{"Equalize", 0.2, -1}, {"Equalize", 0.6, -1}}},      {{{"Color", 0.9, 9}, {"Equalize", 0.6, -1}}},
      {{{"AutoContrast", 0.8, -1}, {"Solarize", 0.2, 8}}},   {{{"Brightness", 0.1, 3}, {"Color", 0.7, 0}}},
      {{{"Solarize", 0.4, 5}, {"AutoContrast", 0.9, -1}}},   {{{"TranslateY", 0.9, 9}, {"TranslateY", 0.7, 9}}},
      {{{"AutoContrast", 0.9, -1}, {"Solarize", 0.8, 3}}},   {{{"Equalize", 0.8, -1}, {"Invert", 0.1, -1}}},
      {{{"TranslateY", 0.7, 9}, {"AutoContrast", 0.9, -1}}},
  };
  return policy;
}

double auto_augment_magnitude(const std::string& op, int bin, int64_t height, int64_t width, bool* is_signed) {
  // torchvision's _augmentation_space(10, (height, width)): float32 linspace values, as torch computes them.
  *is_signed = op != "Posterize" && op != "Solarize" && op != "AutoContrast" && op != "Equalize" && op != "Invert";
  if (op == "AutoContrast" || op == "Equalize" || op == "Invert") return 0.0;
  SMCL_CHECK(bin >= 0 && bin < 10, "AutoAugment: magnitude bin " << bin << " of " << op << " is not in [0, 10)");
  auto at = [bin](const torch::Tensor& values) { return values[bin].item<double>(); };
  if (op == "ShearX" || op == "ShearY") return at(torch::linspace(0.0, 0.3, 10));
  if (op == "TranslateX") return at(torch::linspace(0.0, 150.0 / 331.0 * double(width), 10));
  if (op == "TranslateY") return at(torch::linspace(0.0, 150.0 / 331.0 * double(height), 10));
  if (op == "Rotate") return at(torch::linspace(0.0, 30.0, 10));
  if (op == "Brightness" || op == "Color" || op == "Contrast" || op == "Sharpness") {
    return at(torch::linspace(0.0, 0.9, 10));
  }
  if (op == "Posterize") return at(8 - (torch::arange(10) / ((10 - 1) / 4.0)).round().to(torch::kInt));
  if (op == "Solarize") return at(torch::linspace(255.0, 0.0, 10));
  throw Error("unknown AutoAugment operation '" + op + "'");
}

torch::Tensor auto_augment_op(const std::string& op, const torch::Tensor& images,
                              const std::vector<double>& magnitudes) {
  SMCL_ASSERT(images.scalar_type() == torch::kUInt8 && int64_t(magnitudes.size()) == images.size(0));
  const int64_t h = images.size(2), w = images.size(3);
  constexpr double kRadToDeg = 180.0 / M_PI;  // Python's math.degrees
  std::vector<double> values;
  if (op == "Brightness" || op == "Color" || op == "Contrast" || op == "Sharpness") {
    for (double m : magnitudes) values.push_back(1.0 + m);  // torchvision's enhancement factor
    return rand_augment_op(op, images, values);
  }
  // Posterize keeps int(m) bits; Solarize inverts the values i with not i < threshold, i.e. i >= ceil(threshold).
  if (op == "Posterize") {
    for (double m : magnitudes) values.push_back(std::trunc(m));
    return rand_augment_op(op, images, values);
  }
  if (op == "Solarize") {
    for (double m : magnitudes) values.push_back(std::ceil(m));
    return rand_augment_op(op, images, values);
  }
  if (op == "AutoContrast" || op == "Equalize" || op == "Invert") return rand_augment_op(op, images, magnitudes);
  std::vector<std::array<double, 6>> matrices;
  for (double m : magnitudes) {
    if (op == "ShearX") {
      matrices.push_back(torchvision_inverse_affine(0, 0, 0, 0, 0, std::atan(m) * kRadToDeg, 0));
    } else if (op == "ShearY") {
      matrices.push_back(torchvision_inverse_affine(0, 0, 0, 0, 0, 0, std::atan(m) * kRadToDeg));
    } else if (op == "TranslateX") {  // translate [int(m), 0] about the default centre
      matrices.push_back(torchvision_inverse_affine(double(w) * 0.5, double(h) * 0.5, 0, std::trunc(m), 0, 0, 0));
    } else if (op == "TranslateY") {
      matrices.push_back(torchvision_inverse_affine(double(w) * 0.5, double(h) * 0.5, 0, 0, std::trunc(m), 0, 0));
    } else if (op == "Rotate") {  // F.rotate on PIL is Image.rotate
      matrices.push_back(rotation_matrix(m, h, w));
    } else {
      throw Error("unknown AutoAugment operation '" + op + "'");
    }
  }
  return pil_affine_nearest(images, matrices);
}

torch::Tensor auto_augment_cifar10(const torch::Tensor& images, Rng& rng) {
  const auto& policy = auto_augment_cifar10_policy();
  const int64_t b = images.size(0), h = images.size(2), w = images.size(3);
  // Draws, image by image: the sub-policy, then for each of its steps whether it applies and its sign.
  std::vector<std::array<double, 2>> step_magnitude(policy.size());
  std::vector<std::array<bool, 2>> step_signed(policy.size());
  for (size_t p = 0; p < policy.size(); ++p) {
    for (size_t k = 0; k < 2; ++k) {
      bool is_signed = false;
      step_magnitude[p][k] = auto_augment_magnitude(policy[p][k].op, policy[p][k].bin, h, w, &is_signed);
      step_signed[p][k] = is_signed;
    }
  }
  std::vector<std::array<double, 2>> magnitudes(size_t(b), {0, 0});
  std::vector<std::array<bool, 2>> applies(size_t(b), {false, false});
  std::vector<size_t> chosen(static_cast<size_t>(b));
  for (int64_t i = 0; i < b; ++i) {
    const auto p = size_t(rng.uniform_int(int64_t(policy.size())));
    chosen[size_t(i)] = p;
    for (size_t k = 0; k < 2; ++k) {
      applies[size_t(i)][k] = rng.uniform() < policy[p][k].probability;
      const bool negative = rng.uniform() < 0.5;
      magnitudes[size_t(i)][k] = step_signed[p][k] && negative ? -step_magnitude[p][k] : step_magnitude[p][k];
    }
  }
  auto x = images.clone();  // written in place, the images of one operation at a time
  for (size_t k = 0; k < 2; ++k) {
    std::map<std::string, std::pair<std::vector<int64_t>, std::vector<double>>> by_op;
    for (int64_t i = 0; i < b; ++i) {
      if (!applies[size_t(i)][k]) continue;
      auto& group = by_op[policy[chosen[size_t(i)]][k].op];
      group.first.push_back(i);
      group.second.push_back(magnitudes[size_t(i)][k]);
    }
    for (const auto& [op, group] : by_op) {
      auto index = torch::tensor(group.first, torch::kInt64).to(images.device());
      x.index_copy_(0, index, auto_augment_op(op, x.index_select(0, index), group.second));
    }
  }
  return x;
}

}  // namespace smcl::augment
