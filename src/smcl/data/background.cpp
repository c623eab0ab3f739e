#include "smcl/data/background.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "smcl/core/error.h"

namespace smcl::data {
namespace {

using Colour = std::array<int, 3>;

struct Kind {
  const char* name;
  Colour a, b;  // the pattern's two base colours: t = 0 is a, t = 1 is b
};

// Pattern and colours differ between kinds, so that each kind is easy to tell apart (the shortcut a biased model
// can take) and hard to confuse with a gray object.
const std::array<Kind, 12> kKinds = {{
    {"horizontal stripes", {220, 60, 50}, {240, 200, 60}},
    {"vertical stripes", {40, 80, 200}, {220, 220, 240}},
    {"diagonal stripes", {40, 160, 70}, {190, 60, 170}},
    {"checkers", {240, 140, 30}, {30, 40, 110}},
    {"horizontal gradient", {40, 190, 200}, {110, 40, 150}},
    {"vertical gradient", {240, 130, 170}, {20, 90, 50}},
    {"radial gradient", {250, 230, 80}, {120, 60, 20}},
    {"coloured noise", {0, 0, 0}, {255, 255, 255}},
    {"dots", {0, 128, 128}, {240, 240, 240}},
    {"rings", {150, 220, 40}, {20, 30, 90}},
    {"blocks", {200, 40, 40}, {100, 170, 240}},
    {"waves", {150, 100, 230}, {130, 130, 30}},
}};

Colour jittered(const Colour& base, Rng& rng) {
  Colour c;
  for (size_t i = 0; i < 3; ++i) c[i] = std::clamp(base[i] + int(rng.uniform_int(49)) - 24, 0, 255);
  return c;
}

// Writes one background of `kind` into out (3 planes of side x side).
void render_into(int64_t kind, int64_t side, Rng& rng, uint8_t* out) {
  SMCL_ASSERT(kind >= 0 && kind < int64_t(kKinds.size()), "background kind " << kind);
  const Kind& k = kKinds[size_t(kind)];
  const int64_t plane = side * side;
  if (kind == 7) {  // coloured noise: every channel of every pixel uniform, no two colours
    for (int64_t i = 0; i < 3 * plane; ++i) out[i] = uint8_t(rng.uniform_int(256));
    return;
  }
  const Colour a = jittered(k.a, rng), b = jittered(k.b, rng);
  const double s = double(side);
  // The pattern's geometry, drawn once per image; t(x, y) in [0, 1] mixes a and b.
  const int64_t period = 4 + rng.uniform_int(5), phase = rng.uniform_int(period);
  const int64_t direction = rng.bernoulli(0.5) ? 1 : -1;
  const double cx = 0.25 * s + 0.5 * s * rng.uniform(), cy = 0.25 * s + 0.5 * s * rng.uniform();
  const double radius = 1.5 + rng.uniform(), f1 = 2 * M_PI / (6 + 6 * rng.uniform()),
               f2 = 2 * M_PI / (6 + 6 * rng.uniform()), p1 = 2 * M_PI * rng.uniform(), p2 = 2 * M_PI * rng.uniform();
  std::vector<double> blocks(size_t((side + 3) / 4) * size_t((side + 3) / 4));
  for (auto& v : blocks) v = rng.uniform();
  for (int64_t y = 0; y < side; ++y) {
    for (int64_t x = 0; x < side; ++x) {
      const double dist = std::hypot(double(x) - cx, double(y) - cy);
      double t = 0;
      switch (kind) {
        case 0: t = (y + phase) % period < period / 2 ? 0 : 1; break;
        case 1: t = (x + phase) % period < period / 2 ? 0 : 1; break;
        case 2: t = (x + direction * y + 2 * side + phase) % (period + 1) < (period + 1) / 2 ? 0 : 1; break;
        case 3: t = double(((x + phase) / (period - 1) + (y + phase) / (period - 1)) % 2); break;
        case 4: t = direction > 0 ? double(x) / (s - 1) : 1 - double(x) / (s - 1); break;
        case 5: t = direction > 0 ? double(y) / (s - 1) : 1 - double(y) / (s - 1); break;
        case 6: t = std::min(1.0, dist / (0.6 * s)); break;
        case 8: {  // disks of b on a grid of spacing period + 3
          const int64_t g = period + 3;
          const double dx = double((x + phase) % g) - double(g) / 2, dy = double((y + phase) % g) - double(g) / 2;
          t = std::hypot(dx, dy) <= radius ? 1 : 0;
          break;
        }
        case 9: t = std::fmod(dist + double(phase), double(period)) < double(period) / 2 ? 0 : 1; break;
        case 10: t = blocks[size_t((y / 4) * ((side + 3) / 4) + x / 4)]; break;
        case 11: t = 0.5 + 0.25 * std::sin(f1 * double(x) + p1) + 0.25 * std::sin(f2 * double(y) + p2); break;
        default: break;
      }
      for (int64_t c = 0; c < 3; ++c) {
        out[c * plane + y * side + x] = uint8_t(std::lround(double(a[size_t(c)]) * (1 - t) + double(b[size_t(c)]) * t));
      }
    }
  }
}

// A stream of its own per split, all from the one subset seed.
Rng split_rng(uint32_t seed, uint64_t split) { return Rng(uint64_t(seed) * 0x9E3779B97F4A7C15ULL + split); }

// Each of `objects` ([N, 1, h, w]) composited on a background of its kind, rendered in order.
torch::Tensor on_backgrounds(const torch::Tensor& objects, const std::vector<int64_t>& kinds, Rng& rng) {
  auto backgrounds = torch::empty({int64_t(kinds.size()), 3, kBackgroundSide, kBackgroundSide}, torch::kUInt8);
  uint8_t* out = backgrounds.data_ptr<uint8_t>();
  for (size_t i = 0; i < kinds.size(); ++i) {
    render_into(kinds[i], kBackgroundSide, rng, out + int64_t(i) * 3 * kBackgroundSide * kBackgroundSide);
  }
  return composite(objects, backgrounds);
}

}  // namespace

const std::vector<std::string>& background_kind_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& k : kKinds) out.emplace_back(k.name);
    return out;
  }();
  return names;
}

