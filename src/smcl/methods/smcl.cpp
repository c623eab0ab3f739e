#include "smcl/methods/smcl.h"

#include <torch/torch.h>

#include "smcl/augment/batch_transforms.h"
#include "smcl/augment/masking.h"
#include "smcl/core/error.h"
#include "smcl/losses/supcon.h"
#include "smcl/saliency/saliency.h"

namespace smcl::methods {
namespace {

std::vector<double> target_probabilities(const config::SmclConfig& smcl, const data::Dataset& train) {
  return data::class_probabilities(smcl.target_sampler, data::class_counts(train), smcl.target_beta, smcl.target_power);
}

// The peak finder of a smcl.saliency that needs no model: uint8 views [B, C, H, W] -> [B, 2] peaks on their
// device; empty for cam.
std::function<torch::Tensor(const torch::Tensor&, Rng&)> peak_finder(config::Saliency mode) {
  switch (mode) {
    case config::Saliency::kCenter:
      return [](const torch::Tensor& images, Rng&) {
        return saliency::center_peaks(images.size(0), images.size(2), images.size(3)).to(images.device());
      };
    case config::Saliency::kRandom:
      return [](const torch::Tensor& images, Rng& rng) {
        return saliency::random_peaks(images.size(0), images.size(2), images.size(3), rng).to(images.device());
      };
    case config::Saliency::kFineGrained:
      return [](const torch::Tensor& images, Rng&) { return saliency::peaks(saliency::fine_grained(images)); };
    case config::Saliency::kFineGrainedOpenCv:
      return [](const torch::Tensor& images, Rng&) { return saliency::peaks(saliency::fine_grained_opencv(images)); };
    case config::Saliency::kCam: return {};
  }
  throw Error("smcl.saliency value " + config::name_of(mode) + " has no peak finder");
}

// A step's inputs: the views, the source labels, the class weights, then the target labels and the masked shares
// when the groups have them; groups_of makes the groups of such inputs again.
PreparedStep::Inputs step_inputs(const SmclGroups& groups, const torch::Tensor& class_weights) {
  PreparedStep::Inputs in{groups.views, groups.source_labels, class_weights};
  if (groups.target_labels.defined()) in.push_back(groups.target_labels);
  if (groups.lambda.defined()) in.push_back(groups.lambda);
  return in;
}

SmclGroups groups_of(const PreparedStep::Inputs& in) {
  return {in[0], in[1], in.size() > 3 ? in[3] : torch::Tensor(), in.size() > 4 ? in[4] : torch::Tensor()};
}

}  // namespace

StepOutput smcl_loss(StepModel& model, const SmclGroups& groups, const torch::Tensor& class_weights,
                     const config::SmclConfig& smcl, const losses::ClassificationLoss& loss) {
  const int64_t b = groups.source_labels.size(0);
  const bool with_targets = groups.target_labels.defined();
  const bool with_masked = groups.lambda.defined();
  SMCL_ASSERT(!with_masked || with_targets, "smcl_loss: a masked group needs the target labels");
  const int64_t g = 2 + (with_targets ? 2 : 0) + (with_masked ? 1 : 0);
  SMCL_ASSERT(groups.views.size(0) == g * b,
              "smcl_loss: " << groups.views.size(0) << " views for " << g << " groups of " << b);
  auto out = model.forward(groups.views);
  auto group = [b](const torch::Tensor& t, int64_t first, int64_t count) { return t.narrow(0, first * b, count * b); };
  const auto& ys = groups.source_labels;
  const auto& yt = groups.target_labels;
  // Labels of the views in forward order: s1, s2 and, with targets, t1, t2.
  auto view_labels = with_targets ? torch::cat({ys, ys, yt, yt}) : torch::cat({ys, ys});

  // L_MCE: the views' weighted mean (the source views; with target_ce the target views join the same mean),
  // plus the lambda-mixed masked image.
  const int64_t ce_views = with_targets && smcl.target_ce ? 4 : 2;
  auto mce = loss(group(out.logits, 0, ce_views), view_labels.narrow(0, 0, ce_views * b), class_weights);
  if (with_masked) mce = mce + loss.mixed(group(out.logits, 4, 1), yt, ys, groups.lambda, class_weights);

  // L_MSC over every view; the masked image is the target class with weight mean(lambda).
  torch::Tensor msc;
  if (smcl.beta != 0) {
    auto supcon = [&](const torch::Tensor& labels) {
      return losses::supcon(out.projection, labels, smcl.temperature, smcl.base_temperature);
    };
    if (with_masked) {
      auto lambda_bar = groups.lambda.mean();
      msc =
          lambda_bar * supcon(torch::cat({view_labels, yt})) + (1 - lambda_bar) * supcon(torch::cat({view_labels, ys}));
    } else {
      msc = supcon(view_labels);
    }
  }
  auto total = smcl.alpha * mce;
  if (msc.defined()) total = total + smcl.beta * msc;
  return {total, group(out.logits, 0, 1).detach(), groups.views.size(0)};
}

Smcl::Smcl(const config::Config& config, const data::Dataset& train)
    : augment_(config.augment),
      find_peaks_(peak_finder(config.smcl.saliency)),
      smcl_(config.smcl),
      loss_(config.loss, data::class_counts(train), train.labels.device()),
      train_(train),
      train_labels_(train.labels),
      targets_(train.labels, target_probabilities(config.smcl, train)) {
  if (smcl_.saliency == config::Saliency::kFineGrainedOpenCv) {
    SMCL_CHECK(saliency::opencv_available(),
               "smcl.saliency: fine_grained_opencv needs a build with OpenCV's "
               "saliency module (libopencv-contrib-dev); fine_grained is the same map");
  }
}

int64_t Smcl::target_start_epoch() const {
  return smcl_.target_start_epoch >= 0 ? smcl_.target_start_epoch : smcl_.mask_start_epoch;
}

torch::Tensor Smcl::cam_peaks(models::Network& model, const torch::Tensor& images, const torch::Tensor& labels) const {
  // The current model's view without touching its batch-norm statistics or the autograd graph.
  torch::NoGradGuard no_grad;
  model->eval();
  auto out = model->forward(augment::normalize(images, augment_.mean, augment_.std));
  model->train();
  return saliency::peaks(saliency::class_activation_map(out.feature_map, model->classifier()->weight, labels,
                                                        images.size(2), images.size(3)));
}

PreparedStep Smcl::prepare(const StepInput& input, Rng& rng) const {
  const int64_t b = input.labels.size(0);
  const bool with_targets = input.epoch >= target_start_epoch();
  SmclGroups groups;
  groups.source_labels = input.labels;
  auto s1 = augment::random_view(input.images, augment_, rng);
  auto s2 = augment::random_view(input.images, augment_, rng);
  std::vector<torch::Tensor> views{s1, s2};
  torch::Tensor t1;
  if (with_targets) {
    auto index = torch::tensor(targets_.sample(b, rng), torch::kInt64).to(train_labels_.device());
    auto target_images = data::gather(train_, index);
    groups.target_labels = train_labels_.index_select(0, index);
    t1 = augment::random_view(target_images, augment_, rng);
    views.push_back(t1);
    views.push_back(augment::random_view(target_images, augment_, rng));
  }
  groups.views = augment::normalize(torch::cat(views), augment_.mean, augment_.std);
  auto run = [this](StepModel& model, const PreparedStep::Inputs& in) {
    return smcl_loss(model, groups_of(in), in[2], smcl_, loss_);
  };
  if (input.epoch < smcl_.mask_start_epoch || !rng.bernoulli(smcl_.mask_prob)) {
    return {step_inputs(groups, input.class_weights), run, "smcl"};
  }
  // The masked sample: a box of area share u at the saliency peak of s1 (or t1), filled from t1 (or zeros).
  const bool of_source = smcl_.saliency_of == config::SaliencyOf::kSource;
  const auto& saliency_images = of_source ? s1 : t1;
  const auto& saliency_labels = of_source ? input.labels : groups.target_labels;
  torch::Tensor peaks = find_peaks_ ? find_peaks_(saliency_images, rng) : torch::Tensor();
  const double u = rng.beta(smcl_.box_beta, smcl_.box_beta);
  auto add_masked = [this, b, u](SmclGroups g, const torch::Tensor& at) {
    auto boxes = augment::boxes_at(at, u, g.views.size(2), g.views.size(3), smcl_.box == config::BoxMode::kPerBatch);
    auto fill = smcl_.mask_fill == config::MaskFill::kTarget ? g.views.narrow(0, 2 * b, b) : torch::Tensor();
    g.views = torch::cat({g.views, augment::masked_images(g.views.narrow(0, 0, b), fill, boxes)});
    g.lambda = boxes.lambda.to(g.views.device());
    return g;
  };
  if (peaks.defined()) return {step_inputs(add_masked(groups, peaks), input.class_weights), run, "smcl"};
  // CAM saliency: the box needs the current model's map, so the masked image is made inside the step.
  auto run_with_cam = [this, add_masked, saliency_images, saliency_labels](StepModel& model,
                                                                           const PreparedStep::Inputs& in) {
    auto masked = add_masked(groups_of(in), cam_peaks(model.network(), saliency_images, saliency_labels));
    return smcl_loss(model, masked, in[2], smcl_, loss_);
  };
  return {step_inputs(groups, input.class_weights), run_with_cam, ""};
}

}  // namespace smcl::methods
