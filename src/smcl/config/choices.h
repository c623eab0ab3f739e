// Every closed set of configuration values (dataset, model, method, loss, sampler, ...) as an enum class with one
// name table. Parsing, validation, `--help`, to_yaml and the factories all go through these tables, so a new value
// is one enumerator plus one table line; the factories switch over the enum without a default, so the compiler
// names any value that lacks one.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smcl::config {

template <typename E>
struct ChoiceName {
  E value;
  const char* name;
};

// Specialised once per enum below: `table` lists every value with its name, in the order --help shows them.
template <typename E>
struct Choices;

enum class DatasetName {
  kFashionMnist,
  kMnist,
  kCifar10,
  kCifar100,
  kFashionMnistBg,
  kMnistBg,
  kImageList,
  kImagenetLt,
  kImageFolder
};
template <>
struct Choices<DatasetName> {
  static constexpr std::array<ChoiceName<DatasetName>, 9> table{{{DatasetName::kFashionMnist, "fashion_mnist"},
                                                                 {DatasetName::kMnist, "mnist"},
                                                                 {DatasetName::kCifar10, "cifar10"},
                                                                 {DatasetName::kCifar100, "cifar100"},
                                                                 {DatasetName::kFashionMnistBg, "fashion_mnist_bg"},
                                                                 {DatasetName::kMnistBg, "mnist_bg"},
                                                                 {DatasetName::kImageList, "image_list"},
                                                                 {DatasetName::kImagenetLt, "imagenet_lt"},
                                                                 {DatasetName::kImageFolder, "image_folder"}}};
};

// data.subset: auto resolves to long_tail (in-memory sets) or none (file sets) in data::resolve_defaults.
enum class Subset { kAuto, kLongTail, kNone };
template <>
struct Choices<Subset> {
  static constexpr std::array<ChoiceName<Subset>, 3> table{
      {{Subset::kAuto, "auto"}, {Subset::kLongTail, "long_tail"}, {Subset::kNone, "none"}}};
};

enum class Profile { kExp, kStep };
template <>
struct Choices<Profile> {
  static constexpr std::array<ChoiceName<Profile>, 2> table{{{Profile::kExp, "exp"}, {Profile::kStep, "step"}}};
};

// ResNet-CIFAR of depth 6n+2 (models/resnet_cifar.h) and torchvision's ResNets (models/resnet.h).
enum class ModelName {
  kResNet8,
  kResNet14,
  kResNet20,
  kResNet32,
  kResNet44,
  kResNet56,
  kResNet110,
  kResNet50,
  kResNet101,
  kResNet152
};
template <>
struct Choices<ModelName> {
  static constexpr std::array<ChoiceName<ModelName>, 10> table{{{ModelName::kResNet8, "resnet8"},
                                                                {ModelName::kResNet14, "resnet14"},
                                                                {ModelName::kResNet20, "resnet20"},
                                                                {ModelName::kResNet32, "resnet32"},
                                                                {ModelName::kResNet44, "resnet44"},
                                                                {ModelName::kResNet56, "resnet56"},
                                                                {ModelName::kResNet110, "resnet110"},
                                                                {ModelName::kResNet50, "resnet50"},
                                                                {ModelName::kResNet101, "resnet101"},
                                                                {ModelName::kResNet152, "resnet152"}}};
};

enum class MethodName { kErm, kScl, kSmcl, kBcl, kGpaco, kMixup, kCutMix, kRemix, kCmo };
template <>
struct Choices<MethodName> {
  static constexpr std::array<ChoiceName<MethodName>, 9> table{{{MethodName::kErm, "erm"},
                                                                {MethodName::kScl, "scl"},
                                                                {MethodName::kSmcl, "smcl"},
                                                                {MethodName::kBcl, "bcl"},
                                                                {MethodName::kGpaco, "gpaco"},
                                                                {MethodName::kMixup, "mixup"},
                                                                {MethodName::kCutMix, "cutmix"},
                                                                {MethodName::kRemix, "remix"},
                                                                {MethodName::kCmo, "cmo"}}};
};

