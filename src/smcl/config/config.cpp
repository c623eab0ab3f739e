#include "smcl/config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include "smcl/core/error.h"

namespace smcl::config {
namespace {

// One configurable key: how to read it from YAML, how to write it back, and what it means.
struct Field {
  std::string key;
  std::string type;
  std::string doc;
  std::function<void(const YAML::Node&)> read;  // throws YAML::Exception on a wrong type
  std::function<void(YAML::Emitter&)> write;
};

// Thrown by read_scalar for .inf, -.inf and .nan: no real-valued key accepts them.
struct NotFinite {};

template <typename T>
T read_scalar(const YAML::Node& node) {
  if (!node.IsScalar()) throw YAML::BadConversion(node.Mark());
  T value = node.as<T>();
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(value)) throw NotFinite{};
  }
  return value;
}

// Writes a value as YAML; a real number as the shortest text that reads back as exactly the same double (0.2,
// not 0.20000000000000001), as a person writes it.
template <typename T>
void emit(YAML::Emitter& out, const T& value) {
  if constexpr (std::is_floating_point_v<T>) {
    char text[32];
    const auto result = std::to_chars(text, text + sizeof(text), value);
    out << std::string(text, result.ptr);
  } else {
    out << value;
  }
}

template <typename T>
Field scalar_field(const std::string& key, const std::string& type, T& value, const std::string& doc) {
  return {key, type, doc, [&value](const YAML::Node& node) { value = read_scalar<T>(node); },
          [&value](YAML::Emitter& out) { emit(out, value); }};
}

template <typename T>
Field list_field(const std::string& key, const std::string& type, std::vector<T>& value, const std::string& doc) {
  return {key, type, doc,
          [&value](const YAML::Node& node) {
            if (!node.IsSequence()) throw YAML::BadConversion(node.Mark());
            std::vector<T> items;
            for (const auto& item : node) items.push_back(read_scalar<T>(item));
            value = items;
          },
          [&value](YAML::Emitter& out) {
            out << YAML::Flow << YAML::BeginSeq;
            for (const auto& item : value) emit(out, item);
            out << YAML::EndSeq;
          }};
}

// A value named in a closed set; an unknown name throws UnknownChoice, which lists the allowed names.
struct UnknownChoice {
  std::string message;
};

template <typename E>
Field choice_field(const std::string& key, E& value, const std::string& doc) {
  return {key, choice_list<E>(" | "), doc,
          [&value](const YAML::Node& node) {
            const auto name = read_scalar<std::string>(node);
            const auto parsed = parse_choice<E>(name);
            if (!parsed) throw UnknownChoice{"'" + name + "' is not one of: " + choice_list<E>()};
            value = *parsed;
          },
          [&value](YAML::Emitter& out) { out << name_of(value); }};
}

