#include "smcl/data/long_tail.h"

#include <gtest/gtest.h>

#include <numeric>

#include "smcl/core/error.h"
#include "smcl/data/datasets.h"
#include "test_util.h"

namespace smcl::data {
namespace {

int64_t sum(const std::vector<int64_t>& v) { return std::accumulate(v.begin(), v.end(), int64_t(0)); }

}  // namespace

TEST(LongTail, CountsMatchTheSpecTable) {
  EXPECT_EQ(long_tail_counts(config::Profile::kExp, 10, 5000, 100),
            (std::vector<int64_t>{5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50}));
  EXPECT_EQ(long_tail_counts(config::Profile::kExp, 10, 5000, 50),
            (std::vector<int64_t>{5000, 3237, 2096, 1357, 878, 568, 368, 238, 154, 100}));
  EXPECT_EQ(long_tail_counts(config::Profile::kExp, 10, 5000, 10),
            (std::vector<int64_t>{5000, 3871, 2997, 2320, 1796, 1391, 1077, 834, 645, 500}));
  EXPECT_EQ(sum(long_tail_counts(config::Profile::kExp, 10, 5000, 100)), 12406);
  EXPECT_EQ(sum(long_tail_counts(config::Profile::kExp, 10, 5000, 50)), 13996);
  EXPECT_EQ(sum(long_tail_counts(config::Profile::kExp, 10, 5000, 10)), 20431);
  auto c100 = long_tail_counts(config::Profile::kExp, 100, 500, 100);
  EXPECT_EQ(sum(c100), 10847);
  EXPECT_EQ(std::vector<int64_t>(c100.begin(), c100.begin() + 5), (std::vector<int64_t>{500, 477, 455, 434, 415}));
  EXPECT_EQ(std::vector<int64_t>(c100.end() - 5, c100.end()), (std::vector<int64_t>{6, 5, 5, 5, 5}));
  EXPECT_EQ(sum(long_tail_counts(config::Profile::kExp, 100, 500, 50)), 12608);
  EXPECT_EQ(sum(long_tail_counts(config::Profile::kExp, 100, 500, 10)), 19573);
  // CIFAR-100-LT rho 100: 35 many / 35 medium / 30 few.
  auto groups = shot_groups(c100, 100, 20);
  EXPECT_EQ(std::count(groups.begin(), groups.end(), 0), 35);
  EXPECT_EQ(std::count(groups.begin(), groups.end(), 1), 35);
  EXPECT_EQ(std::count(groups.begin(), groups.end(), 2), 30);
  EXPECT_EQ(long_tail_counts(config::Profile::kStep, 10, 5000, 100),
            (std::vector<int64_t>{5000, 5000, 5000, 5000, 5000, 50, 50, 50, 50, 50}));
}

TEST(LongTail, SelectionIsIndexForIndexNumpys) {
  // Golden: numpy's legacy seed + shuffle per class (tests/reference/make_golden.py).
  for (const auto& c : test::read_json(test::golden("long_tail.json"))) {
    const int64_t n = c["n"], k = c["num_classes"];
    std::vector<int64_t> labels;
    for (int64_t i = 0; i < n; ++i) labels.push_back((i * 7919) % k);
    auto counts = long_tail_counts(test::choice<config::Profile>(c["profile"]), k, c["max_per_class"],
                                   c["imbalance_ratio"].get<double>());
    EXPECT_EQ(counts, c["counts"].get<std::vector<int64_t>>());
    auto kept = long_tail_indices(torch::tensor(labels, torch::kInt64), counts, c["seed"].get<uint32_t>());
    EXPECT_EQ(kept, c["kept"].get<std::vector<int64_t>>()) << "seed " << c["seed"] << " profile " << c["profile"];
  }
}

TEST(LongTail, AskingForMoreImagesThanAClassHasIsAnError) {
  auto labels = torch::tensor(std::vector<int64_t>{0, 1, 0, 1, 1}, torch::kInt64);
  std::string message = test::error_of([&] { long_tail_indices(labels, {3, 1}, 0); });
  EXPECT_NE(message.find("class 0 has 2 training images"), std::string::npos) << message;
}

TEST(DatasetHelpers, CountsAndHostVectorsAndClassNames) {
  Dataset set{torch::zeros({5, 1, 2, 2}, torch::kUInt8), nullptr, torch::tensor({2, 0, 2, 1, 2}, torch::kInt64), 4};
  EXPECT_EQ(class_counts(set), (std::vector<int64_t>{1, 1, 3, 0}));  // an empty class counts 0
  // Any integer type and layout: every third value of an int32 range is a strided view.
  EXPECT_EQ(to_host_vector(torch::arange(10, torch::kInt32).slice(0, 0, 10, 3)), (std::vector<int64_t>{0, 3, 6, 9}));
  LongTailedData lt;
  lt.class_names = {"cat", "dog"};
  EXPECT_EQ(lt.class_name(1), "dog");
  EXPECT_EQ(lt.class_name(2), "class 2");  // beyond the names: numbered
}

}  // namespace smcl::data
