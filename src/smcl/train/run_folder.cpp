#include "smcl/train/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "smcl/core/distributed.h"
#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/core/progress.h"
#include "smcl/data/image_files.h"
#include "smcl/data/long_tail.h"
#include "smcl/eval/evaluate.h"
#include "smcl/methods/method.h"
#include "smcl/train/fit.h"

namespace fs = std::filesystem;

namespace smcl::train {

RunSummary make_summary(const config::Config& c, const data::LongTailedData& data, const TrainState& state) {
  SMCL_CHECK(state.last && state.best, "a run's summary needs its last and best epochs");
  RunSummary s;
  s.dataset = data::dataset_title(c.data);
  s.model = config::name_of(c.model.name);
  s.method = config::name_of(c.method.name);
  s.loss = config::name_of(c.loss.name);
  s.reweight = config::name_of(c.loss.reweight);
  s.epochs = c.train.epochs;
  s.seed = c.train.seed;
  s.last = *state.last;
  s.best = *state.best;
  s.best_is_selected_on_test = !data.has_val();
  s.train_images_per_second = state.train_seconds > 0 ? double(state.train_images) / state.train_seconds : 0.0;
  s.wall_seconds = state.wall_seconds;
  s.counts = data.counts;
  const auto groups = data::shot_groups(data.counts, c.eval.many_threshold, c.eval.few_threshold);
  std::vector<int64_t>* members[3] = {&s.many, &s.medium, &s.few};
  for (size_t k = 0; k < groups.size(); ++k) members[groups[k]]->push_back(int64_t(k));
  s.train_size = data.train.size();
  s.test_size = data.test.size();
  if (data.has_conflict()) s.conflict_size = data.conflict.size();
  s.major_classes = data.major_classes;
  return s;
}

nlohmann::json to_json(const RunSummary& s) {
  nlohmann::json j = {{"dataset", s.dataset},
                      {"model", s.model},
                      {"method", s.method},
                      {"loss", s.loss},
                      {"reweight", s.reweight},
                      {"epochs", s.epochs},
                      {"seed", s.seed},
                      {"last", eval::to_json(s.last, /*with_details=*/true)},
                      {"best", eval::to_json(s.best, /*with_details=*/true)},
                      {"best_is_selected_on_test", s.best_is_selected_on_test},
                      {"train_images_per_second", s.train_images_per_second},
                      {"wall_seconds", s.wall_seconds},
                      {"counts", s.counts},
                      {"groups", {{"many", s.many}, {"medium", s.medium}, {"few", s.few}}},
                      {"train_size", s.train_size},
                      {"test_size", s.test_size},
                      {"conflict_size", s.conflict_size ? nlohmann::json(*s.conflict_size) : nlohmann::json(nullptr)},
                      {"major_classes", s.major_classes}};
  if (s.retrain) j["retrain"] = {{"mode", s.retrain->mode}, {"source_run", s.retrain->source_run}};
  return j;
}

RunSummary summary_from_json(const nlohmann::json& j, const std::string& origin) {
  SMCL_CHECK(j.is_object(), origin << " is not a JSON object");
  RunSummary s;
  try {
    s.dataset = j.at("dataset").get<std::string>();
    s.model = j.at("model").get<std::string>();
    s.method = j.at("method").get<std::string>();
    s.loss = j.at("loss").get<std::string>();
    s.reweight = j.at("reweight").get<std::string>();
    s.epochs = j.at("epochs").get<int64_t>();
    s.seed = j.at("seed").get<int64_t>();
    s.best_is_selected_on_test = j.at("best_is_selected_on_test").get<bool>();
    s.train_images_per_second = j.at("train_images_per_second").get<double>();
    s.wall_seconds = j.at("wall_seconds").get<double>();
    s.counts = j.at("counts").get<std::vector<int64_t>>();
    const auto& groups = j.at("groups");
    s.many = groups.at("many").get<std::vector<int64_t>>();
    s.medium = groups.at("medium").get<std::vector<int64_t>>();
    s.few = groups.at("few").get<std::vector<int64_t>>();
    s.train_size = j.at("train_size").get<int64_t>();
    s.test_size = j.at("test_size").get<int64_t>();
    if (j.contains("conflict_size") && !j["conflict_size"].is_null())
      s.conflict_size = j["conflict_size"].get<int64_t>();
    if (j.contains("major_classes")) s.major_classes = j["major_classes"].get<std::vector<int64_t>>();
    if (j.contains("retrain")) {
      s.retrain = RunSummary::Retrain{j["retrain"].at("mode").get<std::string>(),
                                      j["retrain"].at("source_run").get<std::string>()};
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(origin + " is not as smcl writes a run's summary: " + e.what());
  }
  SMCL_CHECK(j.contains("last") && j.contains("best"), origin << ": 'last' or 'best' is missing");
  s.last = eval::epoch_record_from_json(j["last"], origin + ": last");
  s.best = eval::epoch_record_from_json(j["best"], origin + ": best");
  return s;
}

std::string RunFolder::path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

std::string RunFolder::checkpoint(const std::string& name) const {
  return (fs::path(dir_) / "checkpoints" / name).string();
}

bool RunFolder::holds_run() const { return fs::exists(path("config.yaml")); }

bool RunFolder::finished() const { return fs::is_regular_file(path("summary.json")); }

bool RunFolder::in_use() const {
  const int fd = ::open(path(".lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;  // never locked
  const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);  // and with it the lock just taken
  return !free;
}

void RunFolder::lock() {
  if (lock_) return;
  const std::string file = path(".lock");
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  SMCL_CHECK(fd >= 0, "cannot open '" << file << "': " << std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    SMCL_CHECK(error != EWOULDBLOCK, "'" << dir_ << "' is in use: another smcl process is training into it (it holds '"
                                         << file << "'); wait for it to end, or stop it first");
    throw Error("cannot lock '" + file + "': " + std::strerror(error));
  }
  // The lock lasts as long as the descriptor: until the last copy of this folder is gone, or the process ends.
  lock_ = std::shared_ptr<int>(new int(fd), [](int* p) {
    ::close(*p);
    delete p;
  });
}

void RunFolder::create(const std::string& config_yaml) {
  std::error_code ec;
  fs::create_directories(fs::path(dir_) / "checkpoints", ec);
  SMCL_CHECK(!ec, "cannot create run folder '" << dir_ << "': " << ec.message());
  lock();
  SMCL_CHECK(!holds_run(),
             "'" << dir_ << "' already holds a run; continue it with --resume " << dir_ << " or choose another --out");
  write_file_atomic(path("config.yaml"), config_yaml);
}

void RunFolder::reopen() {
  std::error_code ec;
  fs::create_directories(fs::path(dir_) / "checkpoints", ec);
  SMCL_CHECK(!ec, "cannot open run folder '" << dir_ << "': " << ec.message());
  lock();
  for (const auto& dir : {fs::path(dir_), fs::path(dir_) / "checkpoints"}) {
    if (int removed = remove_stale_temporaries(dir.string())) {
      std::printf("removed %d unfinished temporary file(s) of a killed run in '%s'\n", removed, dir.c_str());
    }
  }
}

config::Config RunFolder::config() const { return load_run_config(dir_); }

void RunFolder::keep_epochs_before(int64_t next_epoch) const {
  std::ifstream in(path("metrics.jsonl"));
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded() && j.contains("epoch") && j["epoch"].get<int64_t>() < next_epoch) kept += line + "\n";
  }
  write_file_atomic(path("metrics.jsonl"), kept);
}

void RunFolder::append(const eval::EpochRecord& record) const {
  append_line(path("metrics.jsonl"), eval::to_json(record, /*with_details=*/false).dump());
}

void RunFolder::write_summary(const RunSummary& summary) const {
  write_file_atomic(path("summary.json"), to_json(summary).dump(2) + "\n");
}

RunSummary RunFolder::summary() const {
  const std::string file = path("summary.json");
  SMCL_CHECK(fs::is_regular_file(file), "'" << dir_ << "' has no summary.json: it is not a finished run (resume it "
                                            << "with smcl train --resume " << dir_ << ")");
  const auto json = nlohmann::json::parse(read_file(file), nullptr, /*allow_exceptions=*/false);
  SMCL_CHECK(!json.is_discarded(), "'" << file << "' is not the summary of a finished run (corrupt JSON); remove it "
                                       << "and resume the run to write it again");
  return summary_from_json(json, "'" + file + "'");
}

void RunFolder::keep_class_names(const std::vector<std::string>& names, const std::string& title) const {
  if (names.empty()) return;
  std::string text;
  for (size_t k = 0; k < names.size(); ++k) text += std::to_string(k) + " " + names[k] + "\n";
  const std::string file = path("classes.txt");
  if (fs::exists(file)) {
    SMCL_CHECK(read_file(file) == text,
               "the class names of " << title << " differ from '" << file << "', which this run was started with");
  } else {
    write_file_atomic(file, text);
  }
}

EpochRecorder::EpochRecorder(const RunFolder& folder, const data::LongTailedData& data, const config::Config& config,
                             torch::Device device, std::function<void(const std::string&)> save, std::string label,
                             int64_t epochs)
    : folder_(folder),
      data_(data),
      config_(config),
      device_(device),
      save_(std::move(save)),
      label_(std::move(label)),
      epochs_(epochs) {}

namespace {

std::string percent(const std::optional<double>& v) {
  if (!v) return "-";
  char text[16];
  std::snprintf(text, sizeof(text), "%.2f", *v);
  return text;
}

}  // namespace

eval::EpochRecord EpochRecorder::record(models::Network& model, int64_t epoch,
                                        std::chrono::steady_clock::time_point epoch_start,
                                        const eval::EpochTraining& training, TrainState& state,
                                        const std::string& note) {
  using Clock = std::chrono::steady_clock;
  eval::EpochRecord record = eval::evaluate_epoch(model, data_, config_, device_);
  record.epoch = epoch;
  record.training = training;
  const double seconds = std::chrono::duration<double>(Clock::now() - epoch_start).count();
  record.training->seconds = seconds;
  const bool main = dist::is_main();
  if (main) folder_.append(record);

  record.training.reset();  // last and best are the evaluation alone
  state.next_epoch = epoch + 1;
  state.wall_seconds += seconds;
  state.last = record;
  const bool best = !state.best || record.selection_top1() > state.best->selection_top1();
  if (best) {
    state.best = record;
    if (main) save_(folder_.checkpoint("best.pt"));
  }
  if (main) save_(folder_.checkpoint("last.pt"));
  ++recorded_;
  if (!main) return record;

  const double per_epoch = std::chrono::duration<double>(Clock::now() - session_start_).count() / double(recorded_);
  char text[128];
  std::snprintf(text, sizeof(text), "%s %3lld/%lld  lr %.4g  loss %.4f", label_.c_str(), static_cast<long long>(epoch),
                static_cast<long long>(epochs_), training.lr, training.loss);
  std::string line = text;
  if (training.top1) line += "  train " + percent(training.top1);
  std::snprintf(text, sizeof(text), "  |  top-1 %.2f", record.test.top1);
  line += std::string(text) + "  many " + percent(record.test.many) + "  medium " + percent(record.test.medium) +
          "  few " + percent(record.test.few);
  std::snprintf(text, sizeof(text), "  ECE %.2f", record.test.calibration.ece);
  line += text;
  // The validation set's top-1 and the background-bias metrics, where the data has them.
  if (record.val) line += "  val " + percent(record.val->top1);
  if (record.bias) {
    line += "  conflict " + percent(record.bias->conflict_top1) + "  flip " + percent(record.bias->bg_flip_rate);
  }
  if (best) line += " *";
  line += "  |";
  if (training.images_per_second) {
    std::snprintf(text, sizeof(text), "  %.0f img/s", *training.images_per_second);
    line += text;
  }
  line += "  eta " + format_duration(per_epoch * double(epochs_ - epoch - 1)) + note;
  std::printf("%s\n", line.c_str());
  // Images that decoded only with warnings (a corrupt JPEG scan) are kept, as PIL keeps them, but never silently.
  static int64_t warned_reported = 0;
  if (const int64_t warned = data::images_decoded_with_warnings(); warned > warned_reported) {
    std::printf(
        "data: %lld images so far decoded only with warnings (kept; data.skip_bad_images: true leaves them "
        "out)\n",
        static_cast<long long>(warned));
    warned_reported = warned;
  }
  std::fflush(stdout);
  return record;
}

config::Config load_run_config(const std::string& run_dir) {
  std::string file = (fs::path(run_dir) / "config.yaml").string();
  SMCL_CHECK(fs::is_regular_file(file), "'" << run_dir << "' is not a run folder: it has no config.yaml");
  return config::load(file);
}

std::optional<double> stored_temperature(const std::string& run_dir, const std::string& checkpoint, int64_t epoch,
                                         const std::string& crc32) {
  const std::string file = (fs::path(run_dir) / "calibration.json").string();
  if (!fs::exists(file)) return std::nullopt;
  const auto json = nlohmann::json::parse(read_file(file), nullptr, /*allow_exceptions=*/false);
  SMCL_CHECK(json.is_object() && json.contains("temperature") && json["temperature"].is_number() &&
                 json.contains("checkpoint") && json["checkpoint"].is_string(),
             "'" << file << "' is not as smcl calibrate writes it (remove it, or calibrate the run again)");
  const double t = json["temperature"].get<double>();
  SMCL_CHECK(std::isfinite(t) && t > 0, "'" << file << "': temperature " << t << " is not a positive number");
  if (json["checkpoint"].get<std::string>() != checkpoint) return std::nullopt;
  const bool has_crc = json.contains("checkpoint_crc32") && json["checkpoint_crc32"].is_string();
  const bool has_epoch = json.contains("epoch") && json["epoch"].is_number_integer();
  SMCL_CHECK(has_crc || has_epoch, "'" << file << "' names neither the checkpoint's CRC-32 nor its epoch (remove it, "
                                       << "or calibrate the run again)");
  const bool current =
      has_crc ? json["checkpoint_crc32"].get<std::string>() == crc32 : json["epoch"].get<int64_t>() == epoch;
  if (!current) {
    std::fprintf(stderr,
                 "warning: '%s' holds a temperature fitted to an earlier checkpoint %s (epoch %s; the checkpoint is "
                 "now of epoch %lld): not applied; run smcl calibrate %s again\n",
                 file.c_str(), checkpoint.c_str(),
                 has_epoch ? std::to_string(json["epoch"].get<int64_t>()).c_str() : "?", static_cast<long long>(epoch),
                 run_dir.c_str());
    return std::nullopt;
  }
  return t;
}

std::vector<std::string> read_class_names(const std::string& run_dir, size_t classes) {
  std::vector<std::string> names;
  for (size_t k = 0; k < classes; ++k) names.push_back(std::to_string(k));
  const std::string file = (fs::path(run_dir) / "classes.txt").string();
  std::ifstream in(file);
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    const auto space = line.find(' ');
    const std::string index = line.substr(0, space);
    SMCL_CHECK(space != std::string::npos && !index.empty() && index.size() <= 9 &&
                   index.find_first_not_of("0123456789") == std::string::npos && std::stoull(index) < classes,
               "'" << file << "' line " << number << " is not \"index name\" with an index below " << classes << ": '"
                   << line << "'");
    names[std::stoull(index)] = line.substr(space + 1);
  }
  return names;
}

