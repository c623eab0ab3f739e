#include "smcl/report/report.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/report/gnuplot.h"
#include "smcl/train/run_folder.h"

namespace smcl::report {
namespace fs = std::filesystem;
namespace {

const char* kTerminal = "set terminal pngcairo noenhanced size 900,500 font \"DejaVu Sans,10\"\n";

nlohmann::json read_json(const std::string& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + path + "' is not valid JSON: " + e.what());
  }
}

// A number for a .tsv file gnuplot reads ("?" is missing, set datafile missing "?").
std::string cell(const nlohmann::json& value) {
  if (value.is_null()) return "?";
  std::ostringstream out;
  out << value.get<double>();
  return out.str();
}

std::string cell(const std::optional<double>& value) {
  if (!value || std::isnan(*value)) return "?";
  std::ostringstream out;
  out << *value;
  return out.str();
}

std::string cell(double value) { return cell(std::optional<double>(value)); }

std::string fixed(const std::optional<double>& value) {
  if (!value || std::isnan(*value)) return "-";
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", *value);
  return text;
}

std::string output(const std::string& name) { return "set output " + quoted(partial_name(name)) + "\n"; }

// The metrics.jsonl records, in epoch order.
std::vector<eval::EpochRecord> read_epochs(const std::string& path) {
  std::ifstream in(path);
  SMCL_CHECK(in, "cannot read '" << path << "': a run folder holds metrics.jsonl once an epoch has finished");
  std::vector<eval::EpochRecord> epochs;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::string origin = "'" + path + "' line " + std::to_string(number);
    auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    SMCL_CHECK(!json.is_discarded(), origin << " is not JSON");
    epochs.push_back(eval::epoch_record_from_json(json, origin));
  }
  SMCL_CHECK(!epochs.empty(), "'" << path << "' has no epoch yet");
  return epochs;
}

