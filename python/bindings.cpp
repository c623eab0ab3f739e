// smcl's Python module (`import smcl`, the compiled part smcl._C): the library's own functions on
// torch.Tensors, which pass in and out without copies (the same tensors, autograd included), plus training a
// run and loading a trained one. The documented, typed interface is python/smcl/__init__.py and _C.pyi; the
// docstrings here are what help() shows.
#include <torch/extension.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "smcl/augment/masking.h"
#include "smcl/config/config.h"
#include "smcl/core/error.h"
#include "smcl/core/rng.h"
#include "smcl/core/stop.h"
#include "smcl/data/class_sampler.h"
#include "smcl/data/datasets.h"
#include "smcl/data/long_tail.h"
#include "smcl/losses/balanced_contrastive.h"
#include "smcl/losses/class_weights.h"
#include "smcl/losses/classification.h"
#include "smcl/losses/supcon.h"
#include "smcl/saliency/saliency.h"
#include "smcl/train/classify.h"
#include "smcl/train/fit.h"

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

// Training runs with smcl's SIGINT/SIGTERM handlers (stop at the next step boundary, the last checkpoint
// resumable) and without the GIL; a stop becomes KeyboardInterrupt in Python.
std::string run_training(const std::function<smcl::train::RunSummary()>& work) {
  py::gil_scoped_release release;
  smcl::StopHandlerScope handlers;
  return smcl::train::to_json(work()).dump();
}

// A configuration choice named from Python; an unknown name is smcl.Error listing the allowed ones.
template <typename E>
E choice(const std::string& name, const std::string& what) {
  const auto value = smcl::config::parse_choice<E>(name);
  if (!value) throw smcl::Error(what + " '" + name + "' is not one of: " + smcl::config::choice_list<E>());
  return *value;
}

// Argument checks of the Python functions (issue 38): a bad argument is smcl.Error naming it, never an internal
// error or a silent NaN. They live here, not in the library's functions, which run inside training steps that
// must not wait for the device (a check of a tensor's values reads it back to the host).
void check_finite_positive(double value, const char* name) {
  SMCL_CHECK(std::isfinite(value) && value > 0, name << " = " << value << ": expected a positive number");
}

// A [N] integer tensor of class labels in [0, classes) (classes 0: any non-negative).
void check_labels(const torch::Tensor& labels, int64_t n, int64_t classes, const char* name) {
  SMCL_CHECK(labels.dim() == 1 && labels.scalar_type() == torch::kInt64,
             name << ": expected a 1-D int64 tensor, got " << labels.sizes() << " " << labels.scalar_type());
  SMCL_CHECK(n < 0 || labels.size(0) == n, name << " has " << labels.size(0) << " labels for " << n << " samples");
  if (labels.numel() == 0) return;
  const int64_t low = labels.min().item<int64_t>(), high = labels.max().item<int64_t>();
  SMCL_CHECK(low >= 0 && (classes == 0 || high < classes),
             name << ": labels from " << low << " to " << high << ", expected them in [0, " << classes << ")");
}

// [N, D] float rows of length 1 (the contrastive losses' inputs), to within bf16's rounding.
void check_unit_rows(const torch::Tensor& x, const char* name) {
  SMCL_CHECK(x.dim() == 2 && x.is_floating_point() && x.size(0) >= 1 && x.size(1) >= 1,
             name << ": expected a float tensor [N, D], got " << x.sizes() << " " << x.scalar_type());
  const double worst = (x.detach().to(torch::kFloat64).norm(2, 1) - 1).abs().max().item<double>();
  SMCL_CHECK(worst <= 1e-2,
             name << ": expected L2-normalised rows (F.normalize(x, dim=1)); a row's norm is off by " << worst);
}

// beta of the class-balanced weights and sampler: (1 - beta) / (1 - beta^n) needs beta in [0, 1).
void check_beta(double beta) {
  SMCL_CHECK(beta >= 0 && beta < 1, "beta = " << beta << ": expected a number in [0, 1)");
}