// Class probabilities from the training counts (data/class_sampler.h): SMCL's target classes, CMO's patch source.
enum class SamplerName { kEffectiveNumber, kClassBalanced, kInversePower };
template <>
struct Choices<SamplerName> {
  static constexpr std::array<ChoiceName<SamplerName>, 3> table{{{SamplerName::kEffectiveNumber, "effective_number"},
                                                                 {SamplerName::kClassBalanced, "class_balanced"},
                                                                 {SamplerName::kInversePower, "inverse_power"}}};
};

// Where SMCL's box is centred: a saliency map's peak (fine_grained, its OpenCV twin, the model's CAM), the image
// centre or a uniform random point.
enum class Saliency { kFineGrained, kFineGrainedOpenCv, kCam, kCenter, kRandom };
template <>
struct Choices<Saliency> {
  static constexpr std::array<ChoiceName<Saliency>, 5> table{{{Saliency::kFineGrained, "fine_grained"},
                                                              {Saliency::kFineGrainedOpenCv, "fine_grained_opencv"},
                                                              {Saliency::kCam, "cam"},
                                                              {Saliency::kCenter, "center"},
                                                              {Saliency::kRandom, "random"}}};
};

enum class SaliencyOf { kSource, kTarget };
template <>
struct Choices<SaliencyOf> {
  static constexpr std::array<ChoiceName<SaliencyOf>, 2> table{
      {{SaliencyOf::kSource, "source"}, {SaliencyOf::kTarget, "target"}}};
};

enum class BoxMode { kPerSample, kPerBatch };
template <>
struct Choices<BoxMode> {
  static constexpr std::array<ChoiceName<BoxMode>, 2> table{
      {{BoxMode::kPerSample, "per_sample"}, {BoxMode::kPerBatch, "per_batch"}}};
};

// augment.auto_augment: none, or AutoAugment's CIFAR-10 policy (augment/rand_augment.h).
enum class AutoAugmentPolicy { kNone, kCifar10 };
template <>
struct Choices<AutoAugmentPolicy> {
  static constexpr std::array<ChoiceName<AutoAugmentPolicy>, 2> table{
      {{AutoAugmentPolicy::kNone, "none"}, {AutoAugmentPolicy::kCifar10, "cifar10"}}};
};

// The augmentation of one of a method's views (augment/batch_transforms.h, view_augment): the run's augment
// section, or one of the recipes the methods' codebases give their views.
enum class ViewAugment { kAugment, kSimAugment, kAutoAugment, kRandAugment };
template <>
struct Choices<ViewAugment> {
  static constexpr std::array<ChoiceName<ViewAugment>, 4> table{{{ViewAugment::kAugment, "augment"},
                                                                 {ViewAugment::kSimAugment, "simaugment"},
                                                                 {ViewAugment::kAutoAugment, "autoaugment"},
                                                                 {ViewAugment::kRandAugment, "randaugment"}}};
};

enum class MaskFill { kTarget, kZero };
template <>
struct Choices<MaskFill> {
  static constexpr std::array<ChoiceName<MaskFill>, 2> table{
      {{MaskFill::kTarget, "target"}, {MaskFill::kZero, "zero"}}};
};

enum class LossName { kCe, kLdam, kFocal, kBalancedSoftmax, kLogitAdjusted };
template <>
struct Choices<LossName> {
  static constexpr std::array<ChoiceName<LossName>, 5> table{{{LossName::kCe, "ce"},
                                                              {LossName::kLdam, "ldam"},
                                                              {LossName::kFocal, "focal"},
                                                              {LossName::kBalancedSoftmax, "balanced_softmax"},
                                                              {LossName::kLogitAdjusted, "logit_adjusted"}}};
};

