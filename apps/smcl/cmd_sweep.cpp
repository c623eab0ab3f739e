// smcl sweep: train every missing run of a results table and print / write the table.
#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/core/stop.h"
#include "smcl/sweep/sweep.h"
#include "smcl/train/fit.h"

namespace smcl::app {

void add_sweep(CLI::App& app) {
  auto* command = app.add_subcommand("sweep", "run the rows of a results table (tables/*.yaml) and write the table");
  auto table_file = std::make_shared<std::string>();
  auto runs = std::make_shared<std::string>("runs");
  auto only = std::make_shared<std::vector<std::string>>();
  auto seeds = std::make_shared<std::vector<int64_t>>();
  auto report = std::make_shared<bool>(false);
  auto out = std::make_shared<std::string>();
  command->add_option("--table,-t", *table_file, "table file: name, seeds and rows (see tables/)")->required();
  command->add_option("--runs", *runs, "runs root; each run goes to RUNS/<table name>/<row>/seed<k>")
      ->capture_default_str();
  command->add_option("--only", *only, "train only these rows (folder names, repeatable); the table lists all");
  command->add_option("--seeds", *seeds, "train only these seeds of the table (e.g. one seed of every row first)");
  command->add_flag("--report", *report, "train nothing: print and write the table of the runs finished so far");
  auto baseline = std::make_shared<std::string>();
  command->add_option("--baseline", *baseline,
                      "compare every row with this row (its name) instead of the table's baseline; with --report "
                      "and --out, the table against another row without training anything");
  auto rerun_broken = std::make_shared<bool>(false);
  command->add_flag("--rerun-broken", *rerun_broken,
                    "train broken run folders anew (each is moved to <folder>.broken first) instead of skipping them");
  command->add_option("--out,-o", *out,
                      "markdown file to write, and beside it the same as .json (default: RUNS/<table name>/table.md)");
  command->callback([=] {
    install_stop_handlers();
    train::require_one_process("smcl sweep");
    auto table = sweep::load_table(*table_file);
    if (!baseline->empty()) {
      SMCL_CHECK(std::any_of(table.rows.begin(), table.rows.end(), [&](const auto& r) { return r.name == *baseline; }),
                 "sweep --baseline: '" << *baseline << "' is not the name of a row of " << table.file);
      table.baseline = *baseline;
    }
    int64_t broken = *report ? 0 : sweep::run(table, *runs, *only, *seeds, *rerun_broken);
    auto rows = sweep::results(table, *runs);
    std::string text = sweep::markdown(table, rows);
    std::filesystem::path path =
        out->empty() ? std::filesystem::path(*runs) / table.name / "table.md" : std::filesystem::path(*out);
    std::filesystem::create_directories(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
    write_file_atomic(path.string(), text);
    std::filesystem::path json_path = path;
    json_path.replace_extension(".json");
    write_file_atomic(json_path.string(), sweep::to_json(table, rows).dump(2) + "\n");
    std::printf("\n%s\n(written to %s and %s)\n", text.c_str(), path.c_str(), json_path.c_str());
    SMCL_CHECK(broken == 0, broken << " run folder(s) of the table are broken and were skipped (named above); "
                                   << "rerun them with --rerun-broken");
  });
}

}  // namespace smcl::app
