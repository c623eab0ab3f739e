// The run configuration: plain structs with documented defaults, loaded from YAML, overridden by
// `--set key=value`, validated as a whole. Keys are dotted paths (`optim.lr`); every key is listed in
// config.cpp's field table, which is the single place that knows keys, types and documentation. A key with a
// closed set of values holds an enum of choices.h, whose table is the one list of its names.
// Not here: dataset-specific defaults (data/datasets.h resolves them) and any training logic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "smcl/config/choices.h"

namespace YAML {
class Node;
}

namespace smcl::config {

struct DataConfig {
  DatasetName name =
      DatasetName::kFashionMnist;       // fashion_mnist | mnist | cifar10 | cifar100 (in memory);
                                        // fashion_mnist_bg | mnist_bg (on biased backgrounds, data/background.h);
                                        // image_list | imagenet_lt | image_folder (files, decoded per batch)
  std::string root;                     // folder holding the dataset files; empty: the dataset's default
  Subset subset = Subset::kAuto;        // auto (long_tail for in-memory sets, none for file sets) | long_tail | none
  Profile profile = Profile::kExp;      // long-tail profile: exp | step
  double imbalance_ratio = 100;         // rho = n_max / n_min, >= 1 (1: balanced)
  int64_t max_per_class = 0;            // n_max; 0: the dataset's own per-class count (file sets: the largest class)
  int64_t subset_seed = 0;              // numpy legacy seed that selects the kept images, 0 .. 2^32-1
  std::string train_list;               // image_list: training list file, absolute or relative to root
  std::string test_list;                // image_list: test list file, absolute or relative to root
  std::string val_list;                 // image_list: validation list; when set, the best epoch is chosen on it
  std::string test_root;                // image_folder: a folder of the same classes to test on; empty: hold out
  double holdout_fraction = 0.2;        // image_folder without test_root: share of each class held out, in (0, 1)
  int64_t num_classes = 0;              // image_list: number of classes; 0: 1 + the largest training label
  int64_t channels = 3;                 // file sets: 3 (RGB; grayscale replicated) | 1 (grayscale)
  int64_t image_size = 0;               // file sets: side of the square training crop; 0: 224
  bool skip_bad_images = false;         // file sets: leave out missing/unreadable/truncated images (counted)
  int64_t max_image_pixels = 89478485;  // file sets: an image declaring more pixels is refused before decoding
  int64_t decode_threads = 0;           // file sets: threads decoding and resizing images; 0: all cores
  double bg_bias = 0.9;                 // *_bg sets: probability that a major class's training image gets its
                                        // class's own background kind, in [0, 1]
};

struct ModelConfig {
  ModelName name = ModelName::kResNet32;  // resnet8 | resnet14 | resnet20 | resnet32 | resnet44 | resnet56 | resnet110
                                          // (ResNet-CIFAR) | resnet50 | resnet101 | resnet152 (torchvision)
  std::string init_from;  // a PyTorch state dict (torch.save(model.state_dict(), FILE)) a new run starts
                          // from; empty: random initialisation
};

struct MethodConfig {
  MethodName name = MethodName::kErm;  // the training method (methods/method.h)
};

// The mixing methods of SPEC section 5 (method.name mixup | cutmix | remix | cmo): with probability prob per
// batch, in epochs [start_epoch, end_epoch), each image is mixed with a partner (another image of the batch;
// for cmo a minor-weighted image of the training set) and the loss mixes the two labels.
struct MixConfig {
  double alpha = 1.0;       // lambda ~ Beta(alpha, alpha), > 0
  double prob = 0.5;        // probability per batch of mixing, in [0, 1]
  int64_t start_epoch = 0;  // first epoch (from 0) that may mix
  int64_t end_epoch = -1;   // first epoch that no longer mixes; -1: mixing never stops
  double kappa = 3.0;       // remix: count ratio from which the label goes to the minor class, >= 1
  double tau = 0.5;         // remix: ... when the major image's share lambda is below tau, in [0, 1]
  SamplerName source_sampler = SamplerName::kInversePower;  // cmo's patch source: effective_number | class_balanced |
                                                            // inverse_power (power 1: CMO's 1 / n_k image weights)
  double source_beta = 0.9999;                              // effective_number: beta, in [0, 1)
  double source_power = 1.0;                                // inverse_power: p_k proportional to n_k^(1 - power)
};

// The contrastive methods (SPEC sections 2-4; docs/methods.md for bcl): L = alpha * CE + beta * L_contrastive for
// scl, smcl and bcl (temperature: theirs; base_temperature: SupCon's only), and SMCL's targets, saliency mask and
// schedule.
struct SmclConfig {
  double alpha = 1.0;              // weight of the cross-entropy term, >= 0
  double beta = 1.0;               // weight of the supervised contrastive term, >= 0 (0: contrastive term off)
  double temperature = 0.07;       // SupCon temperature tau, > 0
  double base_temperature = 0.07;  // SupCon base temperature tau_base, > 0
  SamplerName target_sampler = SamplerName::kEffectiveNumber;  // effective_number | class_balanced | inverse_power
  double target_beta = 0.9999;                                 // effective_number: beta, in [0, 1)
  double target_power = 1.0;                                   // inverse_power: p_k proportional to n_k^(1 - power)
  Saliency saliency = Saliency::kFineGrained;                  // where the box is centred (choices.h)
  SaliencyOf saliency_of = SaliencyOf::kSource;  // the image whose saliency peak places the box: source | target
  BoxMode box = BoxMode::kPerSample;             // per_sample (each its own peak) | per_batch (sample 0's box for all)
  double box_beta = 1.0;                         // a of u ~ Beta(a, a), the box's area share; 1: uniform
  MaskFill mask_fill = MaskFill::kTarget;        // inside the box: target (paste its pixels) | zero
  int64_t mask_start_epoch = 160;                // first epoch (from 0) that may add the masked sample
  double mask_prob = 0.2;                        // probability per batch of adding the masked sample, in [0, 1]
  int64_t target_start_epoch = -1;               // first epoch carrying the target views; -1: mask_start_epoch
  bool target_ce = false;                        // the target views join the source views' weighted cross-entropy mean
};

// GPaCo's parametric contrastive loss (method.name gpaco; docs/methods.md). Its recipe for CIFAR-100-LT:
// configs/cifar100_lt_gpaco.yaml.
struct PacoConfig {
  double alpha = 0.01;              // weight of each same-class sample as a positive, >= 0
  double beta = 1.0;                // weight of the own class centre as a positive, > 0
  double gamma = 1.0;               // weight of the samples in the denominator (the centres': 1), >= 0
  double temperature = 0.05;        // tau of the projections' similarities, > 0
  double centre_temperature = 1.0;  // the centre logits (classifier logits + log prior) are divided by it, > 0
  int64_t queue_size = 1024;        // the last keys (second views' projections) and their labels, kept as extra
                                    // contrast samples (GPaCo's code: 1024), >= 0; 0: the batch alone
  int64_t projection_dim = 32;      // output of GPaCo's three-layer projection head (its CIFAR code: 32), >= 1
  ViewAugment query_view = ViewAugment::kAutoAugment;  // the first view's augmentation (GPaCo's CIFAR code)
  ViewAugment key_view = ViewAugment::kSimAugment;     // the second view's
};

// BCL's network as its code builds it (method.name bcl; docs/methods.md).
struct BclConfig {
  double cosine_scale = 30;       // the cosine classifier's logits s cos(h, W_k) (BCL's NormedLinear: s 30), > 0;
                                  // 0: a linear classifier
  int64_t projection_dim = 1024;  // output of the projection and prototype heads (Linear, BN, ReLU, Linear), >= 1
  ViewAugment classifier_view = ViewAugment::kRandAugment;  // the classification view's augmentation (BCL's code)
  ViewAugment contrast_views = ViewAugment::kSimAugment;    // the two contrastive views'
};

struct LossConfig {
  LossName name = LossName::kCe;        // the classification loss (losses/classification.h)
  Reweight reweight = Reweight::kNone;  // none | cb (class-balanced weights always) | drw (from drw_epoch on)
  int64_t drw_epoch = 160;              // first epoch (counted from 0) with DRW weights
  double cb_beta = 0.9999;              // beta of the effective number, in [0, 1)
  double ldam_max_margin = 0.5;         // ldam: the largest margin (of the rarest class), > 0
  double ldam_scale = 30;               // ldam: scale s of the cosine logits, > 0
  double focal_gamma = 1.0;             // focal: gamma, >= 0 (0: class-weighted sigmoid cross-entropy)
  double la_tau = 1.0;                  // logit_adjusted: tau of CE(z + tau log pi, y), >= 0 (1: balanced_softmax)
};

// Decoupled classifier re-training of a finished run (`smcl retrain`, SPEC section 5): the features are frozen
// and the classifier is re-trained (crt), rescaled per class by learned factors (lws), normalised (tau_norm), or
// its bias lowered by tau log pi_k (logit_adjust: Menon et al.'s post-hoc logit adjustment).
struct RetrainConfig {
  RetrainMode mode = RetrainMode::kNone;  // none (a training run) | crt | lws | tau_norm | logit_adjust
  int64_t epochs = 10;                    // crt, lws: epochs of class-balanced sampling, >= 1
  double lr = 0.1;                        // crt, lws: initial learning rate of the cosine schedule down to 0, > 0
  double tau = 1.0;                       // tau_norm: W_k / ||W_k||^tau; logit_adjust: b_k - tau log pi_k; in [0, 1]
  RetrainBn bn =
      RetrainBn::kTrain;  // crt, lws: the frozen backbone's batch norm: train (the class-balanced batches'
                          // statistics, running statistics updated, as Kang et al.'s code) | frozen (eval mode)
};

struct AugmentConfig {
  int64_t crop_padding = 4;   // in-memory sets: zero padding before the random crop back to the input size;
                              // 0: no crop
  bool resized_crop = false;  // in-memory sets: RandomResizedCrop (crop_scale, crop_ratio) back to the input size
                              // instead of pad-and-crop (SimAugment's crop); file sets always take it
  std::vector<double> crop_scale{0.08, 1.0};        // RandomResizedCrop area share range, in (0, 1]
  std::vector<double> crop_ratio{0.75, 4.0 / 3.0};  // RandomResizedCrop aspect ratio range, > 0
  double test_crop = 0.875;        // file sets: test images are resized to image_size / test_crop (shorter side),
                                   // then centre-cropped to image_size; in (0, 1]
  bool flip = true;                // random horizontal flip with probability 1/2
  int64_t rand_augment_n = 0;      // RandAugment operations per image (timm's rand-n); 0: off (ImageNet-LT: 2)
  double rand_augment_m = 10;      // RandAugment magnitude, in [0, 10]
  double rand_augment_mstd = 0.5;  // standard deviation of the magnitude drawn per operation, >= 0
  std::vector<double> color_jitter{0.4, 0.4, 0.4, 0.1};  // ColorJitter brightness, contrast, saturation (>= 0),
                                                         // hue (in [0, 0.5]) strengths
  double color_jitter_prob = 0;  // probability per image of the colour jitter; 0: off (SimAugment: 0.8)
  double grayscale_prob = 0;     // probability per image of grayscale; 0: off (SimAugment: 0.2)
  int64_t cutout = 0;            // side of the square Cutout hole in pixels; 0: off
  AutoAugmentPolicy auto_augment = AutoAugmentPolicy::kNone;  // AutoAugment after the flip: none | cifar10
  std::vector<double> mean;                                   // per-channel normalisation mean; empty: the dataset's
  std::vector<double> std;                                    // per-channel normalisation std; empty: the dataset's
};

struct TrainConfig {
  int64_t epochs = 200;                   // number of epochs, >= 1
  int64_t batch_size = 128;               // images per step, >= 2 (batch norm needs two)
  int64_t seed = 0;                       // seeds model initialisation and every random choice of training
  int64_t threads = 0;                    // CPU threads for libtorch; 0: all cores
  DeviceName device = DeviceName::kAuto;  // auto (cuda when libtorch has it and a GPU is present) | cpu | cuda
  bool prefetch = true;        // prepare the next batches (sampling, augmentation, saliency) on a background thread
  bool channels_last = false;  // NHWC memory format for the model's activations and convolution weights
  Amp amp = Amp::kNone;        // mixed precision: none | bf16 | fp16 (fp16: CUDA only, with dynamic loss scaling)
  // SGD's update once over all parameters instead of once per parameter (train/fused_sgd.h; equal to the last
  // bit but rarely): auto (on CUDA, where a step is launch-bound) | on | off
  Switch fused_sgd = Switch::kAuto;
  // Each step's forward, loss and backward from fixed input buffers, captured once per batch shape as a CUDA graph
  // and replayed (train/static_step.h): auto (on CUDA in one process) | on (on the CPU: the same static-shape
  // steps, run eagerly) | off
  Switch cuda_graphs = Switch::kAuto;
  // Data-parallel runs (launched with several processes, see README): batch_size stays the global batch.
  bool sync_bn = false;                          // batch-norm statistics over every process's shard of the batch
  Backend distributed_backend = Backend::kAuto;  // auto (nccl on CUDA, gloo on the CPU) | gloo | nccl
  int64_t distributed_timeout = 300;             // seconds a process waits for the others before failing, >= 1
};

struct OptimConfig {
  double lr = 0.1;                            // base learning rate, > 0
  double momentum = 0.9;                      // SGD momentum, in [0, 1)
  double weight_decay = 2e-4;                 // coupled L2 weight decay, >= 0
  int64_t warmup_epochs = 5;                  // linear warm-up: epoch e < warmup gets lr * (e + 1) / warmup
  Schedule schedule = Schedule::kStep;        // step | cosine
  std::vector<int64_t> milestones{160, 180};  // step schedule: lr *= gamma at each of these epochs
  double gamma = 0.1;                         // step schedule factor, in (0, 1]
};

struct EvalConfig {
  int64_t many_threshold = 100;  // "many" classes have more than this many training images
  int64_t few_threshold = 20;    // "few" classes have fewer than this many; the rest are "medium"
  int64_t batch_size = 512;      // images per evaluation step
};

struct Config {
  DataConfig data;
  ModelConfig model;
  MethodConfig method;
  MixConfig mix;
  SmclConfig smcl;
  PacoConfig paco;
  BclConfig bcl;
  LossConfig loss;
  AugmentConfig augment;
  TrainConfig train;
  OptimConfig optim;
  EvalConfig eval;
  RetrainConfig retrain;
};

// Loads `path` (empty: defaults only), applies each "key=value" override in order (the value is read as
// YAML), then validates. Throws smcl::Error listing every problem, each naming the key, where its value came
// from (file or --set), the value and what is allowed.
Config load(const std::string& path, const std::vector<std::string>& overrides = {});

// As load, from YAML text; `source` names it in messages ("config file 'x.yaml'"); empty text and source:
// defaults only. At most 20 problems are listed, then their count; a text whose aliases expand to more than
// 100,000 nodes is refused.
Config parse(const std::string& text, const std::string& source, const std::vector<std::string>& overrides = {});

// The keys whose values differ between two configs, each as "key (value in a -> value in b)".
std::vector<std::string> differing_keys(const Config& a, const Config& b);

struct Problem {
  std::string key;      // dotted key, e.g. "optim.lr"
  std::string message;  // the bad value and what is allowed, e.g. "-1 is not > 0"
};

// Every problem of the config at once; empty when it is valid.
std::vector<Problem> validate(const Config& config);

// Throws smcl::Error naming `source` when a YAML tree is no config-sized document: a mapping that gives a key twice
// (named with its two lines: YAML readers would keep the first value silently), or more nodes than a config has
// when its aliases are followed.
void check_yaml_tree(const YAML::Node& root, const std::string& source);

// The whole config as YAML, every key present; load() of this text gives the same config.
std::string to_yaml(const Config& config);

// Every key with its type and its one-line documentation, for --help.
std::string describe_keys();

}  // namespace smcl::config
