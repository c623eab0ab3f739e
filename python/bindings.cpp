// smcl's Python module (`import smcl`, the compiled part smcl._C): the library's own functions on
// torch.Tensors, which pass in and out without copies (the same tensors, autograd included), plus training a
// run and loading a trained one. The documented, typed interface is python/smcl/__init__.py and _C.pyi; the
// docstrings here are what help() shows.
#include <torch/extension.h>

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

torch::Tensor indices_tensor(const std::vector<int64_t>& indices) {
  return torch::tensor(indices, torch::dtype(torch::kInt64));
}

// A loaded run: the Classifier of `smcl predict` with its network open to Python.
class LoadedRun {
 public:
  LoadedRun(const std::string& run_dir, const std::string& checkpoint) : classifier_(run_dir, checkpoint) {}

  py::dict forward(const torch::Tensor& x) {
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
      .def("uniform_int", &smcl::Rng::uniform_int, "n"_a, "uniform integer in [0, n)")
      .def("beta", &smcl::Rng::beta, "a"_a, "b"_a, "Beta(a, b) draw")
      .def("permutation", &smcl::Rng::permutation, "n"_a, "a uniformly random permutation of 0..n-1")
      .def_property("state", &smcl::Rng::state, &smcl::Rng::set_state, "the stream's state as text");

  // Saliency (SPEC section 3).
  m.def("fine_grained_saliency", &smcl::saliency::fine_grained, "images"_a,
        "OpenCV's fine-grained static saliency for a batch: uint8 [B, C, H, W] (C = 1 or 3, RGB) -> float32 "
        "[B, H, W] in [0, 1], on the images' device");
  m.def("opencv_available", &smcl::saliency::opencv_available, "whether this build has OpenCV's saliency module");
  m.def("fine_grained_saliency_opencv", &smcl::saliency::fine_grained_opencv, "images"_a,
        "the same map computed by OpenCV itself, image by image (CPU; needs OpenCV)");
  m.def("class_activation_map", &smcl::saliency::class_activation_map, "feature_map"_a, "classifier_weight"_a,
        "labels"_a, "height"_a, "width"_a,
        "CAM: ReLU(sum_d W[y, d] F[:, d]) upsampled bilinearly to height x width, divided by each map's maximum");
  m.def("saliency_peaks", &smcl::saliency::peaks, "maps"_a,
        "maps [B, H, W] -> [B, 2] int64 (row, column) of each map's first maximum");
  m.def("center_peaks", &smcl::saliency::center_peaks, "batch"_a, "height"_a, "width"_a,
        "the image centre (H // 2, W // 2) for each of batch images, [B, 2] int64");
  m.def("random_peaks", &smcl::saliency::random_peaks, "batch"_a, "height"_a, "width"_a, "rng"_a,
        "a uniform random pixel per image, [B, 2] int64");

  // SMCL's mask (SPEC section 3).
  py::class_<smcl::augment::MaskBoxes>(m, "MaskBoxes", "one box per sample: rows [top, bottom), columns [left, right)")
      .def(py::init([](torch::Tensor top, torch::Tensor bottom, torch::Tensor left, torch::Tensor right,
                       torch::Tensor share) {
             return smcl::augment::MaskBoxes{top, bottom, left, right, share};
           }),
           "top"_a, "bottom"_a, "left"_a, "right"_a, "lambda_"_a)
      .def_readonly("top", &smcl::augment::MaskBoxes::top)
      .def_readonly("bottom", &smcl::augment::MaskBoxes::bottom)
      .def_readonly("left", &smcl::augment::MaskBoxes::left)
      .def_readonly("right", &smcl::augment::MaskBoxes::right)
      .def_readonly("lambda_", &smcl::augment::MaskBoxes::lambda, "[B] float32: box area / (H * W)");
  m.def("boxes_at", &smcl::augment::boxes_at, "peaks"_a, "u"_a, "height"_a, "width"_a, "per_batch"_a = false,
        "boxes of side floor(D * sqrt(u)) centred on peaks [B, 2], clipped to the image");
  m.def("box_mask", &smcl::augment::box_mask, "boxes"_a, "height"_a, "width"_a,
        "[B, 1, H, W] bool, true inside each sample's box");
  m.def(
      "masked_images",
      [](const torch::Tensor& source, const std::optional<torch::Tensor>& fill, const smcl::augment::MaskBoxes& boxes) {
        return smcl::augment::masked_images(source, fill.value_or(torch::Tensor()), boxes);
      },
      "source"_a, "fill"_a, "boxes"_a,
      "source [B, C, H, W] with fill's pixels (or zeros when fill is None) inside each box");

  // Losses (SPEC sections 4 and 5).
  m.def("supcon", &smcl::losses::supcon, "features"_a, "labels"_a, "temperature"_a = 0.07, "base_temperature"_a = 0.07,
        "supervised contrastive loss (Khosla et al. 2020, all anchors) of L2-normalised features [N, D]");
  m.def("balanced_contrastive", &smcl::losses::balanced_contrastive, "anchors"_a, "labels"_a, "prototypes"_a,
        "temperature"_a = 0.07,
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
      .def("per_sample", &smcl::losses::ClassificationLoss::per_sample, "logits"_a, "labels"_a,
           "[B] unweighted per-sample losses")
      .def(
          "__call__",
          [](const smcl::losses::ClassificationLoss& loss, const torch::Tensor& logits, const torch::Tensor& labels,
             const std::optional<torch::Tensor>& class_weights, const std::optional<torch::Tensor>& share) {
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
            auto weights = class_weights.value_or(torch::ones({logits.size(1)}, logits.options()));
            return loss.mixed(logits, labels_a, labels_b, lambda, weights);
          },
          "logits"_a, "labels_a"_a, "labels_b"_a, "lambda_"_a, "class_weights"_a = py::none(),
          "loss(z, a, share = lambda) + loss(z, b, share = 1 - lambda)")
      .def_property_readonly("margins", &smcl::losses::ClassificationLoss::margins, "LDAM's margins [K]");
  m.def("class_balanced_weights", &smcl::losses::class_balanced_weights, "counts"_a, "beta"_a = 0.9999,
        "w_k = (1 - beta) / (1 - beta^n_k), normalised to sum to K (Cui et al. 2019)");

  // Long-tailed subsets and class samplers (SPEC sections 1 and 2).
  m.def(
      "long_tail_counts",
      [](const std::string& profile, int64_t num_classes, int64_t max_per_class, double imbalance_ratio) {
        return smcl::data::long_tail_counts(choice<smcl::config::Profile>(profile, "profile"), num_classes,
                                            max_per_class, imbalance_ratio);
      },
      "profile"_a, "num_classes"_a, "max_per_class"_a, "imbalance_ratio"_a,
      "images per class of the exp or step profile");
  m.def(
      "long_tail_indices",
      [](const torch::Tensor& labels, const std::vector<int64_t>& counts, uint32_t seed) {
        return indices_tensor(smcl::data::long_tail_indices(labels, counts, seed));
      },
      "labels"_a, "counts"_a, "seed"_a = 0,
      "the kept indices, as the Python codebases' numpy RandomState(seed) shuffle per class chooses them");
  m.def("shot_groups", &smcl::data::shot_groups, "counts"_a, "many_threshold"_a = 100, "few_threshold"_a = 20,
        "0 (many), 1 (medium) or 2 (few) per class");
  m.def(
      "class_probabilities",
      [](const std::string& sampler, const std::vector<int64_t>& counts, double beta, double power) {
        return smcl::data::class_probabilities(choice<smcl::config::SamplerName>(sampler, "sampler"), counts, beta,
                                               power);
      },
      "sampler"_a, "counts"_a, "beta"_a = 0.9999, "power"_a = 1.0,
      "p_k of effective_number | class_balanced | inverse_power");
  py::class_<smcl::data::ClassWeightedSampler>(m, "ClassWeightedSampler",
                                               "draws a class k ~ p, then an image of k uniformly")
      .def(py::init<const torch::Tensor&, const std::vector<double>&>(), "labels"_a, "probabilities"_a)
      .def(
          "sample",
          [](const smcl::data::ClassWeightedSampler& sampler, int64_t n, smcl::Rng& rng) {
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