enum class Reweight { kNone, kCb, kDrw };
template <>
struct Choices<Reweight> {
  static constexpr std::array<ChoiceName<Reweight>, 3> table{
      {{Reweight::kNone, "none"}, {Reweight::kCb, "cb"}, {Reweight::kDrw, "drw"}}};
};

// retrain.mode: none is a training run; the others are `smcl retrain`'s modes.
enum class RetrainMode { kNone, kCrt, kLws, kTauNorm, kLogitAdjust };
template <>
struct Choices<RetrainMode> {
  static constexpr std::array<ChoiceName<RetrainMode>, 5> table{{{RetrainMode::kNone, "none"},
                                                                 {RetrainMode::kCrt, "crt"},
                                                                 {RetrainMode::kLws, "lws"},
                                                                 {RetrainMode::kTauNorm, "tau_norm"},
                                                                 {RetrainMode::kLogitAdjust, "logit_adjust"}}};
};

enum class RetrainBn { kTrain, kFrozen };
template <>
struct Choices<RetrainBn> {
  static constexpr std::array<ChoiceName<RetrainBn>, 2> table{
      {{RetrainBn::kTrain, "train"}, {RetrainBn::kFrozen, "frozen"}}};
};

enum class DeviceName { kAuto, kCpu, kCuda };
template <>
struct Choices<DeviceName> {
  static constexpr std::array<ChoiceName<DeviceName>, 3> table{
      {{DeviceName::kAuto, "auto"}, {DeviceName::kCpu, "cpu"}, {DeviceName::kCuda, "cuda"}}};
};

enum class Amp { kNone, kBf16, kFp16 };
template <>
struct Choices<Amp> {
  static constexpr std::array<ChoiceName<Amp>, 3> table{
      {{Amp::kNone, "none"}, {Amp::kBf16, "bf16"}, {Amp::kFp16, "fp16"}}};
};

enum class Backend { kAuto, kGloo, kNccl };
template <>
struct Choices<Backend> {
  static constexpr std::array<ChoiceName<Backend>, 3> table{
      {{Backend::kAuto, "auto"}, {Backend::kGloo, "gloo"}, {Backend::kNccl, "nccl"}}};
};

enum class Schedule { kStep, kCosine };
template <>
struct Choices<Schedule> {
  static constexpr std::array<ChoiceName<Schedule>, 2> table{
      {{Schedule::kStep, "step"}, {Schedule::kCosine, "cosine"}}};
};

// A feature switched on, off, or by the device the run trains on (auto).
enum class Switch { kAuto, kOn, kOff };
template <>
struct Choices<Switch> {
  static constexpr std::array<ChoiceName<Switch>, 3> table{
      {{Switch::kAuto, "auto"}, {Switch::kOn, "on"}, {Switch::kOff, "off"}}};
};

// The name of a value; every value of E is in its table (tests/config/choices_test.cpp checks).
template <typename E>
std::string name_of(E value) {
  for (const auto& entry : Choices<E>::table) {
    if (entry.value == value) return entry.name;
  }
  return "(value " + std::to_string(static_cast<int>(value)) + " missing from its name table)";
}

// The value named `name`, or nullopt when no value has that name.
template <typename E>
std::optional<E> parse_choice(std::string_view name) {
  for (const auto& entry : Choices<E>::table) {
    if (name == entry.name) return entry.value;
  }
  return std::nullopt;
}

template <typename E>
std::vector<std::string> choice_names() {
  std::vector<std::string> names;
  for (const auto& entry : Choices<E>::table) names.emplace_back(entry.name);
  return names;
}

// "a, b, c" (separator ", ") or "a | b | c".
template <typename E>
std::string choice_list(const std::string& separator = ", ") {
  std::string list;
  for (const auto& entry : Choices<E>::table) list += (list.empty() ? "" : separator) + entry.name;
  return list;
}

}  // namespace smcl::config