std::vector<Field> fields(Config& c) {
  return {
      choice_field(
          "data.name", c.data.name,
          "dataset: in memory, on biased backgrounds (*_bg), or files (image_list, imagenet_lt, image_folder)"),
      scalar_field("data.root", "string", c.data.root, "folder holding the dataset (empty: the dataset's default)"),
      choice_field("data.subset", c.data.subset, "auto: long_tail for in-memory sets, none for file sets"),
      choice_field("data.profile", c.data.profile, "long-tail profile"),
      scalar_field("data.imbalance_ratio", "number", c.data.imbalance_ratio, "n_max / n_min, >= 1"),
      scalar_field("data.max_per_class", "int", c.data.max_per_class, "n_max (0: the dataset's per-class count)"),
      scalar_field("data.subset_seed", "int", c.data.subset_seed, "numpy legacy seed selecting kept images"),
      scalar_field("data.train_list", "string", c.data.train_list, "image_list: training list (relative to root)"),
      scalar_field("data.test_list", "string", c.data.test_list, "image_list: test list (relative to root)"),
      scalar_field("data.val_list", "string", c.data.val_list,
                   "image_list: validation list; set: the best epoch is chosen on it, not on the test set"),
      scalar_field("data.test_root", "string", c.data.test_root, "image_folder: test folder (empty: hold out)"),
      scalar_field("data.holdout_fraction", "number", c.data.holdout_fraction,
                   "image_folder without test_root: share of each class held out for testing"),
      scalar_field("data.num_classes", "int", c.data.num_classes, "image_list: classes (0: 1 + largest label)"),
      scalar_field("data.channels", "int", c.data.channels, "file sets: 3 (RGB) | 1 (grayscale)"),
      scalar_field("data.image_size", "int", c.data.image_size, "file sets: training crop side (0: 224)"),
      scalar_field("data.bg_bias", "number", c.data.bg_bias,
                   "*_bg sets: probability a major class's training image has its class's own background"),
      scalar_field("data.skip_bad_images", "bool", c.data.skip_bad_images,
                   "file sets: leave out missing, unreadable or truncated images"),
      scalar_field("data.max_image_pixels", "int", c.data.max_image_pixels,
                   "file sets: an image whose header declares more pixels (width x height) is refused before it is "
                   "decoded (default: PIL's limit)"),
      scalar_field("data.decode_threads", "int", c.data.decode_threads, "file sets: decoding threads (0: all cores)"),
      choice_field("model.name", c.model.name,
                   "resnet8 .. resnet110: ResNet-CIFAR (depth 6n+2); resnet50, 101, 152: torchvision's ResNets"),
      scalar_field("model.init_from", "string", c.model.init_from,
                   "PyTorch state dict file a new run starts from (empty: random init)"),
      choice_field("method.name", c.method.name, "training method"),
      scalar_field("mix.alpha", "number", c.mix.alpha, "mixing share lambda ~ Beta(alpha, alpha)"),
      scalar_field("mix.prob", "number", c.mix.prob, "probability per batch of mixing"),
      scalar_field("mix.start_epoch", "int", c.mix.start_epoch, "first epoch that may mix"),
      scalar_field("mix.end_epoch", "int", c.mix.end_epoch, "first epoch that no longer mixes (-1: none)"),
      scalar_field("mix.kappa", "number", c.mix.kappa, "remix: count ratio favouring the minor label"),
      scalar_field("mix.tau", "number", c.mix.tau, "remix: share below which the major label is dropped"),
      choice_field("mix.source_sampler", c.mix.source_sampler, "cmo: class probabilities of the patch source"),
      scalar_field("mix.source_beta", "number", c.mix.source_beta, "cmo effective_number beta, in [0, 1)"),
      scalar_field("mix.source_power", "number", c.mix.source_power, "cmo inverse_power: p_k ~ n_k^(1 - power)"),
      scalar_field("smcl.alpha", "number", c.smcl.alpha, "weight of the cross-entropy term"),
      scalar_field("smcl.beta", "number", c.smcl.beta, "weight of the supervised contrastive term (0: off)"),
      scalar_field("smcl.temperature", "number", c.smcl.temperature, "contrastive temperature (scl, smcl, bcl)"),
      scalar_field("smcl.base_temperature", "number", c.smcl.base_temperature, "SupCon base temperature"),
      choice_field("smcl.target_sampler", c.smcl.target_sampler, "class probabilities of the target classes"),
      scalar_field("smcl.target_beta", "number", c.smcl.target_beta, "effective_number beta, in [0, 1)"),
      scalar_field("smcl.target_power", "number", c.smcl.target_power, "inverse_power: p_k ~ n_k^(1 - power)"),
      choice_field("smcl.saliency", c.smcl.saliency, "box centre: a saliency peak, the image centre or random"),
      choice_field("smcl.saliency_of", c.smcl.saliency_of, "whose peak places the box"),
      choice_field("smcl.box", c.smcl.box, "per_sample: each its own peak; per_batch: sample 0's box for all"),
      scalar_field("smcl.box_beta", "number", c.smcl.box_beta, "a of the box area share u ~ Beta(a, a)"),
      choice_field("smcl.mask_fill", c.smcl.mask_fill, "inside the box: the target's pixels or zeros"),
      scalar_field("smcl.mask_start_epoch", "int", c.smcl.mask_start_epoch, "first epoch that may mask"),
      scalar_field("smcl.mask_prob", "number", c.smcl.mask_prob, "probability per batch of the masked sample"),
      scalar_field("smcl.target_start_epoch", "int", c.smcl.target_start_epoch,
                   "first epoch with target views (-1: mask_start_epoch)"),
      scalar_field("smcl.target_ce", "bool", c.smcl.target_ce, "target views join the views' cross-entropy mean"),
      scalar_field("paco.alpha", "number", c.paco.alpha, "gpaco: weight of a same-class sample as a positive"),
      scalar_field("paco.beta", "number", c.paco.beta, "gpaco: weight of the own class centre as a positive"),
      scalar_field("paco.gamma", "number", c.paco.gamma, "gpaco: weight of the samples in the denominator"),
      scalar_field("paco.temperature", "number", c.paco.temperature, "gpaco: temperature of the projections"),
      scalar_field("paco.centre_temperature", "number", c.paco.centre_temperature,
                   "gpaco: the centre logits (classifier + log prior) are divided by it"),
      scalar_field("paco.queue_size", "int", c.paco.queue_size,
                   "gpaco: the last keys and labels kept as extra contrast samples (0: the batch alone)"),
      scalar_field("paco.projection_dim", "int", c.paco.projection_dim, "gpaco: output of the projection head"),
      choice_field("paco.query_view", c.paco.query_view, "gpaco: the first view's augmentation"),
      choice_field("paco.key_view", c.paco.key_view, "gpaco: the second view's augmentation"),
      scalar_field("bcl.cosine_scale", "number", c.bcl.cosine_scale,
                   "bcl: scale s of the cosine classifier's logits (0: a linear classifier)"),
      scalar_field("bcl.projection_dim", "int", c.bcl.projection_dim,
                   "bcl: output of the projection and prototype heads"),
      choice_field("bcl.classifier_view", c.bcl.classifier_view, "bcl: the classification view's augmentation"),
      choice_field("bcl.contrast_views", c.bcl.contrast_views, "bcl: the two contrastive views' augmentation"),
      choice_field("loss.name", c.loss.name, "classification loss"),
      choice_field("loss.reweight", c.loss.reweight, "class weights: none, class-balanced always, DRW from drw_epoch"),
      scalar_field("loss.drw_epoch", "int", c.loss.drw_epoch, "first epoch (from 0) with DRW weights"),
      scalar_field("loss.cb_beta", "number", c.loss.cb_beta, "effective-number beta, in [0, 1)"),
      scalar_field("loss.ldam_max_margin", "number", c.loss.ldam_max_margin, "ldam: margin of the rarest class"),
      scalar_field("loss.ldam_scale", "number", c.loss.ldam_scale, "ldam: scale of the cosine logits"),
      scalar_field("loss.focal_gamma", "number", c.loss.focal_gamma, "focal: gamma (0: weighted sigmoid CE)"),
      scalar_field("loss.la_tau", "number", c.loss.la_tau, "logit_adjusted: tau of CE(z + tau log pi, y)"),
      scalar_field("augment.crop_padding", "int", c.augment.crop_padding, "pad-and-crop padding (0: off)"),
      scalar_field("augment.resized_crop", "bool", c.augment.resized_crop,
                   "built-in sets: RandomResizedCrop instead of pad-and-crop (file sets: always)"),
      list_field("augment.crop_scale", "list of number", c.augment.crop_scale,
                 "RandomResizedCrop area share [min, max] (SimAugment 0.2-1)"),
      list_field("augment.crop_ratio", "list of number", c.augment.crop_ratio,
                 "RandomResizedCrop aspect ratio [min, max]"),
      scalar_field("augment.test_crop", "number", c.augment.test_crop,
                   "file sets: test centre crop share of the resized shorter side"),
      scalar_field("augment.rand_augment_n", "int", c.augment.rand_augment_n,
                   "RandAugment operations per image (0: off; ImageNet-LT 2)"),
      scalar_field("augment.rand_augment_m", "number", c.augment.rand_augment_m, "RandAugment magnitude, 0 .. 10"),
      scalar_field("augment.rand_augment_mstd", "number", c.augment.rand_augment_mstd,
                   "RandAugment magnitude standard deviation"),
      list_field("augment.color_jitter", "list of number", c.augment.color_jitter,
                 "ColorJitter strengths [brightness, contrast, saturation, hue]"),
      scalar_field("augment.color_jitter_prob", "number", c.augment.color_jitter_prob,
                   "per-image probability of the colour jitter (0: off; SimAugment 0.8)"),
      scalar_field("augment.grayscale_prob", "number", c.augment.grayscale_prob,
                   "per-image probability of grayscale (0: off; SimAugment 0.2)"),
      scalar_field("augment.flip", "bool", c.augment.flip, "random horizontal flip"),
      scalar_field("augment.cutout", "int", c.augment.cutout, "Cutout hole side in pixels (0: off)"),
      choice_field("augment.auto_augment", c.augment.auto_augment,
                   "AutoAugment after the flip: none, or its CIFAR-10 policy (torchvision's)"),
      list_field("augment.mean", "list of number", c.augment.mean, "normalisation mean per channel"),
      list_field("augment.std", "list of number", c.augment.std, "normalisation std per channel"),
      scalar_field("train.epochs", "int", c.train.epochs, "number of epochs"),
      scalar_field("train.batch_size", "int", c.train.batch_size, "images per step"),
      scalar_field("train.seed", "int", c.train.seed, "seed of initialisation and every random choice"),
      scalar_field("train.threads", "int", c.train.threads, "CPU threads (0: all cores)"),
      choice_field("train.device", c.train.device, "auto: cuda when libtorch has it and a GPU is present"),
      scalar_field("train.prefetch", "bool", c.train.prefetch, "prepare batches on a background thread"),
      scalar_field("train.channels_last", "bool", c.train.channels_last, "NHWC activations and weights"),
      choice_field("train.amp", c.train.amp, "mixed precision (fp16: CUDA only)"),
      choice_field("train.fused_sgd", c.train.fused_sgd, "one SGD update over all parameters (auto: on CUDA)"),
      choice_field("train.cuda_graphs", c.train.cuda_graphs,
                   "replay each step shape's forward and backward as a CUDA graph (auto: on CUDA, one process)"),
      scalar_field("train.sync_bn", "bool", c.train.sync_bn, "several processes: batch norm over the global batch"),
      choice_field("train.distributed.backend", c.train.distributed_backend,
                   "several processes: auto is nccl on CUDA, gloo on the CPU"),
      scalar_field("train.distributed.timeout", "int", c.train.distributed_timeout,
                   "several processes: seconds to wait for the others before failing"),
      scalar_field("optim.lr", "number", c.optim.lr, "base learning rate"),
      scalar_field("optim.momentum", "number", c.optim.momentum, "SGD momentum"),
      scalar_field("optim.weight_decay", "number", c.optim.weight_decay, "coupled L2 weight decay"),
      scalar_field("optim.warmup_epochs", "int", c.optim.warmup_epochs, "linear warm-up epochs"),
      choice_field("optim.schedule", c.optim.schedule, "learning-rate schedule after the warm-up"),
      list_field("optim.milestones", "list of int", c.optim.milestones, "step schedule epochs"),
      scalar_field("optim.gamma", "number", c.optim.gamma, "step schedule factor"),
      scalar_field("eval.many_threshold", "int", c.eval.many_threshold, "many: more training images than this"),
      scalar_field("eval.few_threshold", "int", c.eval.few_threshold, "few: fewer training images than this"),
      scalar_field("eval.batch_size", "int", c.eval.batch_size, "images per evaluation step"),
      choice_field("retrain.mode", c.retrain.mode, "none: a training run; the others: `smcl retrain`'s modes"),
      scalar_field("retrain.epochs", "int", c.retrain.epochs, "crt, lws: class-balanced epochs"),
      scalar_field("retrain.lr", "number", c.retrain.lr, "crt, lws: initial lr of the cosine schedule"),
      scalar_field("retrain.tau", "number", c.retrain.tau,
                   "tau_norm: exponent tau; logit_adjust: tau of b - tau log pi"),
      choice_field("retrain.bn", c.retrain.bn,
                   "crt, lws: backbone batch norm: train (batch statistics, as Kang et al.) or frozen (eval mode)"),
  };
}

