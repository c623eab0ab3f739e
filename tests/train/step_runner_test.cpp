#include <ATen/record_function.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <mutex>
#include <set>
#include <utility>

#include "smcl/core/error.h"
#include "smcl/core/torch_compat.h"
#include "smcl/methods/method.h"
#include "smcl/train/fit.h"
#include "smcl/train/static_step.h"
#include "test_util.h"

namespace smcl::train {
namespace {

// A small long-tailed set of random 3x16x16 images, 4 classes of 24, 12, 6 and 3 images.
data::Dataset tiny_set() {
  torch::manual_seed(7);
  std::vector<int64_t> labels;
  const int64_t counts[4] = {24, 12, 6, 3};
  for (int64_t k = 0; k < 4; ++k) labels.insert(labels.end(), size_t(counts[k]), k);
  const int64_t n = int64_t(labels.size());
  return {torch::randint(0, 256, {n, 3, 16, 16}, torch::kUInt8), nullptr, torch::tensor(labels, torch::kInt64), 4};
}

// extra: more key=value settings, applied last.
config::Config tiny_config(const std::string& method, bool prefetch, const std::string& saliency = "fine_grained",
                           const std::vector<std::string>& extra = {}) {
  std::vector<std::string> settings{"model.name=resnet8",
                                    "method.name=" + method,
                                    "train.batch_size=10",
                                    "train.prefetch=" + std::string(prefetch ? "true" : "false"),
                                    "smcl.mask_start_epoch=0",
                                    "smcl.mask_prob=0.7",
                                    "smcl.saliency=" + saliency,
                                    "augment.mean=[0.5, 0.5, 0.5]",
                                    "augment.std=[0.25, 0.25, 0.25]",
                                    "mix.prob=0.6"};
  settings.insert(settings.end(), extra.begin(), extra.end());
  return config::load("", settings);
}

struct Trained {
  std::vector<torch::Tensor> parameters;
  std::string rng_state;
  StepsResult result;
};

// Two passes over a shuffled tiny set (the second in another epoch), from a fixed initialisation.
Trained train_tiny(const config::Config& c) {
  auto train = tiny_set();
  torch::manual_seed(3);
  auto model = methods::build_model(c, 4, 3);
  auto method = methods::make_method(c, train, &model);
  auto parameters = model->parameters();
  if (auto own = method->module()) {
    for (const auto& p : own->parameters()) parameters.push_back(p);
  }
  FusedSgd optimizer(parameters, torch::optim::SGDOptions(0.05).momentum(0.9), /*fuse=*/false);
  StepRunner runner(model, optimizer, *method, c.train, torch::kCPU);
  Rng rng(11);
  auto weights = torch::ones({4});
  Trained out;
  for (int64_t epoch = 0; epoch < 2; ++epoch) {
    auto order = torch::tensor(rng.permutation(train.size()), torch::kInt64);
    out.result = runner.run(train, order, weights, epoch, rng);
  }
  for (const auto& p : parameters) out.parameters.push_back(p.detach().clone());
  for (const auto& b : model->buffers()) out.parameters.push_back(b.clone());
  out.rng_state = rng.state();
  return out;
}

// Scales its loss by a number drawn for each step but kept in the step function instead of its inputs: what a
// method must not do, as a replayed graph would keep the first step's number.
class KeepsANumberOfItsOwn : public methods::Method {
 public:
  methods::PreparedStep prepare(const methods::StepInput& input, Rng& rng) const override {
    auto images = input.images.pixels.to(torch::kFloat) / 255.0;
    const double scale = 0.5 + rng.uniform();
    auto run = [scale](methods::StepModel& model, const methods::PreparedStep::Inputs& in) -> methods::StepOutput {
      auto logits = model.forward(in[0]).logits;
      return {scale * torch::nn::functional::cross_entropy(logits, in[1]), logits.detach(), in[0].size(0)};
    };
    return {{images, input.labels}, run, "impure"};
  }
};

// Every kind of static step: each method, with the loss and precision variants that change its step function.
const std::vector<std::vector<std::string>>& static_step_cases() {
  static const std::vector<std::vector<std::string>> cases = {
      {"erm"},
      {"erm", "loss.name=ldam", "loss.reweight=cb"},
      {"scl"},
      {"smcl"},
      {"smcl", "smcl.saliency=cam"},
      {"smcl", "smcl.saliency=random", "train.amp=bf16", "loss.name=balanced_softmax"},
      {"bcl"},
      {"gpaco"},
      {"mixup"},
      {"cutmix"},
      {"remix"},
      {"cmo", "loss.name=focal"},
  };
  return cases;
}

// A case's settings as one line, for SCOPED_TRACE.
std::string case_name(const std::vector<std::string>& settings) {
  std::string name;
  for (const auto& setting : settings) name += setting + " ";
  return name;
}

// A case's config: the method (its first setting) with prefetching, then the rest of its settings.
config::Config case_config(const std::vector<std::string>& settings) {
  return tiny_config(settings[0], true, "fine_grained", {settings.begin() + 1, settings.end()});
}

// The operators that make the host wait for the device, which a CUDA graph's capture cannot hold: copying a value
// to the host (item, _local_scalar_dense, and what calls it: is_nonzero, equal, allclose), and the operators
// whose output size depends on the data (nonzero and argwhere, boolean indexing and masked_select, which call
// nonzero, unique in its forms, bincount, which reads its input's range, and repeat_interleave with a tensor of
// repeats). After PyTorch's CUDA semantics notes ("CUDA Graphs", constraints: no synchronisation with the CPU)
// and the operators that torch.cuda.set_sync_debug_mode reports. A copy to the CPU cannot be told apart on the CPU
// (every tensor is there already): it is the one kind this test cannot see.
const std::set<std::string> kHostSyncing = {
    "aten::item",
    "aten::_local_scalar_dense",
    "aten::is_nonzero",
    "aten::equal",
    "aten::allclose",
    "aten::nonzero",
    "aten::argwhere",
    "aten::masked_select",
    "aten::unique",
    "aten::_unique",
    "aten::_unique2",
    "aten::unique_dim",
    "aten::unique_consecutive",
    "aten::bincount",
    "aten::repeat_interleave",
};

// Records the name of every operator called on a thread while it runs a static step's body.
class BodyOperators {
 public:
  BodyOperators() {
    handle_ = at::addGlobalCallback(
        at::RecordFunctionCallback([](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
          if (in_static_step_body()) {
            const std::lock_guard<std::mutex> lock(mutex());
            names().insert(fn.name());
          }
          return nullptr;
        }).scopes({at::RecordScope::FUNCTION}));
  }
  ~BodyOperators() { at::removeCallback(handle_); }
  BodyOperators(const BodyOperators&) = delete;
  BodyOperators& operator=(const BodyOperators&) = delete;