std::vector<std::string> run_report_of(const std::string& run_dir, const std::string& out_dir) {
  const auto epochs = read_epochs((fs::path(run_dir) / "metrics.jsonl").string());
  const train::RunFolder folder(run_dir);
  SMCL_CHECK(folder.finished(),
             "'" << run_dir << "' has no summary.json: smcl report draws finished runs (resume it with smcl train "
                 << "--resume first)");
  const auto summary = folder.summary();
  const auto& last = summary.last.test;
  const bool bias = summary.last.bias.has_value();
  const auto& counts = summary.counts;
  const auto names = train::read_class_names(run_dir, counts.size());
  fs::create_directories(out_dir);

  std::ostringstream epoch_rows, class_rows, confusion_rows;
  epoch_rows << "# epoch\tlr\ttrain_loss\ttop1\tmany\tmedium\tfew\tconflict_top1\tbg_flip_rate\n";
  for (const auto& e : epochs) {
    const auto& t = e.training;
    const auto& b = e.bias;
    epoch_rows << e.epoch << "\t" << cell(t ? std::optional(t->lr) : std::nullopt) << "\t"
               << cell(t ? std::optional(t->loss) : std::nullopt) << "\t" << cell(e.test.top1) << "\t"
               << cell(e.test.many) << "\t" << cell(e.test.medium) << "\t" << cell(e.test.few) << "\t"
               << cell(b ? std::optional(b->conflict_top1) : std::nullopt) << "\t"
               << cell(b ? std::optional(b->bg_flip_rate) : std::nullopt) << "\n";
  }
  const auto& per_class = last.per_class;
  SMCL_CHECK(per_class.size() == counts.size(), "'" << folder.path("summary.json") << "': last.per_class has "
                                                    << per_class.size() << " classes, counts " << counts.size());
  class_rows << "# class\ttrain_images\taccuracy\tname\n";
  for (size_t k = 0; k < counts.size(); ++k) {
    class_rows << k << "\t" << counts[k] << "\t" << cell(per_class[k]) << "\t" << names[k] << "\n";
  }
  for (const auto& row : last.confusion) {
    int64_t total = 0;
    for (int64_t v : row) total += v;
    for (size_t j = 0; j < row.size(); ++j) {
      confusion_rows << (j ? " " : "") << (total > 0 ? 100.0 * double(row[j]) / double(total) : 0.0);
    }
    confusion_rows << "\n";
  }
  // Runs of smcl before calibration was measured have no reliability bins: no reliability diagram then.
  const auto& r = last.reliability;
  const bool reliability = !r.count.empty();
  if (reliability) {
    std::ostringstream bins;
    bins << "# bin_center\taccuracy\tconfidence\tcount\n";
    for (size_t b = 0; b < r.count.size(); ++b) {
      const double center = (double(b) + 0.5) / double(r.count.size());
      const bool empty = r.count[b] == 0;
      bins << center << "\t" << (empty ? "?" : cell(r.accuracy[b])) << "\t" << (empty ? "?" : cell(r.confidence[b]))
           << "\t" << r.count[b] << "\n";
    }
    write_file_atomic((fs::path(out_dir) / "reliability.tsv").string(), bins.str());
  }
  write_file_atomic((fs::path(out_dir) / "epochs.tsv").string(), epoch_rows.str());
  write_file_atomic((fs::path(out_dir) / "per_class.tsv").string(), class_rows.str());
  write_file_atomic((fs::path(out_dir) / "confusion.tsv").string(), confusion_rows.str());

  const size_t k = counts.size();
  std::ostringstream script;
  script << kTerminal << "set datafile separator \"\\t\"\nset datafile missing \"?\"\nset grid\n"
         << output("epochs.png") << "set title \"training loss and learning rate\"\nset xlabel \"epoch\"\n"
         << "set ylabel \"training loss\"\nset y2label \"learning rate\"\nset logscale y2\nset ytics nomirror\n"
         << "set y2tics\nset key top right\n"
         << "plot 'epochs.tsv' using 1:3 with linespoints lw 2 pt 7 title \"training loss\", "
         << "'' using 1:2 axes x1y2 with steps dt 2 lw 2 title \"learning rate (right)\"\n"
         << "unset logscale y2\nunset y2tics\nunset y2label\nset ytics mirror\n"
         << output("accuracy.png") << "set title \"test accuracy per epoch (%)\"\nset ylabel \"%\"\n"
         << "set yrange [0:100]\nset key outside right\n"
         << "plot 'epochs.tsv' using 1:4 with linespoints lw 2 pt 7 title \"top-1\", "
         << "'' using 1:5 with linespoints title \"many\", '' using 1:6 with linespoints title \"medium\", "
         << "'' using 1:7 with linespoints title \"few\"";
  if (bias) {
    script << ", '' using 1:8 with linespoints lw 2 dt 3 title \"conflict top-1\", "
           << "'' using 1:9 with linespoints lw 2 dt 4 title \"background-flip rate\"";
  }
  script << "\n"
         << output("per_class.png") << "set title \"accuracy of each class (last epoch) against its training images\"\n"
         << "set xlabel \"training images of the class (log scale)\"\nset ylabel \"test accuracy (%)\"\n"
         << "set logscale x\nset yrange [0:105]\nunset key\n"
         << "plot 'per_class.tsv' using 2:3 with points pt 7 ps 1.5, "
         << "'' using 2:3:4 with labels offset 0,1 font \",8\"\n"
         << "unset logscale x\n";
  if (reliability) {
    char title[96];
    std::snprintf(title, sizeof(title), "reliability diagram, last epoch (ECE %.2f %%, 15 bins)", last.calibration.ece);
    script << output("reliability.png") << "set title \"" << title << "\"\n"
           << "set xlabel \"confidence (top probability)\"\nset ylabel \"accuracy\"\nset xrange [0:1]\n"
           << "set yrange [0:1.1]\nset key inside top left\nset style fill solid 0.5 border\nset boxwidth 1.0/15\n"
           << "plot 'reliability.tsv' using 1:2 with boxes title \"accuracy of the bin\", "
           << "'' using 1:3 with points pt 7 title \"mean confidence of the bin\", "
           << "x with lines dt 2 lc rgb \"gray\" title \"perfect calibration\", "
           << "'' using 1:(($2 == $2 ? $2 : 0) + 0.03):(sprintf(\"%d\", $4)) with labels font \",8\" "
           << "title \"\"\n"
           << "set xrange [*:*]\nset style fill empty\n";
  }
  script << "unset grid\nset datafile separator whitespace\n"
         << "set terminal pngcairo noenhanced size " << (k > 20 ? 900 : 700) << "," << (k > 20 ? 850 : 650)
         << " font \"DejaVu Sans,10\"\n"
         << output("confusion.png") << "set title \"confusion matrix, last epoch (% of each true class)\"\n"
         << "set xlabel \"predicted class\"\nset ylabel \"true class\"\nset size ratio -1\n"
         << "set xrange [-0.5:" << k << "-0.5]\nset yrange [" << k << "-0.5:-0.5]\nset cbrange [0:100]\n"
         << "set palette defined (0 \"white\", 100 \"#08306b\")\nset tics out\n"
         << "plot 'confusion.tsv' matrix with image";
  if (k <= 20) {
    script << ", '' matrix using 1:2:($3 >= 0.5 ? sprintf(\"%.0f\", $3) : \"\") with labels font \",8\" "
              "textcolor rgb \"#d95f02\"";
  }
  script << "\n";
  std::vector<std::string> figures = {"epochs.png", "accuracy.png", "per_class.png", "confusion.png"};
  if (reliability) figures.push_back("reliability.png");
  run_gnuplot(script.str(), out_dir, figures);

  std::ostringstream md;
  md << "# Run report: " << run_dir << "\n\n"
     << summary.dataset << ", " << summary.model << ", method " << summary.method << ", loss " << summary.loss
     << " (reweight " << summary.reweight << "), " << summary.epochs << " epochs, seed " << summary.seed << "; "
     << summary.train_size << " training images, " << summary.test_size << " test images.\n\n"
     << "| epoch | top-1 | top-5 | many | medium | few |" << (bias ? " conflict top-1 | flip rate |" : "")
     << "\n|---|---|---|---|---|---|---|" << (bias ? "---|---|" : "") << "\n";
  for (const auto& [which, record] : {std::pair{"last", &summary.last}, std::pair{"best", &summary.best}}) {
    const auto& m = record->test;
    md << "| " << which << " (" << record->epoch << ") | " << fixed(m.top1) << " | " << fixed(m.top5) << " | "
       << fixed(m.many) << " | " << fixed(m.medium) << " | " << fixed(m.few) << " |";
    if (bias) {
      md << " " << fixed(record->bias ? std::optional(record->bias->conflict_top1) : std::nullopt) << " | "
         << fixed(record->bias ? std::optional(record->bias->bg_flip_rate) : std::nullopt) << " |";
    }
    md << "\n";
  }
  md << "\nAccuracies in percent on the test set"
     << (bias ? " (conflict: the conflict split; flip rate: the share "
                "of it predicted as the class whose background it "
                "carries)"
              : "")
     << "; best is "
     << (summary.best_is_selected_on_test ? "selected on the test set" : "selected on the validation set")
     << ".\n\n![training loss and learning rate](epochs.png)\n\n![accuracy per epoch](accuracy.png)\n\n"
     << "![accuracy of each class against its training images](per_class.png)\n\n"
     << "![confusion matrix](confusion.png)\n\n";
  if (reliability) {
    md << "Calibration of the last epoch: ECE " << fixed(last.calibration.ece)
       << " % (15 equal-width confidence bins), NLL " << fixed(last.calibration.nll) << ", Brier score "
       << fixed(last.calibration.brier)
       << "; each bar is the accuracy of the test images whose top probability falls in it, the number above it "
          "their count.\n\n![reliability diagram](reliability.png)\n\n";
  }
  md << "## Per class (last epoch)\n\n"
     << "| class | name | training images | test accuracy |\n|---|---|---|---|\n";
  for (size_t c = 0; c < k; ++c) {
    md << "| " << c << " | " << names[c] << " | " << counts[c] << " | " << fixed(per_class[c]) << " |\n";
  }
  write_file_atomic((fs::path(out_dir) / "report.md").string(), md.str());
  std::vector<std::string> written = {"report.md", "epochs.tsv", "per_class.tsv", "confusion.tsv"};
  if (reliability) written.push_back("reliability.tsv");
  written.insert(written.end(), figures.begin(), figures.end());
  for (auto& f : written) f = (fs::path(out_dir) / f).string();
  return written;
}

