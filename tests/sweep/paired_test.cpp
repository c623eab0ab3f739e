// Paired statistics of the sweep tables (issue: results people can trust). Expected values: scipy 1.10
// (scipy.stats.t.ppf) and hand computations written out in the comments.
#include <gtest/gtest.h>

#include <cmath>
#include <tuple>

#include "smcl/core/error.h"
#include "smcl/sweep/sweep.h"

namespace smcl::sweep {
namespace {

MetricStat stat(std::vector<int64_t> seeds, std::vector<double> values) {
  MetricStat s;
  s.seeds = std::move(seeds);
  s.values = std::move(values);
  return s;
}

}  // namespace

TEST(PairedStatistics, StudentTQuantilesAreScipys) {
  // scipy.stats.t.ppf(p, df)
  const std::vector<std::tuple<double, int64_t, double>> cases = {
      {0.975, 1, 12.706204736432095},    {0.975, 2, 4.302652729911275},  {0.975, 3, 3.182446305284263},
      {0.975, 4, 2.7764451051977987},    {0.975, 9, 2.2621571627409915}, {0.975, 29, 2.045229642132703},
      {0.975, 1000, 1.9623390808264074}, {0.995, 5, 4.032142983557536},  {0.6, 7, 0.2631668613520166}};
  for (const auto& [p, df, expected] : cases) {
    EXPECT_NEAR(student_t_quantile(p, df), expected, 1e-9 * expected) << "p " << p << ", df " << df;
  }
  EXPECT_NEAR(student_t_quantile(0.025, 4), -2.7764451051977987, 1e-9);
  EXPECT_THROW(student_t_quantile(1.0, 3), Error);
  EXPECT_THROW(student_t_quantile(0.9, 0), Error);
}

TEST(PairedStatistics, PairsBySeedAndGivesTheTInterval) {
  // Seeds 0, 1, 2 are in both (seed 5 only in the row): differences 72-70, 75-72, 71-71 = 2, 3, 0.
  // mean 5/3; s = sqrt(((1/3)^2 + (4/3)^2 + (5/3)^2) / 2) = sqrt(7/3); half width t(0.975, 2) s / sqrt(3)
  // = 4.302652729911275 * 1.5275252316519468 / 1.7320508075688772 = 3.794583...: [-2.1279164, 5.4612497].
  auto d = paired_difference(stat({0, 1, 2, 5}, {72, 75, 71, 80}), stat({2, 0, 1}, {71, 70, 72}));
  EXPECT_EQ(d.seeds, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(d.baseline_values, (std::vector<double>{70, 72, 71}));
  EXPECT_EQ(d.differences, (std::vector<double>{2, 3, 0}));
  EXPECT_NEAR(d.mean, 5.0 / 3, 1e-12);
  ASSERT_TRUE(d.low && d.high);
  EXPECT_NEAR(*d.low, -2.127916366930095, 1e-9);
  EXPECT_NEAR(*d.high, 5.461249700263428, 1e-9);
  EXPECT_FALSE(d.excludes_zero());

  // Differences 1.0, 1.2, 0.8, 1.1: mean 1.025, s = sqrt(0.0875 / 3), t(0.975, 3) = 3.182446305284263:
  // [0.7532469, 1.2967531], which excludes zero.
  auto clear = paired_difference(stat({0, 1, 2, 3}, {11.0, 21.2, 30.8, 41.1}), stat({0, 1, 2, 3}, {10, 20, 30, 40}));
  ASSERT_TRUE(clear.low && clear.high);
  EXPECT_NEAR(*clear.low, 0.7532469116203511, 1e-9);
  EXPECT_NEAR(*clear.high, 1.2967530883796488, 1e-9);
  EXPECT_TRUE(clear.excludes_zero());
  auto lower = paired_difference(stat({0, 1, 2, 3}, {10, 20, 30, 40}), stat({0, 1, 2, 3}, {11.0, 21.2, 30.8, 41.1}));
  EXPECT_TRUE(lower.excludes_zero());
  EXPECT_NEAR(lower.mean, -1.025, 1e-12);

  // One shared seed: the difference, no interval; none shared: nothing.
  auto one = paired_difference(stat({4, 7}, {50, 60}), stat({7}, {58.5}));
  EXPECT_NEAR(one.mean, 1.5, 1e-12);
  EXPECT_FALSE(one.low.has_value());
  EXPECT_FALSE(one.excludes_zero());
  EXPECT_TRUE(paired_difference(stat({1}, {50}), stat({2}, {50})).seeds.empty());
}

TEST(PairedStatistics, TheTableShowsTheDifferencesAndTheJsonCarriesThem) {
  Table table;
  table.name = "t";
  table.baseline = "DRW";
  table.seeds = {0, 1, 2};
  std::vector<RowResult> rows(2);
  rows[0].name = "DRW";
  rows[1].name = "DRW+SMCL";
  for (auto& row : rows) {
    row.seeds = 3;
    for (const auto& key : kMetricKeys) row.metrics[key] = {};
  }
  rows[0].metrics["top1"] = stat({0, 1, 2}, {70, 72, 71});
  rows[1].metrics["top1"] = stat({0, 1, 2}, {72, 75, 71});
  rows[1].differences["top1"] = paired_difference(rows[1].metrics["top1"], rows[0].metrics["top1"]);
  const std::string md = markdown(table, rows);
  EXPECT_NE(md.find("| Δ top-1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| baseline |"), std::string::npos) << md;
  EXPECT_NE(md.find("| +1.67 [-2.13, +5.46] |"), std::string::npos) << md;
  const auto json = to_json(table, rows);
  EXPECT_EQ(json["baseline"], "DRW");
  const auto& d = json["rows"][1]["differences"]["top1"];
  EXPECT_EQ(d["differences"], nlohmann::json({2.0, 3.0, 0.0}));
  EXPECT_EQ(d["excludes_zero"], false);
  EXPECT_NEAR(d["low"].get<double>(), -2.127916366930095, 1e-9);
  EXPECT_EQ(json["rows"][1]["metrics"]["top1"]["seeds"], nlohmann::json({0, 1, 2}));
  EXPECT_TRUE(json["rows"][0]["differences"].empty());
}

// sweep --jobs on GPUs: the ids of CUDA_VISIBLE_DEVICES as listed (trimmed, at most as many as libtorch sees),
// else libtorch's own numbering; none on a CPU build.
TEST(Sweep, VisibleGpusAreTheListedIdsOrLibtorchsNumbering) {
  using Ids = std::vector<std::string>;
  EXPECT_EQ(visible_gpus(nullptr, 0), Ids{});
  EXPECT_EQ(visible_gpus(nullptr, 3), (Ids{"0", "1", "2"}));
  EXPECT_EQ(visible_gpus("", 2), (Ids{"0", "1"}));
  EXPECT_EQ(visible_gpus("3,5", 2), (Ids{"3", "5"}));
  EXPECT_EQ(visible_gpus(" 3 , GPU-8a1f ,7", 2), (Ids{"3", "GPU-8a1f"}));
  EXPECT_EQ(visible_gpus("2,4", 0), Ids{});
}

}  // namespace smcl::sweep