  // The names seen since the last call, which clears them.
  std::set<std::string> take() {
    const std::lock_guard<std::mutex> lock(mutex());
    return std::exchange(names(), {});
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static std::set<std::string>& names() {
    static std::set<std::string> seen;
    return seen;
  }
  at::CallbackHandle handle_;
};

// Copies the labels to the host inside its step function: what the observer below must catch.
class ReadsALabelOnTheHost : public methods::Method {
 public:
  methods::PreparedStep prepare(const methods::StepInput& input, Rng&) const override {
    auto images = input.images.pixels.to(torch::kFloat) / 255.0;
    auto run = [](methods::StepModel& model, const methods::PreparedStep::Inputs& in) -> methods::StepOutput {
      auto logits = model.forward(in[0]).logits;
      const double first = double(in[1][0].item<int64_t>());  // a host sync
      return {(1.0 + first) * torch::nn::functional::cross_entropy(logits, in[1]), logits.detach(), in[0].size(0)};
    };
    return {{images, input.labels}, run, "syncs"};
  }
};

// Graphs for train.cuda_graphs on the CPU (set_graph_maker_for_tests): warm-up runs run the work; a capture
// fails, or succeeds and its replays fail, as a CUDA capture or replay that the device refuses. Counts the graphs
// alive.
class TestGraph : public StepGraph {
 public:
  enum class Fails { kCapture, kReplay, kNever };
  explicit TestGraph(Fails fails) : fails_(fails) { ++alive(); }
  ~TestGraph() override { --alive(); }
  void run_eagerly(const std::function<void()>& work) override { work(); }
  void capture(const std::function<void()>&) override {
    if (fails_ == Fails::kCapture) throw Error("operation not permitted when stream is capturing");
  }
  void replay() override {
    if (fails_ == Fails::kReplay) throw Error("an illegal memory access was encountered");
  }
  static int64_t& alive() {
    static int64_t count = 0;
    return count;
  }

