// The closed-form ResNet-8 and the JSON readers shared by the tests that compare a step with a golden file of
// tests/reference/ (make_smcl_golden.py's model, also used by make_mixing_golden.py and make_decoupled_golden.py).
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "smcl/models/network.h"

namespace smcl::test {

// make_smcl_golden.py's parameter_values: parameter number `index` is amplitude * sin(0.37 i + 1.3 index), i the
// flat element index, amplitude 1/sqrt(fan-in) for rank >= 2 and 0.5 otherwise, plus 1 for batch-norm scales.
// expected_names: [[name, shape], ...] in registration order, as the golden lists them.
inline void set_reference_parameters(models::Network& model, const nlohmann::json& expected_names) {
  torch::NoGradGuard no_grad;
  auto named = model->named_parameters();
  ASSERT_EQ(named.size(), expected_names.size());
  int64_t index = 0;
  for (auto& item : named) {
    const auto name = expected_names[index][0].get<std::string>();
    const auto shape = expected_names[index][1].get<std::vector<int64_t>>();
    ASSERT_EQ(item.key(), name);
    ASSERT_EQ(item.value().sizes().vec(), shape) << name;
    const int64_t n = item.value().numel();
    const int64_t fan_in = item.value().dim() >= 2 ? n / item.value().size(0) : 0;
    const double amplitude = fan_in ? 1.0 / std::sqrt(double(fan_in)) : 0.5;
    auto i = torch::arange(n, torch::kFloat64);
    auto values = amplitude * torch::sin(0.37 * i + 1.3 * double(index));
    bool bn_scale = ("." + name).find(".bn") != std::string::npos && name.size() >= 6 &&
                    name.compare(name.size() - 6, 6, "weight") == 0;
    if (bn_scale) values = values + 1.0;
    item.value().copy_(values.view(item.value().sizes()).to(torch::kFloat32));
    ++index;
  }
}

// A nested JSON array of numbers as a float32 tensor of the given shape.
inline torch::Tensor tensor_of(const nlohmann::json& nested, torch::IntArrayRef shape) {
  std::vector<float> flat;
  std::function<void(const nlohmann::json&)> walk = [&](const nlohmann::json& j) {
    if (j.is_array()) {
      for (const auto& x : j) walk(x);
    } else {
      flat.push_back(j.get<float>());
    }
  };
  walk(nested);
  return torch::tensor(flat).view(shape);
}

// A JSON array of rows of numbers as a float64 [rows, columns] tensor.
inline torch::Tensor matrix(const nlohmann::json& rows) {
  std::vector<torch::Tensor> out;
  for (const auto& row : rows) out.push_back(torch::tensor(row.get<std::vector<double>>(), torch::kFloat64));
  return torch::stack(out);
}

inline torch::Tensor labels_of(const nlohmann::json& j) { return torch::tensor(j.get<std::vector<int64_t>>()); }

inline std::vector<int64_t> to_vector(const torch::Tensor& t) {
  auto c = t.to(torch::kInt64).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

}  // namespace smcl::test