std::string node_text(const YAML::Node& node) {
  YAML::Emitter out;
  out << YAML::Flow << node;
  return out.c_str();
}

// At most this many problems are listed in one error message; the rest are only counted (so that a file of a
// million unknown keys costs no more memory than one of twenty).
constexpr size_t kMaxListedProblems = 20;

struct Problems {
  std::vector<std::string> listed;
  size_t count = 0;
  void push_back(std::string problem) {
    if (listed.size() < kMaxListedProblems) listed.push_back(std::move(problem));
    ++count;
  }
};

// Flattens nested maps into dotted keys; any non-map value is a leaf. A key that is not a plain scalar (YAML's
// complex keys) is a problem in `errors`.
void flatten(const YAML::Node& node, const std::string& prefix, std::vector<std::pair<std::string, YAML::Node>>& out,
             Problems& errors, const std::string& source) {
  if (node.IsMap()) {
    for (const auto& item : node) {
      if (!item.first.IsScalar()) {
        errors.push_back(source + ": line " + std::to_string(item.first.Mark().line + 1) + ": a key under '" +
                         (prefix.empty() ? "(top)" : prefix) + "' is not a plain name");
        continue;
      }
      std::string key = item.first.Scalar();
      flatten(item.second, prefix.empty() ? key : prefix + "." + key, out, errors, source);
    }
  } else if (!prefix.empty()) {
    out.emplace_back(prefix, node);
  }
}

}  // namespace