torch::Tensor render_background(int64_t kind, int64_t side, Rng& rng) {
  SMCL_CHECK(kind >= 0 && kind < int64_t(kKinds.size()),
             "background kind " << kind << " is outside [0, " << kKinds.size() << ")");
  auto out = torch::empty({3, side, side}, torch::kUInt8);
  render_into(kind, side, rng, out.data_ptr<uint8_t>());
  return out;
}

torch::Tensor composite(const torch::Tensor& objects, const torch::Tensor& backgrounds) {
  SMCL_CHECK(objects.dim() == 4 && objects.size(1) == 1 && objects.scalar_type() == torch::kUInt8,
             "background compositing needs grayscale uint8 objects [N, 1, h, w], got " << objects.sizes());
  const int64_t side = backgrounds.size(2), h = objects.size(2), w = objects.size(3);
  SMCL_CHECK(h <= side && w <= side,
             "objects of " << h << "x" << w << " do not fit on " << side << "x" << side << " backgrounds");
  SMCL_ASSERT(backgrounds.dim() == 4 && backgrounds.size(0) == objects.size(0) && backgrounds.size(1) == 3,
              "backgrounds " << backgrounds.sizes());
  const int64_t top = (side - h) / 2, left = (side - w) / 2;
  auto value = objects.to(torch::kFloat32);
  auto alpha = (value / 85.0f).clamp_max(1.0f);
  auto out = backgrounds.to(torch::kFloat32);
  auto region = out.narrow(2, top, h).narrow(3, left, w);
  region.copy_(alpha * value + (1 - alpha) * region);
  return out.round().to(torch::kUInt8).contiguous();
}

std::vector<int64_t> major_classes(const std::vector<int64_t>& counts) {
  std::vector<int64_t> order(counts.size());
  std::iota(order.begin(), order.end(), int64_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t i, int64_t j) { return counts[size_t(i)] > counts[size_t(j)]; });
  order.resize(counts.size() / 2);
  return order;
}

void add_biased_backgrounds(LongTailedData& data, double bias, uint32_t seed) {
  SMCL_CHECK(data.train.images.defined() && data.train.images.size(1) == 1,
             "background-biased sets are made from grayscale in-memory sets (fashion_mnist, mnist)");
  const int64_t kinds = int64_t(kKinds.size());
  data.major_classes = major_classes(data.counts);
  SMCL_CHECK(int64_t(data.major_classes.size()) <= kinds,
             data.major_classes.size() << " major classes need as many background kinds; there are " << kinds);
  std::vector<int64_t> own_kind(data.counts.size(), -1);
  for (size_t r = 0; r < data.major_classes.size(); ++r) own_kind[size_t(data.major_classes[r])] = int64_t(r);

  const auto train_labels = to_host_vector(data.train.labels), test_labels = to_host_vector(data.test.labels);
  std::vector<int64_t> chosen;
  Rng train_rng = split_rng(seed, 1);
  for (int64_t y : train_labels) {
    const int64_t own = own_kind[size_t(y)];
    chosen.push_back(own >= 0 && train_rng.bernoulli(bias) ? own : train_rng.uniform_int(kinds));
  }
  auto train_images = on_backgrounds(data.train.images, chosen, train_rng);

  // The conflict split: each minor-class test object on the own background of a uniformly drawn major class.
  std::vector<int64_t> conflict_rows, conflict_kinds, conflict_owner;
  Rng conflict_rng = split_rng(seed, 3);
  for (size_t i = 0; i < test_labels.size(); ++i) {
    if (own_kind[size_t(test_labels[i])] >= 0) continue;
    const int64_t r = conflict_rng.uniform_int(int64_t(data.major_classes.size()));
    conflict_rows.push_back(int64_t(i));
    conflict_kinds.push_back(r);
    conflict_owner.push_back(data.major_classes[size_t(r)]);
  }
  auto conflict_index = torch::tensor(conflict_rows, torch::kInt64);
  data.conflict = {on_backgrounds(data.test.images.index_select(0, conflict_index), conflict_kinds, conflict_rng),
                   nullptr, data.test.labels.index_select(0, conflict_index), data.test.num_classes};
  data.conflict_background_class = torch::tensor(conflict_owner, torch::kInt64);

  std::vector<int64_t> test_kinds;
  Rng test_rng = split_rng(seed, 2);
  for (size_t i = 0; i < test_labels.size(); ++i) test_kinds.push_back(test_rng.uniform_int(kinds));
  data.test.images = on_backgrounds(data.test.images, test_kinds, test_rng);
  data.train.images = train_images;
}

std::optional<config::DatasetName> background_base(config::DatasetName name) {
  if (name == config::DatasetName::kFashionMnistBg) return config::DatasetName::kFashionMnist;
  if (name == config::DatasetName::kMnistBg) return config::DatasetName::kMnist;
  return std::nullopt;
}

}  // namespace smcl::data