void check_logits(const torch::Tensor& logits, const torch::Tensor& labels,
                  const std::optional<torch::Tensor>& class_weights) {
  SMCL_CHECK(logits.dim() == 2 && logits.is_floating_point() && logits.size(0) >= 1,
             "logits: expected a float tensor [B, K], got " << logits.sizes() << " " << logits.scalar_type());
  check_labels(labels, logits.size(0), logits.size(1), "labels");
  SMCL_CHECK(!class_weights || (class_weights->dim() == 1 && class_weights->size(0) == logits.size(1)),
             "class_weights: expected [K] with K = " << logits.size(1) << ", got " << class_weights->sizes());
}

void check_image_size(int64_t batch, int64_t height, int64_t width) {
  SMCL_CHECK(batch >= 0 && batch <= (int64_t(1) << 31), "batch = " << batch << ": expected in [0, 2^31]");
  SMCL_CHECK(height >= 1 && width >= 1 && height <= (1 << 16) && width <= (1 << 16),
             "height " << height << ", width " << width << ": expected each in [1, 65536]");
  SMCL_CHECK(double(batch) * double(height) * double(width) <= double(int64_t(1) << 31),  // no int64 overflow
             batch << " masks of " << height << "x" << width << " are more than 2^31 pixels");
}

void check_boxes(const smcl::augment::MaskBoxes& boxes, int64_t batch) {
  SMCL_CHECK(boxes.top.dim() == 1 && boxes.top.size(0) == batch,
             "boxes: " << boxes.top.sizes() << " boxes for a batch of " << batch << "; expected one per sample");
}

torch::Tensor indices_tensor(const std::vector<int64_t>& indices) {
  return torch::tensor(indices, torch::dtype(torch::kInt64));
}

// The most values a function returns to Python at once (2^28: 2 GiB as int64, more as a list of ints): a larger
// count is a mistake, and would be the kernel's OOM kill rather than an error.
void check_count(int64_t n, const char* name) {
  SMCL_CHECK(n >= 0 && n <= (int64_t(1) << 28), name << " = " << n << ": expected in [0, 2^28]");
}

// A loaded run: the Classifier of `smcl predict` with its network open to Python.
class LoadedRun {
 public:
  LoadedRun(const std::string& run_dir, const std::string& checkpoint) : classifier_(run_dir, checkpoint) {}

  py::dict forward(const torch::Tensor& x) {
    // The network's own dtype: float32 as loaded, another after model.double() from Python.
    const auto dtype = classifier_.model()->parameters().front().scalar_type();
    SMCL_CHECK(x.dim() == 4 && x.scalar_type() == dtype && x.size(0) >= 1 && x.size(1) == classifier_.channels() &&
                   x.size(2) >= 1 && x.size(3) >= 1,
               "x: expected " << dtype << " images [B, " << classifier_.channels()
                              << ", H, W] (Run.prepare makes them), got " << x.sizes() << " " << x.scalar_type());
    const auto out = classifier_.model()->forward(x);
    py::dict result("feature_map"_a = out.feature_map, "features"_a = out.features, "logits"_a = out.logits);
    result["projection"] = out.projection.defined() ? py::cast(out.projection) : py::none();
    return result;
  }