// YAML aliases let a few hundred bytes name billions of nodes (an "alias bomb"); a config has a few hundred.
constexpr int64_t kMaxConfigNodes = 100000;

void check_yaml_tree(const YAML::Node& root, const std::string& source) {
  std::vector<YAML::Node> pending{root};
  int64_t visited = 0;
  while (!pending.empty()) {
    YAML::Node node = pending.back();
    pending.pop_back();
    SMCL_CHECK(++visited <= kMaxConfigNodes, source << " expands to more than " << kMaxConfigNodes
                                                    << " YAML nodes (through aliases?); a config is far smaller");
    if (node.IsMap()) {
      // The parser keeps every entry of a mapping, and a look-up finds the first: a key written twice would
      // silently lose its second value.
      std::map<std::string, int> first_line;
      for (const auto& item : node) {
        if (item.first.IsScalar()) {
          const int line = item.first.Mark().line + 1;
          const auto [it, is_new] = first_line.emplace(item.first.Scalar(), line);
          SMCL_CHECK(is_new, source << ": line " << line << ": the key '" << item.first.Scalar()
                                    << "' is given twice (first at line " << it->second << ")");
        }
        pending.push_back(item.first);
        pending.push_back(item.second);
      }
    } else if (node.IsSequence()) {
      for (const auto& item : node) pending.push_back(item);
    }
  }
}

