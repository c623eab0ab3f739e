#include "smcl/augment/masking.h"

#include <gtest/gtest.h>

namespace smcl::augment {

namespace {
std::vector<int64_t> values(const torch::Tensor& t) {
  auto c = t.to(torch::kInt64).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}
}  // namespace

TEST(Masking, BoxesAreCentredOnEachPeakAndClipped) {
  // 32 x 32, u = 0.3: c = floor(32 * sqrt(0.3)) = 17, half = 8; rows [i - 8, i + 8) clipped to [0, 32].
  auto peaks = torch::tensor(std::vector<int64_t>{16, 16, 3, 30, 31, 0}).view({3, 2});
  auto boxes = boxes_at(peaks, 0.3, 32, 32, /*per_batch=*/false);
  EXPECT_EQ(values(boxes.top), (std::vector<int64_t>{8, 0, 23}));
  EXPECT_EQ(values(boxes.bottom), (std::vector<int64_t>{24, 11, 32}));
  EXPECT_EQ(values(boxes.left), (std::vector<int64_t>{8, 22, 0}));
  EXPECT_EQ(values(boxes.right), (std::vector<int64_t>{24, 32, 8}));
  auto lambda = boxes.lambda;
  EXPECT_FLOAT_EQ(lambda[0].item<float>(), 256.0f / 1024);
  EXPECT_FLOAT_EQ(lambda[1].item<float>(), 110.0f / 1024);
  EXPECT_FLOAT_EQ(lambda[2].item<float>(), 72.0f / 1024);
}

TEST(Masking, NonSquareImagesUseEachSideAndPerBatchCopiesSampleZero) {
  // 20 x 10, u = 0.5: rows c = floor(20 * 0.7071) = 14 (half 7), columns c = floor(7.07) = 7 (half 3).
  auto peaks = torch::tensor(std::vector<int64_t>{2, 9, 10, 5}).view({2, 2});
  auto boxes = boxes_at(peaks, 0.5, 20, 10, /*per_batch=*/true);
  EXPECT_EQ(values(boxes.top), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(values(boxes.bottom), (std::vector<int64_t>{9, 9}));
  EXPECT_EQ(values(boxes.left), (std::vector<int64_t>{6, 6}));
  EXPECT_EQ(values(boxes.right), (std::vector<int64_t>{10, 10}));
  EXPECT_FLOAT_EQ(boxes.lambda[1].item<float>(), 36.0f / 200);
}

TEST(Masking, TinyUGivesEmptyBoxesAndZeroLambda) {
  auto boxes = boxes_at(torch::tensor(std::vector<int64_t>{4, 4}).view({1, 2}), 0.001, 8, 8, false);
  EXPECT_EQ(boxes.lambda[0].item<float>(), 0.0f);
  EXPECT_FALSE(box_mask(boxes, 8, 8).any().item<bool>());
}

TEST(Masking, MaskedImagesPasteTheFillInsideTheBoxOnly) {
  auto source = torch::full({2, 3, 6, 6}, 1.0f);
  auto fill = torch::full({2, 3, 6, 6}, 5.0f);
  MaskBoxes boxes{torch::tensor(std::vector<int64_t>{1, 0}), torch::tensor(std::vector<int64_t>{3, 6}),
                  torch::tensor(std::vector<int64_t>{2, 0}), torch::tensor(std::vector<int64_t>{5, 1}),
                  torch::tensor({6.0f / 36, 6.0f / 36})};
  auto pasted = masked_images(source, fill, boxes);
  auto zeroed = masked_images(source, torch::Tensor(), boxes);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t r = 0; r < 6; ++r) {
      for (int64_t c = 0; c < 6; ++c) {
        bool inside = b == 0 ? (r >= 1 && r < 3 && c >= 2 && c < 5) : (c < 1);
        for (int64_t ch = 0; ch < 3; ++ch) {
          EXPECT_EQ(pasted[b][ch][r][c].item<float>(), inside ? 5.0f : 1.0f) << b << " " << r << " " << c;
          EXPECT_EQ(zeroed[b][ch][r][c].item<float>(), inside ? 0.0f : 1.0f) << b << " " << r << " " << c;
        }
      }
    }
  }
}

}  // namespace smcl::augment
