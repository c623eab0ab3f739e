// smcl report: figures (gnuplot) and a report.md of a run folder, or of a sweep's table with --sweep.
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "smcl/report/report.h"

namespace smcl::app {

void add_report(CLI::App& app) {
  auto* command = app.add_subcommand("report", "draw a run's (or with --sweep a table's) figures and write report.md");
  auto dir = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto sweep = std::make_shared<bool>(false);
  command->add_option("dir", *dir, "a run folder (smcl train), or with --sweep a sweep's folder (runs/<table>)")
      ->required();
  command->add_flag("--sweep", *sweep, "DIR is a sweep's folder holding table.md and table.json");
  command->add_option("-o,--out", *out, "folder for the figures and report.md (default: DIR/report)");
  command->callback([=] {
    const std::string out_dir = out->empty() ? (std::filesystem::path(*dir) / "report").string() : *out;
    auto written = *sweep ? report::sweep_report(*dir, out_dir) : report::run_report(*dir, out_dir);
    for (const auto& path : written) std::printf("wrote %s\n", path.c_str());
  });
}

}  // namespace smcl::app