namespace {

std::string allowed_keys_hint(const std::vector<Field>& table, const std::string& key) {
  std::string section = key.substr(0, key.find('.'));
  std::ostringstream hint;
  for (const auto& field : table) {
    if (field.key.rfind(section + ".", 0) == 0) hint << (hint.tellp() > 0 ? ", " : "") << field.key;
  }
  if (hint.tellp() == 0)
    return "sections are data, model, method, mix, smcl, paco, bcl, loss, augment, train, optim, eval, retrain";
  return "keys in '" + section + "': " + hint.str();
}

template <typename T>
void check(std::vector<Problem>& problems, bool ok, const std::string& key, const T& value, const std::string& what) {
  if (ok) return;
  std::ostringstream message;
  message << value << " is not " << what;
  problems.push_back({key, message.str()});
}

}  // namespace

std::vector<Problem> validate(const Config& c) {
  std::vector<Problem> p;
  check(p, c.data.holdout_fraction > 0 && c.data.holdout_fraction < 1, "data.holdout_fraction", c.data.holdout_fraction,
        "in (0, 1)");
  check(p, c.data.num_classes >= 0 && c.data.num_classes <= 1000000, "data.num_classes", c.data.num_classes,
        "in [0, 1000000] (0: from the labels)");
  check(p, c.data.max_image_pixels >= 1, "data.max_image_pixels", c.data.max_image_pixels, ">= 1");
  check(p, c.data.channels == 1 || c.data.channels == 3, "data.channels", c.data.channels, "1 or 3");
  check(p, c.data.image_size >= 0, "data.image_size", c.data.image_size, ">= 0 (0: 224)");
  check(p, c.data.decode_threads >= 0, "data.decode_threads", c.data.decode_threads, ">= 0 (0: all cores)");
  check(p, c.data.bg_bias >= 0 && c.data.bg_bias <= 1, "data.bg_bias", c.data.bg_bias, "in [0, 1]");
  check(p, c.data.imbalance_ratio >= 1, "data.imbalance_ratio", c.data.imbalance_ratio, ">= 1");
  check(p, c.data.max_per_class >= 0, "data.max_per_class", c.data.max_per_class, ">= 0 (0: the dataset's count)");
  check(p, c.data.subset_seed >= 0 && c.data.subset_seed <= 0xffffffffLL, "data.subset_seed", c.data.subset_seed,
        "in [0, 2^32 - 1]");
  check(p, c.mix.alpha > 0, "mix.alpha", c.mix.alpha, "> 0");
  check(p, c.mix.prob >= 0 && c.mix.prob <= 1, "mix.prob", c.mix.prob, "in [0, 1]");
  check(p, c.mix.start_epoch >= 0, "mix.start_epoch", c.mix.start_epoch, ">= 0");
  check(p, c.mix.end_epoch == -1 || c.mix.end_epoch > c.mix.start_epoch, "mix.end_epoch", c.mix.end_epoch,
        "-1 or an epoch after mix.start_epoch");
  check(p, c.mix.kappa >= 1, "mix.kappa", c.mix.kappa, ">= 1");
  check(p, c.mix.tau >= 0 && c.mix.tau <= 1, "mix.tau", c.mix.tau, "in [0, 1]");
  check(p, c.mix.source_beta >= 0 && c.mix.source_beta < 1, "mix.source_beta", c.mix.source_beta, "in [0, 1)");
  check(p, std::isfinite(c.mix.source_power), "mix.source_power", c.mix.source_power, "a finite number");
  check(p, c.smcl.alpha >= 0, "smcl.alpha", c.smcl.alpha, ">= 0");
  check(p, c.smcl.beta >= 0, "smcl.beta", c.smcl.beta, ">= 0");
  check(p, c.smcl.temperature > 0, "smcl.temperature", c.smcl.temperature, "> 0");
  check(p, c.smcl.base_temperature > 0, "smcl.base_temperature", c.smcl.base_temperature, "> 0");
  check(p, c.smcl.target_beta >= 0 && c.smcl.target_beta < 1, "smcl.target_beta", c.smcl.target_beta, "in [0, 1)");
  check(p, std::isfinite(c.smcl.target_power), "smcl.target_power", c.smcl.target_power, "a finite number");
  check(p, c.smcl.box_beta > 0, "smcl.box_beta", c.smcl.box_beta, "> 0");
  check(p, c.smcl.mask_start_epoch >= 0, "smcl.mask_start_epoch", c.smcl.mask_start_epoch, ">= 0");
  check(p, c.smcl.mask_prob >= 0 && c.smcl.mask_prob <= 1, "smcl.mask_prob", c.smcl.mask_prob, "in [0, 1]");
  check(p, c.smcl.target_start_epoch >= -1 && c.smcl.target_start_epoch <= c.smcl.mask_start_epoch,
        "smcl.target_start_epoch", c.smcl.target_start_epoch,
        "-1 or an epoch in [0, smcl.mask_start_epoch] (the masked sample needs the target views)");
  check(p, c.paco.alpha >= 0, "paco.alpha", c.paco.alpha, ">= 0");
  check(p, c.paco.beta > 0, "paco.beta", c.paco.beta, "> 0 (every anchor's positives include its class centre)");
  check(p, c.paco.gamma >= 0, "paco.gamma", c.paco.gamma, ">= 0");
  check(p, c.paco.temperature > 0, "paco.temperature", c.paco.temperature, "> 0");
  check(p, c.paco.centre_temperature > 0, "paco.centre_temperature", c.paco.centre_temperature, "> 0");
  check(p, c.paco.queue_size >= 0 && c.paco.queue_size <= (1 << 20), "paco.queue_size", c.paco.queue_size,
        "in [0, 2^20]");
  check(p, c.paco.projection_dim >= 1 && c.paco.projection_dim <= 65536, "paco.projection_dim", c.paco.projection_dim,
        "in [1, 65536]");
  check(p, std::isfinite(c.bcl.cosine_scale) && c.bcl.cosine_scale >= 0, "bcl.cosine_scale", c.bcl.cosine_scale,
        ">= 0 (0: a linear classifier)");
  check(p, c.bcl.projection_dim >= 1 && c.bcl.projection_dim <= 65536, "bcl.projection_dim", c.bcl.projection_dim,
        "in [1, 65536]");
  check(p, c.loss.la_tau >= 0, "loss.la_tau", c.loss.la_tau, ">= 0");
  check(p, c.loss.ldam_max_margin > 0, "loss.ldam_max_margin", c.loss.ldam_max_margin, "> 0");
  check(p, c.loss.ldam_scale > 0, "loss.ldam_scale", c.loss.ldam_scale, "> 0");
  check(p, c.loss.focal_gamma >= 0, "loss.focal_gamma", c.loss.focal_gamma, ">= 0");
  check(p, c.loss.drw_epoch >= 0, "loss.drw_epoch", c.loss.drw_epoch, ">= 0");
  check(p, c.loss.cb_beta >= 0 && c.loss.cb_beta < 1, "loss.cb_beta", c.loss.cb_beta, "in [0, 1)");
  check(p, c.augment.crop_padding >= 0, "augment.crop_padding", c.augment.crop_padding, ">= 0");
  check(p, c.augment.cutout >= 0, "augment.cutout", c.augment.cutout, ">= 0");
  const auto& scale = c.augment.crop_scale;
  check(p, scale.size() == 2 && scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1, "augment.crop_scale",
        std::to_string(scale.size()) + " values", "[min, max] with 0 < min <= max <= 1");
  const auto& ratio = c.augment.crop_ratio;
  check(p, ratio.size() == 2 && ratio[0] > 0 && ratio[0] <= ratio[1], "augment.crop_ratio",
        std::to_string(ratio.size()) + " values", "[min, max] with 0 < min <= max");
  check(p, c.augment.test_crop > 0 && c.augment.test_crop <= 1, "augment.test_crop", c.augment.test_crop, "in (0, 1]");
  check(p, c.augment.rand_augment_n >= 0 && c.augment.rand_augment_n <= 16, "augment.rand_augment_n",
        c.augment.rand_augment_n, "in [0, 16]");
  check(p, c.augment.rand_augment_m >= 0 && c.augment.rand_augment_m <= 10, "augment.rand_augment_m",
        c.augment.rand_augment_m, "in [0, 10]");
  check(p, c.augment.rand_augment_mstd >= 0, "augment.rand_augment_mstd", c.augment.rand_augment_mstd, ">= 0");
  const auto& jitter = c.augment.color_jitter;
  check(p,
        jitter.size() == 4 && jitter[0] >= 0 && jitter[1] >= 0 && jitter[2] >= 0 && jitter[3] >= 0 && jitter[3] <= 0.5,
        "augment.color_jitter", std::to_string(jitter.size()) + " values",
        "[brightness, contrast, saturation, hue], each >= 0, hue <= 0.5");
  check(p, c.augment.color_jitter_prob >= 0 && c.augment.color_jitter_prob <= 1, "augment.color_jitter_prob",
        c.augment.color_jitter_prob, "in [0, 1]");
  check(p, c.augment.grayscale_prob >= 0 && c.augment.grayscale_prob <= 1, "augment.grayscale_prob",
        c.augment.grayscale_prob, "in [0, 1]");
  for (double s : c.augment.std) check(p, s > 0, "augment.std", s, "> 0");
  check(p, c.augment.mean.size() == c.augment.std.size(), "augment.mean",
        std::to_string(c.augment.mean.size()) + " values", "as many as augment.std has");
  check(p, c.train.epochs >= 1, "train.epochs", c.train.epochs, ">= 1");
  check(p, c.train.batch_size >= 2, "train.batch_size", c.train.batch_size, ">= 2 (batch norm needs two images)");
  check(p, c.train.seed >= 0, "train.seed", c.train.seed, ">= 0");
  check(p, c.train.threads >= 0, "train.threads", c.train.threads, ">= 0 (0: all cores)");
  check(p, c.train.distributed_timeout >= 1, "train.distributed.timeout", c.train.distributed_timeout, ">= 1");
  check(p, !(c.train.amp == Amp::kFp16 && c.train.device == DeviceName::kCpu), "train.amp", name_of(c.train.amp),
        "available with train.device cpu (fp16 autocast needs CUDA; use bf16 or none)");
  check(p, c.optim.lr > 0, "optim.lr", c.optim.lr, "> 0");
  check(p, c.optim.momentum >= 0 && c.optim.momentum < 1, "optim.momentum", c.optim.momentum, "in [0, 1)");
  check(p, c.optim.weight_decay >= 0, "optim.weight_decay", c.optim.weight_decay, ">= 0");
  check(p, c.optim.warmup_epochs >= 0, "optim.warmup_epochs", c.optim.warmup_epochs, ">= 0");
  for (size_t i = 0; i < c.optim.milestones.size(); ++i) {
    check(p, c.optim.milestones[i] >= 0 && (i == 0 || c.optim.milestones[i] > c.optim.milestones[i - 1]),
          "optim.milestones", c.optim.milestones[i], "a valid milestone (epochs >= 0, increasing)");
  }
  check(p, c.optim.gamma > 0 && c.optim.gamma <= 1, "optim.gamma", c.optim.gamma, "in (0, 1]");
  check(p, c.eval.few_threshold >= 0 && c.eval.few_threshold <= c.eval.many_threshold + 1, "eval.few_threshold",
        c.eval.few_threshold, ">= 0 and <= eval.many_threshold + 1");
  check(p, c.eval.batch_size >= 1, "eval.batch_size", c.eval.batch_size, ">= 1");
  check(p, c.retrain.epochs >= 1, "retrain.epochs", c.retrain.epochs, ">= 1");
  check(p, c.retrain.lr > 0, "retrain.lr", c.retrain.lr, "> 0");
  // tau_norm's exponent interpolates between the raw (0) and unit-norm (1) rows; logit adjustment takes any
  // tau >= 0 (Menon et al. tune it over a grid beyond 1).
  if (c.retrain.mode == RetrainMode::kLogitAdjust) {
    check(p, c.retrain.tau >= 0, "retrain.tau", c.retrain.tau, ">= 0 (logit_adjust)");
  } else {
    check(p, c.retrain.tau >= 0 && c.retrain.tau <= 1, "retrain.tau", c.retrain.tau, "in [0, 1] (tau_norm)");
  }
  return p;
}