// differences.tsv and differences.png: each row's mean paired difference from the baseline row (table.json's
// differences), per compared metric, with its 95% interval as the bar (none for a single seed).
void paired_figure(const nlohmann::json& table, bool bias, const std::string& out_dir) {
  std::vector<std::pair<const char*, const char*>> series = {{"top1", "top-1"}};
  if (bias)
    series.insert(series.end(), {{"conflict_top1", "conflict top-1"}, {"bg_flip_rate", "background-flip rate"}});
  std::ostringstream rows;
  rows << "# row";
  for (const auto& s : series) rows << "\t" << s.first << "_mean\t" << s.first << "_low\t" << s.first << "_high";
  rows << "\n";
  size_t n_rows = 0;
  for (const auto& row : table["rows"]) {
    if (row["name"] == table["baseline"]) continue;
    ++n_rows;
    rows << row["name"].get<std::string>();
    for (const auto& s : series) {
      const auto& d = row["differences"].contains(s.first) ? row["differences"][s.first] : nlohmann::json();
      const auto& mean = d.is_null() ? d : d["mean"];
      // One seed: the bar is the point itself.
      rows << "\t" << cell(mean) << "\t" << cell(d.is_null() || d["low"].is_null() ? mean : d["low"]) << "\t"
           << cell(d.is_null() || d["high"].is_null() ? mean : d["high"]);
    }
    rows << "\n";
  }
  write_file_atomic((fs::path(out_dir) / "differences.tsv").string(), rows.str());
  std::ostringstream script;
  script << "set terminal pngcairo noenhanced size " << std::max<size_t>(800, 120 * n_rows)
         << ",480 font \"DejaVu Sans,10\"\n"
         << output("differences.png") << "set datafile separator \"\\t\"\nset datafile missing \"?\"\n"
         << "set title "
         << quoted("paired difference from " + table["baseline"].get<std::string>() +
                   " over the seeds both finished (bars: 95% confidence interval, Student t)")
         << "\nset ylabel \"percentage points\"\nset xrange [-0.5:" << double(n_rows) - 0.5 << "]\n"
         << "set grid ytics\nset xzeroaxis lt -1 lw 1\nset key outside top center horizontal\n"
         << "set xtics rotate by 30 right font \",9\"\nplot ";
  for (size_t i = 0; i < series.size(); ++i) {
    const double shift = (double(i) - double(series.size() - 1) / 2) * 0.15;
    script << (i ? ", '' " : "'differences.tsv' ") << "using ($0" << (shift < 0 ? "" : "+") << shift
           << "):" << 2 + 3 * i << ":" << 3 + 3 * i << ":" << 4 + 3 * i << (i == series.size() / 2 ? ":xtic(1)" : "")
           << " with yerrorbars pt 7 ps 1.2 title " << quoted(series[i].second);
  }
  script << "\n";
  run_gnuplot(script.str(), out_dir, {"differences.png"});
}