  std::vector<std::pair<std::string, torch::Tensor>> named(bool buffers) {
    const auto& model = *classifier_.model();
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& item : buffers ? model.named_buffers() : model.named_parameters()) {
      out.emplace_back(item.key(), item.value());
    }
    return out;
  }

  std::vector<py::dict> classify(const std::vector<std::string>& paths, int64_t top_k) {
    std::vector<smcl::train::Classification> found;
    {
      py::gil_scoped_release release;
      found = classifier_.classify(paths, top_k);
    }
    std::vector<py::dict> out;
    for (const auto& c : found) {
      py::dict row("path"_a = c.path, "classes"_a = c.classes, "probabilities"_a = c.probabilities);
      row["error"] = c.error.empty() ? py::none() : py::cast(c.error);
      row["warning"] = c.warning.empty() ? py::none() : py::cast(c.warning);
      out.push_back(row);
    }
    return out;
  }

  smcl::train::Classifier& classifier() { return classifier_; }

 private:
  smcl::train::Classifier classifier_;
};

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "smcl's compiled functions; use them through the smcl package";

  // smcl::Error (bad input, named) -> smcl.Error, a ValueError; a stop signal -> KeyboardInterrupt.
  static py::exception<smcl::Error> error(m, "Error", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr thrown) {
    try {
      if (thrown) std::rethrow_exception(thrown);
    } catch (const smcl::Stopped& e) {
      PyErr_SetString(PyExc_KeyboardInterrupt, e.what());
    } catch (const smcl::Error& e) {
      error(e.what());
    }
  });

  py::class_<smcl::Rng>(m, "Rng", "smcl's random stream (64-bit Mersenne twister), with a saveable state")
      .def(py::init<uint64_t>(), "seed"_a = 0)
      .def("uniform", &smcl::Rng::uniform, "uniform float in [0, 1)")
      .def(
          "uniform_int",
          [](smcl::Rng& rng, int64_t n) {
            SMCL_CHECK(n >= 1, "uniform_int: n = " << n << ", expected at least 1");
            return rng.uniform_int(n);
          },
          "n"_a, "uniform integer in [0, n)")
      .def(
          "beta",
          [](smcl::Rng& rng, double a, double b) {
            check_finite_positive(a, "a");
            check_finite_positive(b, "b");
            return rng.beta(a, b);
          },
          "a"_a, "b"_a, "Beta(a, b) draw")
      .def(
          "permutation",
          [](smcl::Rng& rng, int64_t n) {
            check_count(n, "permutation: n");
            return rng.permutation(n);
          },
          "n"_a, "a uniformly random permutation of 0..n-1")
      .def_property("state", &smcl::Rng::state, &smcl::Rng::set_state, "the stream's state as text");

  // Saliency (SPEC section 3).
  m.def("fine_grained_saliency", &smcl::saliency::fine_grained, "images"_a,
        "OpenCV's fine-grained static saliency for a batch: uint8 [B, C, H, W] (C = 1 or 3, RGB) -> float32 "
        "[B, H, W] in [0, 1], on the images' device");
  m.def("opencv_available", &smcl::saliency::opencv_available, "whether this build has OpenCV's saliency module");
  m.def("fine_grained_saliency_opencv", &smcl::saliency::fine_grained_opencv, "images"_a,
        "the same map computed by OpenCV itself, image by image (CPU; needs OpenCV)");
  m.def(
      "class_activation_map",
      [](const torch::Tensor& feature_map, const torch::Tensor& classifier_weight, const torch::Tensor& labels,
         int64_t height, int64_t width) {
        SMCL_CHECK(
            feature_map.dim() == 4 && classifier_weight.dim() == 2 && classifier_weight.size(1) == feature_map.size(1),
            "feature_map [B, D, h, w] and classifier_weight [K, D] expected, got " << feature_map.sizes() << " and "
                                                                                   << classifier_weight.sizes());
        check_labels(labels, feature_map.size(0), classifier_weight.size(0), "labels");
        check_image_size(feature_map.size(0), height, width);
        return smcl::saliency::class_activation_map(feature_map, classifier_weight, labels, height, width);
      },
      "feature_map"_a, "classifier_weight"_a, "labels"_a, "height"_a, "width"_a,
      "CAM: ReLU(sum_d W[y, d] F[:, d]) upsampled bilinearly to height x width, divided by each map's maximum");
  m.def(
      "saliency_peaks",
      [](const torch::Tensor& maps) {
        SMCL_CHECK(maps.dim() == 3 && maps.numel() > 0, "maps: expected [B, H, W], got " << maps.sizes());
        return smcl::saliency::peaks(maps);
      },
      "maps"_a, "maps [B, H, W] -> [B, 2] int64 (row, column) of each map's first maximum");
  m.def(
      "center_peaks",
      [](int64_t batch, int64_t height, int64_t width) {
        check_image_size(batch, height, width);
        SMCL_CHECK(batch >= 1, "batch = " << batch << ": expected at least 1");
        return smcl::saliency::center_peaks(batch, height, width);
      },
      "batch"_a, "height"_a, "width"_a, "the image centre (H // 2, W // 2) for each of batch images, [B, 2] int64");
  m.def(
      "random_peaks",
      [](int64_t batch, int64_t height, int64_t width, smcl::Rng& rng) {
        check_image_size(batch, height, width);
        SMCL_CHECK(batch >= 1, "batch = " << batch << ": expected at least 1");
        return smcl::saliency::random_peaks(batch, height, width, rng);
      },
      "batch"_a, "height"_a, "width"_a, "rng"_a, "a uniform random pixel per image, [B, 2] int64");

  // SMCL's mask (SPEC section 3).
  py::class_<smcl::augment::MaskBoxes>(m, "MaskBoxes", "one box per sample: rows [top, bottom), columns [left, right)")
      .def(py::init([](torch::Tensor top, torch::Tensor bottom, torch::Tensor left, torch::Tensor right,
                       torch::Tensor share) {
             for (const auto* t : {&top, &bottom, &left, &right}) {
               SMCL_CHECK(t->dim() == 1 && t->size(0) == top.size(0) && t->scalar_type() == torch::kInt64,
                          "MaskBoxes: top, bottom, left and right are int64 [B] of one length; got "
                              << t->sizes() << " " << t->scalar_type());
             }
             SMCL_CHECK(share.dim() == 1 && share.size(0) == top.size(0),
                        "MaskBoxes: lambda_ is [B] with B = " << top.size(0) << ", got " << share.sizes());
             return smcl::augment::MaskBoxes{top, bottom, left, right, share};
           }),
           "top"_a, "bottom"_a, "left"_a, "right"_a, "lambda_"_a)
      .def_readonly("top", &smcl::augment::MaskBoxes::top)
      .def_readonly("bottom", &smcl::augment::MaskBoxes::bottom)
      .def_readonly("left", &smcl::augment::MaskBoxes::left)
      .def_readonly("right", &smcl::augment::MaskBoxes::right)
      .def_readonly("lambda_", &smcl::augment::MaskBoxes::lambda, "[B] float32: box area / (H * W)");
  m.def(
      "boxes_at",
      [](const torch::Tensor& peaks, double u, int64_t height, int64_t width, bool per_batch) {
        SMCL_CHECK(peaks.dim() == 2 && peaks.size(1) == 2 && peaks.size(0) >= 1 && !peaks.is_floating_point(),
                   "peaks: expected integer (row, column) pairs [B, 2], got " << peaks.sizes());
        SMCL_CHECK(u >= 0 && u <= 1, "u = " << u << ": expected a share in [0, 1]");
        check_image_size(peaks.size(0), height, width);
        return smcl::augment::boxes_at(peaks, u, height, width, per_batch);
      },
      "peaks"_a, "u"_a, "height"_a, "width"_a, "per_batch"_a = false,
      "boxes of side floor(D * sqrt(u)) centred on peaks [B, 2], clipped to the image");
  m.def(
      "box_mask",
      [](const smcl::augment::MaskBoxes& boxes, int64_t height, int64_t width) {
        check_image_size(boxes.top.size(0), height, width);
        return smcl::augment::box_mask(boxes, height, width);
      },
      "boxes"_a, "height"_a, "width"_a, "[B, 1, H, W] bool, true inside each sample's box");
  m.def(
      "masked_images",
      [](const torch::Tensor& source, const std::optional<torch::Tensor>& fill, const smcl::augment::MaskBoxes& boxes) {
        SMCL_CHECK(source.dim() == 4, "source: expected images [B, C, H, W], got " << source.sizes());
        SMCL_CHECK(!fill || fill->sizes() == source.sizes(),
                   "fill: expected the source's shape " << source.sizes() << ", got " << fill->sizes());
        check_boxes(boxes, source.size(0));
        return smcl::augment::masked_images(source, fill.value_or(torch::Tensor()), boxes);
      },
      "source"_a, "fill"_a, "boxes"_a,
      "source [B, C, H, W] with fill's pixels (or zeros when fill is None) inside each box");

  // Losses (SPEC sections 4 and 5).
  m.def(
      "supcon",
      [](const torch::Tensor& features, const torch::Tensor& labels, double temperature, double base_temperature) {
        check_unit_rows(features, "features");
        check_labels(labels, features.size(0), 0, "labels");
        check_finite_positive(temperature, "temperature");
        check_finite_positive(base_temperature, "base_temperature");
        return smcl::losses::supcon(features, labels, temperature, base_temperature);
      },
      "features"_a, "labels"_a, "temperature"_a = 0.07, "base_temperature"_a = 0.07,
      "supervised contrastive loss (Khosla et al. 2020, all anchors) of L2-normalised features [N, D]");
  m.def(
      "balanced_contrastive",
      [](const torch::Tensor& anchors, const torch::Tensor& labels, const torch::Tensor& prototypes,
         double temperature) {
        check_unit_rows(anchors, "anchors");
        check_unit_rows(prototypes, "prototypes");
        SMCL_CHECK(prototypes.size(1) == anchors.size(1),
                   "prototypes: " << prototypes.size(1) << " dimensions, the anchors " << anchors.size(1));
        check_labels(labels, anchors.size(0), prototypes.size(0), "labels");
        check_finite_positive(temperature, "temperature");
        return smcl::losses::balanced_contrastive(anchors, labels, prototypes, temperature);
      },
      "anchors"_a, "labels"_a, "prototypes"_a, "temperature"_a = 0.07,
      "BCL's balanced contrastive loss (Zhu et al. 2022) of L2-normalised anchors [N, D], class prototypes [K, D]");
  py::class_<smcl::losses::ClassificationLoss>(
      m, "ClassificationLoss", "ce | ldam | focal | balanced_softmax | logit_adjusted, with class weights")
      .def(py::init([](const std::string& name, const std::vector<int64_t>& counts, double ldam_max_margin,
                       double ldam_scale, double focal_gamma, double la_tau) {
             smcl::config::LossConfig loss;
             loss.name = choice<smcl::config::LossName>(name, "loss");
             loss.ldam_max_margin = ldam_max_margin;
             loss.ldam_scale = ldam_scale;
             loss.focal_gamma = focal_gamma;
             loss.la_tau = la_tau;
             return smcl::losses::ClassificationLoss(loss, counts);
           }),
           "name"_a, "counts"_a, "ldam_max_margin"_a = 0.5, "ldam_scale"_a = 30.0, "focal_gamma"_a = 1.0,
           "la_tau"_a = 1.0)
      .def(
          "per_sample",
          [](const smcl::losses::ClassificationLoss& loss, const torch::Tensor& logits, const torch::Tensor& labels) {
            check_logits(logits, labels, std::nullopt);
            return loss.per_sample(logits, labels);
          },
          "logits"_a, "labels"_a, "[B] unweighted per-sample losses")
      .def(
          "__call__",
          [](const smcl::losses::ClassificationLoss& loss, const torch::Tensor& logits, const torch::Tensor& labels,
             const std::optional<torch::Tensor>& class_weights, const std::optional<torch::Tensor>& share) {
            check_logits(logits, labels, class_weights);
            SMCL_CHECK(!share || (share->dim() == 1 && share->size(0) == logits.size(0)),
                       "share: expected [B] with B = " << logits.size(0) << ", got " << share->sizes());
            auto weights = class_weights.value_or(torch::ones({logits.size(1)}, logits.options()));
            return loss(logits, labels, weights, share.value_or(torch::Tensor()));
          },
          "logits"_a, "labels"_a, "class_weights"_a = py::none(), "share"_a = py::none(),
          "the weighted loss: sum_i share_i w_{y_i} l_i / normaliser")
      .def(
          "mixed",
          [](const smcl::losses::ClassificationLoss& loss, const torch::Tensor& logits, const torch::Tensor& labels_a,
             const torch::Tensor& labels_b, const torch::Tensor& lambda,
             const std::optional<torch::Tensor>& class_weights) {
            check_logits(logits, labels_a, class_weights);
            check_labels(labels_b, logits.size(0), logits.size(1), "labels_b");
            SMCL_CHECK(lambda.dim() == 1 && lambda.size(0) == logits.size(0) && lambda.is_floating_point(),
                       "lambda_: expected float [B] with B = " << logits.size(0) << ", got " << lambda.sizes() << " "
                                                               << lambda.scalar_type());
            auto weights = class_weights.value_or(torch::ones({logits.size(1)}, logits.options()));
            return loss.mixed(logits, labels_a, labels_b, lambda, weights);
          },
          "logits"_a, "labels_a"_a, "labels_b"_a, "lambda_"_a, "class_weights"_a = py::none(),
          "loss(z, a, share = lambda) + loss(z, b, share = 1 - lambda)")
      .def_property_readonly("margins", &smcl::losses::ClassificationLoss::margins, "LDAM's margins [K]");
  m.def(
      "class_balanced_weights",
      [](const std::vector<int64_t>& counts, double beta) {
        check_beta(beta);
        return smcl::losses::class_balanced_weights(counts, beta);
      },
      "counts"_a, "beta"_a = 0.9999, "w_k = (1 - beta) / (1 - beta^n_k), normalised to sum to K (Cui et al. 2019)");

  // Long-tailed subsets and class samplers (SPEC sections 1 and 2).
  m.def(
      "long_tail_counts",
      [](const std::string& profile, int64_t num_classes, int64_t max_per_class, double imbalance_ratio) {
        SMCL_CHECK(num_classes >= 1 && num_classes <= (1 << 20),
                   "num_classes = " << num_classes << ": expected in [1, 2^20]");
        SMCL_CHECK(max_per_class >= 1, "max_per_class = " << max_per_class << ": expected at least 1");
        SMCL_CHECK(std::isfinite(imbalance_ratio) && imbalance_ratio >= 1,
                   "imbalance_ratio = " << imbalance_ratio << ": expected a number of at least 1");
        return smcl::data::long_tail_counts(choice<smcl::config::Profile>(profile, "profile"), num_classes,
                                            max_per_class, imbalance_ratio);
      },
      "profile"_a, "num_classes"_a, "max_per_class"_a, "imbalance_ratio"_a,
      "images per class of the exp or step profile");
  m.def(
      "long_tail_indices",
      [](const torch::Tensor& labels, const std::vector<int64_t>& counts, uint32_t seed) {
        SMCL_CHECK(!counts.empty(), "counts: expected one count per class, got none");
        check_labels(labels, -1, int64_t(counts.size()), "labels");
        for (size_t k = 0; k < counts.size(); ++k) {
          SMCL_CHECK(counts[k] >= 0, "counts[" << k << "] = " << counts[k] << ": expected a count of at least 0");
        }
        return indices_tensor(smcl::data::long_tail_indices(labels, counts, seed));
      },
      "labels"_a, "counts"_a, "seed"_a = 0,
      "the kept indices, as the Python codebases' numpy RandomState(seed) shuffle per class chooses them");
  m.def("shot_groups", &smcl::data::shot_groups, "counts"_a, "many_threshold"_a = 100, "few_threshold"_a = 20,
        "0 (many), 1 (medium) or 2 (few) per class");
  m.def(
      "class_probabilities",
      [](const std::string& sampler, const std::vector<int64_t>& counts, double beta, double power) {
        check_beta(beta);
        SMCL_CHECK(std::isfinite(power), "power = " << power << ": expected a finite number");
        return smcl::data::class_probabilities(choice<smcl::config::SamplerName>(sampler, "sampler"), counts, beta,
                                               power);
      },
      "sampler"_a, "counts"_a, "beta"_a = 0.9999, "power"_a = 1.0,
      "p_k of effective_number | class_balanced | inverse_power");
  py::class_<smcl::data::ClassWeightedSampler>(m, "ClassWeightedSampler",
                                               "draws a class k ~ p, then an image of k uniformly")
      .def(py::init([](const torch::Tensor& labels, const std::vector<double>& probabilities) {
             check_labels(labels, -1, int64_t(probabilities.size()), "labels");
             double sum = 0;
             for (size_t k = 0; k < probabilities.size(); ++k) {
               SMCL_CHECK(std::isfinite(probabilities[k]) && probabilities[k] >= 0 && probabilities[k] <= 1,
                          "probabilities[" << k << "] = " << probabilities[k] << ": expected a probability in [0, 1]");
               sum += probabilities[k];
             }
             SMCL_CHECK(std::abs(sum - 1) < 1e-9, "probabilities sum to " << sum << ", not 1");
             const auto counts = torch::bincount(labels.to(torch::kInt64), {}, int64_t(probabilities.size()));
             for (size_t k = 0; k < probabilities.size(); ++k) {
               SMCL_CHECK(probabilities[k] == 0 || counts[int64_t(k)].item<int64_t>() > 0,
                          "probabilities[" << k << "] = " << probabilities[k] << " for a class without images");
             }
             return smcl::data::ClassWeightedSampler(labels, probabilities);
           }),
           "labels"_a, "probabilities"_a)
      .def(
          "sample",
          [](const smcl::data::ClassWeightedSampler& sampler, int64_t n, smcl::Rng& rng) {
            check_count(n, "n");
            return indices_tensor(sampler.sample(n, rng));
          },
          "n"_a, "rng"_a, "n dataset indices, with replacement");

  // Runs.
  m.def(
      "train",
      [](const std::string& config_path, const std::vector<std::string>& overrides, const std::string& out) {
        return run_training([&] {
          auto config = smcl::config::load(config_path, overrides);
          smcl::data::resolve_defaults(config);
          return smcl::train::fit(config, out);
        });
      },
      "config_path"_a, "overrides"_a, "out"_a, "trains a run into the folder out; returns summary.json as text");
  m.def(
      "resume",
      [](const std::string& run_dir, const std::string& from) {
        return run_training([&] { return smcl::train::resume(run_dir, from); });
      },
      "run_dir"_a, "from_"_a = "last", "continues a run from its last (or best) checkpoint; returns the summary");
  py::class_<LoadedRun>(m, "LoadedRun", "a run's checkpoint loaded for use")
      .def(py::init<const std::string&, const std::string&>(), "run_dir"_a, "checkpoint"_a = "best")
      .def("forward", &LoadedRun::forward, "x"_a)
      .def("named_parameters", [](LoadedRun& run) { return run.named(false); })
      .def("named_buffers", [](LoadedRun& run) { return run.named(true); })
      .def(
          "set_training", [](LoadedRun& run, bool on) { run.classifier().model()->train(on); }, "on"_a)
      .def("prepare",
           [](LoadedRun& run, const std::vector<torch::Tensor>& images) { return run.classifier().prepare(images); })
      .def("classify", &LoadedRun::classify, "paths"_a, "top_k"_a = 5)
      .def_property_readonly("class_names", [](LoadedRun& run) { return run.classifier().class_names(); })
      .def_property_readonly("epoch", [](LoadedRun& run) { return run.classifier().epoch(); })
      .def_property_readonly("temperature", [](LoadedRun& run) { return run.classifier().temperature(); })
      .def_property_readonly("device", [](LoadedRun& run) { return run.classifier().device().str(); })
      .def_property_readonly("config_yaml",
                             [](LoadedRun& run) { return smcl::config::to_yaml(run.classifier().config()); });
}