OpenRun open_run(const std::string& dir, const std::string& checkpoint) {
  SMCL_CHECK(checkpoint == "last" || checkpoint == "best",
             "the checkpoint is last or best, not '" << checkpoint << "'");
  OpenRun run;
  run.dir = dir;
  run.config = load_run_config(dir);
  const std::string file = (fs::path(dir) / "checkpoints" / (checkpoint + ".pt")).string();
  SMCL_CHECK(fs::exists(file), "'" << dir << "' has no checkpoints/" << checkpoint << ".pt yet");
  config::TrainConfig execution = run.config.train;
  execution.device = config::DeviceName::kAuto;
  execution.amp = config::Amp::kNone;
  run.device = setup_execution(execution);
  const auto shapes = read_checkpoint_shapes(file);
  run.num_classes = shapes.num_classes;
  run.in_channels = shapes.in_channels;
  torch::manual_seed(uint64_t(run.config.train.seed));
  run.model = methods::build_model(run.config, run.num_classes, run.in_channels);
  run.model->to(run.device);
  run.epoch = load_checkpoint(file, *run.model, nullptr, run.device).next_epoch - 1;
  run.model->eval();
  run.checkpoint_crc32 = checkpoint_crc32(file);
  run.temperature = stored_temperature(dir, checkpoint, run.epoch, run.checkpoint_crc32);
  run.class_names = read_class_names(dir, size_t(run.num_classes));
  return run;
}

}  // namespace smcl::train