Config parse(const std::string& text, const std::string& source, const std::vector<std::string>& overrides) {
  Config config;
  std::vector<Field> table = fields(config);
  Problems errors;
  std::map<std::string, std::string> origin;  // key -> where its value came from

  auto apply = [&](const std::string& key, const YAML::Node& value, const std::string& where) {
    for (auto& field : table) {
      if (field.key != key) continue;
      try {
        field.read(value);
        origin[key] = where;
      } catch (const YAML::Exception&) {
        origin[key] = "";  // marks the key as already reported
        errors.push_back(where + ": " + key + " = " + node_text(value) + ": expected " + field.type);
      } catch (const NotFinite&) {
        origin[key] = "";
        errors.push_back(where + ": " + key + " = " + node_text(value) + ": expected a finite number");
      } catch (const UnknownChoice& unknown) {
        origin[key] = "";
        errors.push_back(where + ": " + key + ": " + unknown.message);
      }
      return;
    }
    errors.push_back(where + ": unknown key '" + key + "' (" + allowed_keys_hint(table, key) + ")");
  };

  if (!source.empty()) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw Error(source + " is not valid YAML: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
    }
    SMCL_CHECK(root.IsMap() || root.IsNull(), source << " must be a mapping of sections");
    check_yaml_tree(root, source);
    std::vector<std::pair<std::string, YAML::Node>> leaves;
    flatten(root, "", leaves, errors, source);
    for (const auto& [key, value] : leaves) apply(key, value, source);
  }
  for (const auto& item : overrides) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      errors.push_back("--set " + item + ": expected key=value, e.g. --set optim.lr=0.05");
      continue;
    }
    std::string key = item.substr(0, eq);
    YAML::Node value;
    try {
      value = YAML::Load(item.substr(eq + 1));
      check_yaml_tree(value, "--set " + key);
    } catch (const YAML::Exception& e) {
      errors.push_back("--set " + item + ": the value is not valid YAML: " + e.msg);
      continue;
    }
    apply(key, value, "--set " + item);
  }
  // Range checks run even after type errors so that every problem is reported at once; a key whose value
  // could not be read kept its default and is not reported twice.
  for (const auto& problem : validate(config)) {
    auto it = origin.find(problem.key);
    if (it != origin.end() && it->second.empty()) continue;
    std::string where = it != origin.end() ? it->second : "default";
    errors.push_back(where + ": " + problem.key + ": " + problem.message);
  }
  if (errors.count > 0) {
    std::string message = errors.count == 1 ? "invalid configuration: "
                                            : "invalid configuration (" + std::to_string(errors.count) + " problems):";
    for (const auto& e : errors.listed) message += (errors.count == 1 ? "" : "\n  ") + e;
    if (errors.count > errors.listed.size()) {
      message += "\n  ... and " + std::to_string(errors.count - errors.listed.size()) + " more";
    }
    throw Error(message);
  }
  return config;
}

