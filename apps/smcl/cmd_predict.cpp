// smcl predict: classify image files with a trained run; CSV (or JSON Lines) of each file's top-k classes.
#include <cstdio>
#include <sstream>

#include "commands.h"
#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/core/progress.h"
#include "smcl/train/classify.h"
#include "smcl/train/fit.h"

namespace smcl::app {
namespace {

// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char ch : text) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::string probability_text(double p) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6f", p);
  return text;
}

std::string csv(const std::vector<train::Classification>& results, const std::vector<std::string>& names, int64_t k) {
  std::ostringstream out;
  out << "path";
  for (int64_t r = 1; r <= k; ++r) out << ",class_" << r << ",probability_" << r;
  out << ",error\n";
  for (const auto& c : results) {
    out << csv_field(c.path);
    for (int64_t r = 0; r < k; ++r) {
      const bool has = r < int64_t(c.classes.size());
      out << "," << (has ? csv_field(names[size_t(c.classes[size_t(r)])]) : "") << ","
          << (has ? probability_text(c.probabilities[size_t(r)]) : "");
    }
    out << "," << csv_field(c.error) << "\n";
  }
  return out.str();
}

std::string jsonl(const std::vector<train::Classification>& results, const std::vector<std::string>& names) {
  std::string out;
  for (const auto& c : results) {
    nlohmann::json line = {{"path", c.path}};
    if (!c.error.empty()) {
      line["error"] = c.error;
    } else {
      line["predictions"] = nlohmann::json::array();
      for (size_t r = 0; r < c.classes.size(); ++r) {
        line["predictions"].push_back(
            {{"class", names[size_t(c.classes[r])]}, {"index", c.classes[r]}, {"probability", c.probabilities[r]}});
      }
    }
    out += line.dump() + "\n";
  }
  return out;
}

}  // namespace

void add_predict(CLI::App& app) {
  auto* command = app.add_subcommand("predict", "classify image files with a trained run (CSV or JSON Lines)");
  auto run_dir = std::make_shared<std::string>();
  auto which = std::make_shared<std::string>("last");
  auto inputs = std::make_shared<std::vector<std::string>>();
  auto lists = std::make_shared<std::vector<std::string>>();
  auto top_k = std::make_shared<int64_t>(5);
  auto out = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("csv");
  command->add_option("--run", *run_dir, "run folder (made by smcl train or smcl retrain)")->required();
  command->add_option("--checkpoint", *which, "last or best (default: last)")->check(CLI::IsMember({"last", "best"}));
  command->add_option("inputs", *inputs, "image files (JPEG, PNG) and folders of them (searched recursively)");
  command
      ->add_option("--list", *lists,
                   "a list file: one image path per line (relative to the list's folder), "
                   "optionally followed by a label, as ImageNet-LT's lists (repeatable)")
      ->allow_extra_args(false);  // one file per --list, so that image arguments after it stay images
  command->add_option("--top-k", *top_k, "classes per image, most probable first (default 5)");
  command->add_option("--out,-o", *out, "file to write (default: standard output)");
  command->add_option("--format", *format, "csv (default) or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  command->callback([=] {
    train::require_one_process("smcl predict");
    const auto paths = train::expand_inputs(*inputs, *lists);
    SMCL_CHECK(!paths.empty(), "predict: no images given (files, folders or --list)");
    train::Classifier classifier(*run_dir, *which);
    std::fprintf(stderr, "predict: %zu images with %s, checkpoint %s (epoch %lld)\n", paths.size(), run_dir->c_str(),
                 which->c_str(), static_cast<long long>(classifier.epoch()));
    if (classifier.temperature() != 1.0) {
      std::fprintf(stderr, "predict: temperature %.4f from calibration.json applied to the probabilities\n",
                   classifier.temperature());
    }
    ProgressBar bar("predict", int64_t(paths.size()));
    auto results = classifier.classify(paths, *top_k, [&](int64_t done, int64_t) { bar.update(done); });
    bar.finish();
    int64_t failed = 0;
    for (const auto& r : results) {
      if (r.error.empty()) continue;
      std::fprintf(stderr, "predict: %s\n", r.error.c_str());
      ++failed;
    }
    const int64_t k = std::min(*top_k, classifier.num_classes());
    const std::string text =
        *format == "csv" ? csv(results, classifier.class_names(), k) : jsonl(results, classifier.class_names());
    if (out->empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    } else {
      write_file_atomic(*out, text);
      std::fprintf(stderr, "predict: wrote %zu rows to %s\n", results.size(), out->c_str());
    }
    SMCL_CHECK(failed == 0, failed << " of " << results.size() << " images could not be classified (each named "
                                   << "above and marked in the output's error column)");
  });
}

}  // namespace smcl::app
