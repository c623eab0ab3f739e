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
  out << ",error,warning\n";
  for (const auto& c : results) {
    out << csv_field(c.path);
    for (int64_t r = 0; r < k; ++r) {
      const bool has = r < int64_t(c.classes.size());
      out << "," << (has ? csv_field(names[size_t(c.classes[size_t(r)])]) : "") << ","
          << (has ? probability_text(c.probabilities[size_t(r)]) : "");
    }
    out << "," << csv_field(c.error) << "," << csv_field(c.warning) << "\n";
  }
  return out.str();
}

// The length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), or 0 when the byte there does not start one.
size_t utf8_sequence(const std::string& text, size_t i) {
  const auto byte = [&](size_t j) { return j < text.size() ? static_cast<unsigned char>(text[j]) : 0u; };
  const unsigned lead = byte(i);
  if (lead < 0x80) return 1;
  const auto continuation = [&](size_t j, unsigned lo, unsigned hi) { return byte(j) >= lo && byte(j) <= hi; };
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(i + 1, 0x80, 0xBF) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    const unsigned lo = lead == 0xE0 ? 0xA0 : 0x80, hi = lead == 0xED ? 0x9F : 0xBF;
    return continuation(i + 1, lo, hi) && continuation(i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    const unsigned lo = lead == 0xF0 ? 0x90 : 0x80, hi = lead == 0xF4 ? 0x8F : 0xBF;
    return continuation(i + 1, lo, hi) && continuation(i + 2, 0x80, 0xBF) && continuation(i + 3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

// JSON strings are UTF-8; a file or class name need not be. Each byte that is not part of well-formed UTF-8 is
// written as the four characters \xNN (Python's backslashreplace), so the line stays JSON and the name its bytes.
std::string json_text(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_sequence(text, i);
    if (n > 0) {
      out.append(text, i, n);
      i += n;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02X", static_cast<unsigned char>(text[i]));
      out += escaped;
      ++i;
    }
  }
  return out;
}

std::string jsonl(const std::vector<train::Classification>& results, const std::vector<std::string>& names) {
  std::string out;
  for (const auto& c : results) {
    nlohmann::json line = {{"path", json_text(c.path)}};
    if (!c.warning.empty()) line["warning"] = json_text(c.warning);
    if (!c.error.empty()) {
      line["error"] = json_text(c.error);
    } else {
      line["predictions"] = nlohmann::json::array();
      for (size_t r = 0; r < c.classes.size(); ++r) {
        line["predictions"].push_back({{"class", json_text(names[size_t(c.classes[r])])},
                                       {"index", c.classes[r]},
                                       {"probability", c.probabilities[r]}});
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
      if (!r.warning.empty()) std::fprintf(stderr, "predict: warning: '%s' %s\n", r.path.c_str(), r.warning.c_str());
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