 private:
  Fails fails_;
};

// Sets the test graphs for a scope.
struct TestGraphs {
  explicit TestGraphs(TestGraph::Fails fails) {
    set_graph_maker_for_tests([fails] { return std::make_unique<TestGraph>(fails); });
  }
  ~TestGraphs() { set_graph_maker_for_tests({}); }
};

}  // namespace

// Prefetching moves batch preparation to another thread; it must not change a single number of the run, for
// every kind of method (the cam saliency runs its model part on the training thread).
TEST(StepRunner, PrefetchGivesExactlyTheSameTrainingAsInline) {
  for (const auto& [method, saliency] : std::vector<std::pair<std::string, std::string>>{{"erm", "fine_grained"},
                                                                                         {"scl", "fine_grained"},
                                                                                         {"smcl", "fine_grained"},
                                                                                         {"smcl", "cam"},
                                                                                         {"smcl", "random"},
                                                                                         {"cmo", "fine_grained"},
                                                                                         {"remix", "fine_grained"}}) {
    SCOPED_TRACE(method + " " + saliency);
    auto inline_run = train_tiny(tiny_config(method, false, saliency));
    auto prefetched = train_tiny(tiny_config(method, true, saliency));
    ASSERT_EQ(inline_run.parameters.size(), prefetched.parameters.size());
    for (size_t i = 0; i < inline_run.parameters.size(); ++i) {
      EXPECT_TRUE(torch::equal(inline_run.parameters[i], prefetched.parameters[i])) << "parameter " << i;
    }
    EXPECT_EQ(inline_run.rng_state, prefetched.rng_state);
    EXPECT_EQ(inline_run.result.loss, prefetched.result.loss);
    // 45 images in batches of 10: five steps, the last of 5 images.
    EXPECT_EQ(prefetched.result.images, 45);
  }
}

// train.cuda_graphs on the CPU: every step runs the first function of its shape on its inputs copied into that
// shape's buffers, as a replayed CUDA graph does. The weights (and batch-norm statistics) must equal the eager
// steps' bit for bit for every method; SMCL's CAM steps, which cannot be captured, run as they are.
TEST(StepRunner, StaticShapeStepsTrainExactlyAsEagerSteps) {
  for (const auto& settings : static_step_cases()) {
    SCOPED_TRACE(case_name(settings));
    auto c = case_config(settings);
    c.train.cuda_graphs = config::Switch::kOff;
    auto eager = train_tiny(c);
    c.train.cuda_graphs = config::Switch::kOn;
    auto static_shapes = train_tiny(c);
    ASSERT_EQ(eager.parameters.size(), static_shapes.parameters.size());
    for (size_t i = 0; i < eager.parameters.size(); ++i) {
      EXPECT_TRUE(torch::equal(eager.parameters[i], static_shapes.parameters[i])) << "tensor " << i;
    }
    EXPECT_EQ(eager.result.loss, static_shapes.result.loss);
    EXPECT_EQ(eager.result.top1, static_shapes.result.top1);
    EXPECT_EQ(static_shapes.result.replayed, 0);  // nothing is captured on the CPU
    EXPECT_EQ(static_shapes.result.steps, 5);
  }
}

// The check above has teeth: a step function that keeps a number of its own step trains differently from fixed
// buffers, because every later step of its shape runs the first step's function.
TEST(StepRunner, StaticShapeStepsExposeAStepFunctionThatIgnoresItsInputs) {
  auto train_with = [](config::Switch cuda_graphs) {
    auto c = tiny_config("erm", false);
    c.train.cuda_graphs = cuda_graphs;
    auto train = tiny_set();
    torch::manual_seed(3);
    auto model = methods::build_model(c, 4, 3);
    FusedSgd optimizer(model->parameters(), torch::optim::SGDOptions(0.05), /*fuse=*/false);
    KeepsANumberOfItsOwn method;
    StepRunner runner(model, optimizer, method, c.train, torch::kCPU);
    Rng rng(5);
    runner.run(train, torch::arange(train.size()), torch::ones({4}), 0, rng);
    return model->classifier()->weight.detach().clone();
  };
  EXPECT_FALSE(torch::equal(train_with(config::Switch::kOff), train_with(config::Switch::kOn)));
}

TEST(StepRunner, CountsEveryViewThroughTheModel) {
  // erm: one view; scl: two; smcl with the masked sample in every step: five.
  auto c = tiny_config("smcl", true);
  c.smcl.mask_prob = 1;
  EXPECT_EQ(train_tiny(tiny_config("erm", true)).result.views, 45);
  EXPECT_EQ(train_tiny(tiny_config("scl", true)).result.views, 90);
  EXPECT_EQ(train_tiny(c).result.views, 225);
}

namespace {

// Fails while preparing its third batch.
class FailingMethod : public methods::Method {
 public:
  methods::PreparedStep prepare(const methods::StepInput& input, Rng&) const override {
    if (++prepared_ == 3) throw Error("batch 3 could not be prepared");
    auto images = input.images.pixels.to(torch::kFloat) / 255.0;
    auto run = [](methods::StepModel& model, const methods::PreparedStep::Inputs& in) -> methods::StepOutput {
      auto logits = model.forward(in[0]).logits;
      return {torch::nn::functional::cross_entropy(logits, in[1]), logits.detach(), in[0].size(0)};
    };
    return {{images, input.labels}, run, "failing"};
  }
  mutable int prepared_ = 0;
};

}  // namespace

TEST(StepRunner, AnErrorWhilePreparingIsRethrownOnTheTrainingThread) {
  for (bool prefetch : {false, true}) {
    auto c = tiny_config("erm", prefetch);
    auto train = tiny_set();
    auto model = methods::build_model(c, 4, 3);
    FusedSgd optimizer(model->parameters(), torch::optim::SGDOptions(0.05), /*fuse=*/false);
    FailingMethod method;
    StepRunner runner(model, optimizer, method, c.train, torch::kCPU);
    Rng rng(1);
    int64_t started = 0;
    auto message = test::error_of(
        [&] { runner.run(train, torch::arange(train.size()), torch::ones({4}), 0, rng, [&](int64_t) { ++started; }); });
    EXPECT_NE(message.find("batch 3 could not be prepared"), std::string::npos) << message;
    EXPECT_EQ(started, 3);  // steps 0 and 1 trained; step 2 asked for the failed batch
  }
}

TEST(LossScaler, SkipsNonFiniteStepsHalvesAndGrowsTheScale) {
  auto p = torch::zeros({3}, torch::requires_grad());
  torch::optim::SGD optimizer({p}, torch::optim::SGDOptions(1.0));
  LossScaler scaler(8.0, /*growth_interval=*/2);
  auto backward = [&](double a, double b) {
    optimizer.zero_grad();
    ((p * torch::tensor({a, b, 1.0}, torch::kFloat)).sum() * scaler.value()).backward();
  };
  backward(1.0, 2.0);  // gradient (1, 2, 1) * 8
  EXPECT_TRUE(scaler.unscale_and_update(optimizer));
  EXPECT_TRUE(torch::allclose(p.grad(), torch::tensor({1.0f, 2.0f, 1.0f})));
  EXPECT_EQ(scaler.value(), 8.0);
  backward(std::numeric_limits<double>::infinity(), 2.0);
  EXPECT_FALSE(scaler.unscale_and_update(optimizer));
  EXPECT_EQ(scaler.value(), 4.0);
  backward(1.0, std::nan(""));
  EXPECT_FALSE(scaler.unscale_and_update(optimizer));
  EXPECT_EQ(scaler.value(), 2.0);
  backward(1.0, 1.0);
  EXPECT_TRUE(scaler.unscale_and_update(optimizer));
  EXPECT_EQ(scaler.value(), 2.0);
  backward(1.0, 1.0);
  EXPECT_TRUE(scaler.unscale_and_update(optimizer));  // the second clean step in a row doubles it
  EXPECT_EQ(scaler.value(), 4.0);
}

TEST(Execution, RefusesCudaWithoutCudaAndFp16OnTheCpu) {
  config::TrainConfig train;
  train.device = config::DeviceName::kCpu;
  EXPECT_EQ(setup_execution(train), torch::Device(torch::kCPU));
  train.amp = config::Amp::kFp16;
  EXPECT_NE(test::error_of([&] { setup_execution(train); }).find("fp16, which needs a CUDA device"), std::string::npos);
  if (!torch::cuda::is_available()) {
    train.device = config::DeviceName::kCuda;
    train.amp = config::Amp::kNone;
    EXPECT_NE(test::error_of([&] { setup_execution(train); }).find("-DCMAKE_PREFIX_PATH"), std::string::npos);
    train.device = config::DeviceName::kAuto;
    EXPECT_EQ(setup_execution(train), torch::Device(torch::kCPU));
  }
}

TEST(Execution, ConfigRejectsUnknownDeviceAndAmpAndFp16OnCpu) {
  auto message = test::error_of([] { config::load("", {"train.device=gpu", "train.amp=fp8"}); });
  EXPECT_NE(message.find("train.device"), std::string::npos) << message;
  EXPECT_NE(message.find("'gpu' is not one of: auto, cpu, cuda"), std::string::npos) << message;
  EXPECT_NE(message.find("'fp8' is not one of: none, bf16, fp16"), std::string::npos) << message;
  message = test::error_of([] { config::load("", {"train.device=cpu", "train.amp=fp16"}); });
  EXPECT_NE(message.find("train.amp"), std::string::npos) << message;
}

TEST(Execution, AutocastScopeCastsInsideAndRestoresAfter) {
  auto a = torch::randn({4, 4}), b = torch::randn({4, 4});
  {
    AutocastScope autocast(torch::kCPU, torch::kBFloat16, true);
    EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
    {
      AutocastScope off(torch::kCPU, torch::kBFloat16, false);  // inactive: changes nothing
      EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kBFloat16);
    }
  }
  EXPECT_EQ(torch::mm(a, b).scalar_type(), torch::kFloat);
}

TEST(Execution, ChannelsLastGivesTheSameOutputs) {
  torch::manual_seed(5);
  auto plain = models::make_model(config::ModelName::kResNet8, 4, 3, {models::kSupConHead});
  auto nhwc = models::make_model(config::ModelName::kResNet8, 4, 3, {models::kSupConHead});
  {
    torch::NoGradGuard no_grad;
    auto from = plain->parameters();
    auto to = nhwc->parameters();
    for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  }
  nhwc->use_channels_last();
  EXPECT_TRUE(nhwc->parameters()[0].is_contiguous(torch::MemoryFormat::ChannelsLast));
  auto x = torch::randn({6, 3, 16, 16});
  auto a = plain->forward(x), b = nhwc->forward(x);
  EXPECT_TRUE(torch::allclose(a.logits, b.logits, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(a.projection, b.projection, 1e-4, 1e-5));
  auto loss_a = a.logits.sum() + a.projection.sum(), loss_b = b.logits.sum() + b.projection.sum();
  loss_a.backward();
  loss_b.backward();
  EXPECT_TRUE(torch::allclose(plain->parameters()[0].grad(), nhwc->parameters()[0].grad(), 1e-3, 1e-4));
}

// A captured step must not wait for the device (issue 36): every static step kind, run with train.cuda_graphs on
// the CPU, calls no host-syncing operator in its body (forward, loss and backward). The observer sees the
// convolutions and their backward, and it catches a step function that reads a label on the host.
TEST(StepRunner, StaticStepBodiesNeverWaitForTheDevice) {
  BodyOperators observer;
  for (const auto& settings : static_step_cases()) {
    SCOPED_TRACE(case_name(settings));
    auto c = case_config(settings);
    c.train.cuda_graphs = config::Switch::kOn;
    train_tiny(c);
    const auto seen = observer.take();
    if (settings == std::vector<std::string>{"smcl", "smcl.saliency=cam"}) continue;  // CAM steps are never static
    EXPECT_TRUE(seen.count("aten::convolution") && seen.count("aten::convolution_backward")) << seen.size();
    for (const auto& op : seen) EXPECT_FALSE(kHostSyncing.count(op)) << op << " in a static step's body";
  }

  auto c = tiny_config("erm", false);
  c.train.cuda_graphs = config::Switch::kOn;
  auto train = tiny_set();
  torch::manual_seed(3);
  auto model = methods::build_model(c, 4, 3);
  ReadsALabelOnTheHost method;
  FusedSgd optimizer(model->parameters(), torch::optim::SGDOptions(0.05), /*fuse=*/false);
  StepRunner runner(model, optimizer, method, c.train, torch::kCPU);
  Rng rng(1);
  runner.run(train, torch::arange(train.size()), torch::ones({4}), 0, rng);
  const auto seen = observer.take();
  EXPECT_TRUE(seen.count("aten::item") || seen.count("aten::_local_scalar_dense")) << seen.size();
}

// A capture or replay that fails leaves its step shape eager for the rest of the run, with one warning naming
// the shape: training goes on, and ends with the weights of eager steps to the bit (issue 36).
TEST(StepRunner, AFailedCaptureOrReplayFallsBackToEagerSteps) {
  for (const auto fails : {TestGraph::Fails::kCapture, TestGraph::Fails::kReplay}) {
    for (const std::string method : {"erm", "smcl"}) {
      const std::string what = fails == TestGraph::Fails::kCapture ? "capture" : "replay";
      SCOPED_TRACE(method + ", failing " + what);
      auto c = tiny_config(method, false);
      c.train.cuda_graphs = config::Switch::kOff;
      const auto eager = train_tiny(c);
      c.train.cuda_graphs = config::Switch::kOn;
      Trained fell_back;
      std::string warnings;
      {
        const TestGraphs graphs(fails);
        testing::internal::CaptureStderr();
        fell_back = train_tiny(c);
        warnings = testing::internal::GetCapturedStderr();
      }
      ASSERT_EQ(eager.parameters.size(), fell_back.parameters.size());
      for (size_t i = 0; i < eager.parameters.size(); ++i) {
        EXPECT_TRUE(torch::equal(eager.parameters[i], fell_back.parameters[i])) << "tensor " << i;
      }
      EXPECT_EQ(fell_back.result.replayed, 0);
      // Two epochs of four full batches and one of five images: a shape of full batches reaches its capture
      // (after 3 warm-up steps) and fails, once: one warning per failing shape, naming it.
      const std::string line = "warning: train.cuda_graphs: the " + what + " of the step shape ";
      std::set<std::string> warned;
      size_t lines = 0;
      for (size_t at = warnings.find(line); at != std::string::npos; at = warnings.find(line, at + 1), ++lines) {
        warned.insert(warnings.substr(at + line.size(), warnings.find(' ', at + line.size()) - at - line.size()));
      }
      EXPECT_GE(lines, 1u) << warnings;
      EXPECT_EQ(warned.size(), lines) << warnings;
      EXPECT_NE(warnings.find(line + method + "|Float["), std::string::npos) << warnings;  // kind, input shapes
    }
  }
  EXPECT_EQ(TestGraph::alive(), 0);
}

// At most kMaxGraphs graphs alive, whatever the number of shapes: a new shape's graph frees the one used longest
// ago, and a shape that comes back warms up and is captured again.
TEST(StaticSteps, KeepAtMostKMaxGraphsAlive) {
  const TestGraphs graphs(TestGraph::Fails::kNever);
  StaticSteps steps(torch::kCPU, graph_maker_for_tests(), [] { return std::vector<torch::Tensor>{}; });
  int64_t bodies = 0;
  auto body = [&](const methods::PreparedStep::Run&, const methods::PreparedStep::Inputs&) {
    ++bodies;
    return methods::StepOutput{};
  };
  auto step_of_size = [](int64_t n) {
    return methods::PreparedStep{{torch::zeros({n})}, methods::PreparedStep::Run(), "test"};
  };
  // Seven shapes, each stepped until it is captured and replayed once.
  for (int64_t n = 1; n <= 7; ++n) {
    for (int64_t i = 0; i < StaticSteps::kWarmupSteps + 2; ++i) steps.run(step_of_size(n), body);
    EXPECT_EQ(steps.graphs(), std::min<size_t>(size_t(n), StaticSteps::kMaxGraphs)) << n;
    EXPECT_EQ(TestGraph::alive(), int64_t(steps.graphs()));
  }
  EXPECT_EQ(bodies, 7 * StaticSteps::kWarmupSteps);  // the warm-ups ran the body; captures and replays do not here
  EXPECT_EQ(steps.replayed(), 7 * 2);
  // Shape 1 lost its graph long ago: it warms up again before its next capture.
  steps.run(step_of_size(1), body);
  EXPECT_EQ(bodies, 7 * StaticSteps::kWarmupSteps + 1);
  EXPECT_EQ(steps.graphs(), StaticSteps::kMaxGraphs);
  // Shape 7 kept its graph: replayed at once.
  steps.run(step_of_size(7), body);
  EXPECT_EQ(steps.replayed(), 7 * 2 + 1);
}

}  // namespace smcl::train
