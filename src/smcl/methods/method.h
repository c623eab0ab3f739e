// A training method turns one batch into a loss: it builds its views, runs the model, and combines its
// loss terms. It never touches files, loaders or the optimiser; what it owns besides (learnable tensors, state
// that must survive a resume) it exposes as one module, which the trainer optimises with the model and keeps in
// checkpoints. make_method is the one factory.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "smcl/config/config.h"
#include "smcl/core/rng.h"
#include "smcl/data/dataset.h"
#include "smcl/losses/classification.h"
#include "smcl/models/network.h"

namespace smcl::methods {

struct StepInput {
  data::Images images;          // the batch's source images (in-memory: [B, C, H, W] uint8 on the device)
  torch::Tensor labels;         // [B] int64, on the training device
  torch::Tensor class_weights;  // [K] float32 loss weights for this epoch (all ones without reweighting)
  int64_t epoch = 0;
};

struct StepOutput {
  torch::Tensor loss;    // scalar, differentiable
  torch::Tensor logits;  // [B, K] logits of the (first) source view, detached, for training accuracy
  int64_t views = 0;     // images in the training forward pass (every view and masked image counted)
};

// The network as a training step runs it. forward(views) is its training pass: the network's own forward, or,
// in data-parallel training (train/fit.cpp's StepRunner), this process's shard of every view group run here
// and the logits and projections of all of `views` gathered from every process (feature_map and features
// undefined then). A method runs its training passes through forward and uses network() for anything else
// (the classifier's weights, an evaluation-mode pass).
class StepModel {
 public:
  using Forward = std::function<models::Output(const torch::Tensor& views)>;
  // forward: the training pass; empty: network's own forward.
  explicit StepModel(models::Network network, Forward forward = {});
  models::Output forward(const torch::Tensor& views);
  models::Network& network() { return network_; }

 private:
  models::Network network_;
  Forward forward_;
};

// The part of a step that needs the model (forward, saliency from the model, losses), made by Method::prepare and
// run on the training thread as run(model, inputs). run reads everything that changes from step to step from
// `inputs`, never from a tensor or number of its own: the step runner may call the run of an earlier step of the
// same kind on this step's inputs copied into that step's buffers (train/static_step.h; on CUDA it replays a graph
// captured from such a call). Only the shapes of the inputs may decide what run does.
struct PreparedStep {
  using Inputs = std::vector<torch::Tensor>;
  using Run = std::function<StepOutput(StepModel& model, const Inputs& inputs)>;
  Inputs inputs;  // the step's variable data (views, labels, class weights, mixing shares), on the training device
  Run run;
  // Steps of one kind with inputs of the same shapes run the same function of their inputs. Empty: the step is more
  // than that (SMCL's CAM saliency runs the model in evaluation mode inside it) and always runs as it is.
  std::string kind;

  StepOutput operator()(StepModel& model) const { return run(model, inputs); }
};

class Method {
 public:
  virtual ~Method() = default;
  // Everything of a step that does not need the model: sampling, gathering, augmentation, data saliency, masks,
  // and every random draw of the step, in a fixed order, so that the stream is the same wherever it runs. May
  // run on another thread than the returned step, one step ahead; calls must come in step order.
  virtual PreparedStep prepare(const StepInput& input, Rng& rng) const = 0;
  // prepare, then the rest at once, on the network's own forward.
  StepOutput step(models::Network& model, const StepInput& input, Rng& rng) const;
  // The method's own tensors, or null when it owns none: its parameters are optimised with the model's, in the
  // same optimiser after them (and with the same learning rate and weight decay); its parameters and buffers are
  // saved in every checkpoint and restored exactly on resume. It is on the CPU until the trainer moves it.
  virtual std::shared_ptr<torch::nn::Module> module() const { return nullptr; }
  // Called before the first step of every training epoch (on resume too, before the epoch it continues with).
  virtual void start_epoch(int64_t /*epoch*/) {}
};

// Empirical risk minimisation: one augmented view, the (weighted) classification loss of loss.name.
class Erm : public Method {
 public:
  Erm(const config::Config& config, const data::Dataset& train);
  PreparedStep prepare(const StepInput& input, Rng& rng) const override;

 private:
  config::AugmentConfig augment_;
  losses::ClassificationLoss loss_;
};

// Supervised contrastive learning baseline (SCL): two augmented views of each image in one forward pass;
// alpha * CE over both views (weighted as one batch) + beta * SupCon over the views' projections. It is
// SMCL's loss without target views (smcl_loss in smcl.h).
class Scl : public Method {
 public:
  Scl(const config::Config& config, const data::Dataset& train);
  PreparedStep prepare(const StepInput& input, Rng& rng) const override;

 private:
  config::AugmentConfig augment_;
  config::SmclConfig smcl_;
  losses::ClassificationLoss loss_;
};

// Whether the method trains the projection head (the model must then be built with one).
bool uses_projection_head(const config::Config& config);

// The heads of the network a config trains: the method's projection head, if any (SCL and SMCL: SupCon's; BCL and
// GPaCo: their codebases'), and the classifier: LDAM's cosine one for loss.name ldam (scale 1: its loss scales),
// BCL's of scale bcl.cosine_scale, linear otherwise.
models::Heads heads_of(const config::Config& config);

// The network a config trains: model.name with heads_of(config), and focal's classifier bias -log(K - 1). Seeds
// nothing: call after seeding.
models::Network build_model(const config::Config& config, int64_t num_classes, int64_t in_channels);

// method.name -> method; train is the training set (smcl draws its targets from it); model is the network it will
// train, for methods whose own parameters are sized by it (bcl; the others ignore it). Throws smcl::Error when bcl
// gets no model.
std::unique_ptr<Method> make_method(const config::Config& config, const data::Dataset& train,
                                    const models::Network* model = nullptr);

}  // namespace smcl::methods
