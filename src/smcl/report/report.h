// `smcl report`: the figures and a report.md of one run folder or of a sweep's table, drawn by gnuplot.
#pragma once

#include <string>
#include <vector>

namespace smcl::report {

// A run folder (metrics.jsonl, summary.json; classes.txt when the set has class names) -> in out_dir:
// epochs.png (training loss and learning rate per epoch), accuracy.png (top-1, many / medium / few and, for
// background-biased sets, the conflict top-1 and flip rate per epoch), per_class.png (each class's accuracy
// against its training count), confusion.png (the last epoch's confusion matrix, each row in percent of the
// class), the data they plot (*.tsv) and report.md embedding them with the summary tables. Returns the files
// written. Throws smcl::Error naming a missing or malformed file.
std::vector<std::string> run_report(const std::string& run_dir, const std::string& out_dir);

// A sweep's folder (runs/<table>, holding table.md and table.json written by smcl sweep) -> in out_dir:
// table.png (one bar chart: every row's mean of each metric with a bar of +- one sample std over its seeds),
// table.tsv and report.md embedding it with the table.
std::vector<std::string> sweep_report(const std::string& sweep_dir, const std::string& out_dir);

}  // namespace smcl::report