std::vector<std::string> sweep_report_of(const std::string& sweep_dir, const std::string& out_dir) {
  const std::string json_path = (fs::path(sweep_dir) / "table.json").string(),
                    md_path = (fs::path(sweep_dir) / "table.md").string();
  SMCL_CHECK(fs::is_regular_file(json_path) && fs::is_regular_file(md_path),
             "'" << sweep_dir << "' has no table.json and table.md: point smcl report --sweep at a sweep's folder "
                 << "(runs/<table name>) after smcl sweep (or smcl sweep --report) wrote them");
  const auto table = read_json(json_path);
  SMCL_CHECK(table.contains("rows") && table["rows"].is_array(), "'" << json_path << "' has no rows");
  struct Series {
    const char* key;
    const char* title;
  };
  std::vector<Series> series = {{"top1", "top-1"}, {"many", "many"}, {"medium", "medium"}, {"few", "few"}};
  bool bias = false;
  for (const auto& row : table["rows"]) bias = bias || !row["metrics"]["bg_flip_rate"].is_null();
  if (bias) {
    series.push_back({"conflict_top1", "conflict top-1"});
    series.push_back({"bg_flip_rate", "background-flip rate"});
  }
  fs::create_directories(out_dir);
  std::ostringstream rows;
  rows << "# row";
  for (const auto& s : series) rows << "\t" << s.key << "_mean\t" << s.key << "_std";
  rows << "\n";
  for (const auto& row : table["rows"]) {
    rows << row["name"].get<std::string>();
    for (const auto& s : series) {
      const auto& m = row["metrics"][s.key];
      rows << "\t" << (m.is_null() ? "?" : cell(m["mean"])) << "\t" << (m.is_null() ? "?" : cell(m["std"]));
    }
    rows << "\n";
  }
  write_file_atomic((fs::path(out_dir) / "table.tsv").string(), rows.str());
  const size_t n_rows = table["rows"].size();
  std::ostringstream script;
  script << "set terminal pngcairo noenhanced size " << std::max<size_t>(900, 150 * n_rows)
         << ",560 font \"DejaVu Sans,10\"\n"
         << output("table.png") << "set datafile separator \"\\t\"\nset datafile missing \"?\"\n"
         << "set title " << quoted(table.value("title", "") + " (mean over seeds, bars: +- one sample std)") << "\n"
         << "set style data histograms\nset style histogram errorbars gap 2 lw 1\n"
         << "set style fill solid 0.8 border -1\nset boxwidth 0.9\nset ylabel \"%\"\nset yrange [0:105]\n"
         << "set grid ytics\nset key outside top center horizontal\nset xtics rotate by 30 right font \",9\"\nplot ";
  for (size_t i = 0; i < series.size(); ++i) {
    script << (i ? ", '' " : "'table.tsv' ") << "using " << 2 + 2 * i << ":" << 3 + 2 * i << (i == 0 ? ":xtic(1)" : "")
           << " title " << quoted(series[i].title);
  }
  script << "\n";
  run_gnuplot(script.str(), out_dir, {"table.png"});
  std::string md = "# Sweep report: " + sweep_dir + "\n\n" + read_file(md_path) +
                   "\n![every row's metrics, mean over seeds with +- one sample std](table.png)\n";
  std::vector<std::string> written = {"report.md", "table.tsv", "table.png"};
  if (table.contains("baseline") && table["baseline"].is_string()) {
    paired_figure(table, bias, out_dir);
    md += "\n![every row's paired difference from " + table["baseline"].get<std::string>() +
          ", with its 95% confidence interval](differences.png)\n";
    written.insert(written.end(), {"differences.tsv", "differences.png"});
  }
  write_file_atomic((fs::path(out_dir) / "report.md").string(), md);
  for (auto& f : written) f = (fs::path(out_dir) / f).string();
  return written;
}

}  // namespace

// A summary.json, metrics.jsonl or table.json that is JSON but not of the shape smcl writes (edited, or of
// another program) is an error naming the folder, not an internal error.
std::vector<std::string> run_report(const std::string& run_dir, const std::string& out_dir) {
  try {
    return run_report_of(run_dir, out_dir);
  } catch (const nlohmann::json::exception& e) {
    throw Error("the files of run '" + run_dir +
                "' are not as smcl writes them (summary.json, metrics.jsonl): " + e.what());
  }
}

std::vector<std::string> sweep_report(const std::string& sweep_dir, const std::string& out_dir) {
  try {
    return sweep_report_of(sweep_dir, out_dir);
  } catch (const nlohmann::json::exception& e) {
    throw Error("'" + sweep_dir + "/table.json' is not as smcl sweep writes it: " + e.what());
  }
}

}  // namespace smcl::report