Config load(const std::string& path, const std::vector<std::string>& overrides) {
  if (path.empty()) return parse("", "", overrides);
  std::ifstream in(path, std::ios::binary);
  SMCL_CHECK(in && std::filesystem::is_regular_file(path), "cannot read config file '" << path << "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), "config file '" + path + "'", overrides);
}

std::vector<std::string> differing_keys(const Config& a_const, const Config& b_const) {
  Config a = a_const, b = b_const;  // the field tables bind mutable references
  auto fa = fields(a), fb = fields(b);
  std::vector<std::string> keys;
  for (size_t i = 0; i < fa.size(); ++i) {
    YAML::Emitter ea, eb;
    fa[i].write(ea);
    fb[i].write(eb);
    if (std::string(ea.c_str()) != eb.c_str()) {
      keys.push_back(fa[i].key + " (" + ea.c_str() + " -> " + eb.c_str() + ")");
    }
  }
  return keys;
}

std::string to_yaml(const Config& const_config) {
  Config config = const_config;  // the field table binds mutable references
  YAML::Emitter out;
  out << YAML::BeginMap;
  std::string section;
  for (auto& field : fields(config)) {
    std::string head = field.key.substr(0, field.key.find('.'));
    if (head != section) {
      if (!section.empty()) out << YAML::EndMap;
      out << YAML::Key << head << YAML::Value << YAML::BeginMap;
      section = head;
    }
    out << YAML::Key << field.key.substr(head.size() + 1) << YAML::Value;
    field.write(out);
  }
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string describe_keys() {
  Config config;
  std::ostringstream text;
  for (auto& field : fields(config)) {
    YAML::Emitter value;
    field.write(value);
    text << "  " << field.key << " (" << field.type << ", default " << value.c_str() << "): " << field.doc << "\n";
  }
  return text.str();
}

}  // namespace smcl::config
