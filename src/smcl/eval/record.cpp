#include "smcl/eval/record.h"

#include <limits>

#include "smcl/core/error.h"

namespace smcl::eval {

nlohmann::json to_json(const Metrics& m, bool with_details) {
  auto optional = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json j = {{"top1", m.top1},           {"top5", m.top5},
                      {"many", optional(m.many)}, {"medium", optional(m.medium)},
                      {"few", optional(m.few)},   {"per_class", m.per_class}};
  auto calibration = [](const std::optional<eval::Calibration>& c) {
    return c ? nlohmann::json{{"ece", c->ece}, {"nll", c->nll}, {"brier", c->brier}} : nlohmann::json(nullptr);
  };
  j["ece"] = m.calibration.ece;
  j["nll"] = m.calibration.nll;
  j["brier"] = m.calibration.brier;
  j["calibration"] = {{"many", calibration(m.many_calibration)},
                      {"medium", calibration(m.medium_calibration)},
                      {"few", calibration(m.few_calibration)}};
  if (with_details) {
    j["confusion"] = m.confusion;
    j["reliability"] = {
        {"count", m.reliability.count}, {"confidence", m.reliability.confidence}, {"accuracy", m.reliability.accuracy}};
  }
  return j;
}

nlohmann::json to_json(const EpochRecord& record, bool with_details) {
  nlohmann::json j = to_json(record.test, with_details);
  j["epoch"] = record.epoch;
  if (record.val) j["val"] = to_json(*record.val, false);
  if (record.bias) {
    j["conflict_top1"] = record.bias->conflict_top1;
    j["bg_flip_rate"] = record.bias->bg_flip_rate;
  }
  if (record.temperature) j["temperature"] = *record.temperature;
  if (const auto& t = record.training) {
    j["lr"] = t->lr;
    j["train_loss"] = t->loss;
    if (t->top1) j["train_top1"] = *t->top1;
    if (t->images_per_second) j["train_images_per_second"] = *t->images_per_second;
    if (t->seconds) j["epoch_seconds"] = *t->seconds;
  }
  return j;
}

namespace {

// The value of `key`: nullopt where it is absent or null; an error naming origin and key where it is not a number.
std::optional<double> optional_number(const nlohmann::json& j, const char* key, const std::string& origin) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  SMCL_CHECK(j[key].is_number(), origin << ": '" << key << "' is " << j[key].type_name() << ", not a number");
  return j[key].get<double>();
}

double number(const nlohmann::json& j, const char* key, const std::string& origin) {
  auto value = optional_number(j, key, origin);
  SMCL_CHECK(value, origin << ": '" << key << "' is missing");
  return *value;
}

std::optional<Calibration> calibration_from_json(const nlohmann::json& j, const std::string& origin) {
  if (j.is_null()) return std::nullopt;
  SMCL_CHECK(j.is_object(), origin << " is not an object");
  return Calibration{number(j, "ece", origin), number(j, "nll", origin), number(j, "brier", origin)};
}

}  // namespace

Metrics metrics_from_json(const nlohmann::json& j, const std::string& origin) {
  SMCL_CHECK(j.is_object(), origin << " is not a JSON object of metrics");
  Metrics m;
  try {
    m.top1 = number(j, "top1", origin);
    m.top5 = number(j, "top5", origin);
    m.many = optional_number(j, "many", origin);
    m.medium = optional_number(j, "medium", origin);
    m.few = optional_number(j, "few", origin);
    SMCL_CHECK(j.contains("per_class"), origin << ": 'per_class' is missing");
    m.per_class = j["per_class"].get<std::vector<double>>();
    // Calibration was not measured by the first versions of smcl: NaN there.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    m.calibration = {optional_number(j, "ece", origin).value_or(nan), optional_number(j, "nll", origin).value_or(nan),
                     optional_number(j, "brier", origin).value_or(nan)};
    if (j.contains("calibration")) {
      const auto& groups = j["calibration"];
      m.many_calibration = calibration_from_json(groups.value("many", nlohmann::json()), origin + ": calibration.many");
      m.medium_calibration =
          calibration_from_json(groups.value("medium", nlohmann::json()), origin + ": calibration.medium");
      m.few_calibration = calibration_from_json(groups.value("few", nlohmann::json()), origin + ": calibration.few");
    }
    if (j.contains("confusion")) m.confusion = j["confusion"].get<std::vector<std::vector<int64_t>>>();
    if (j.contains("reliability")) {
      const auto& r = j["reliability"];
      m.reliability = {r.at("count").get<std::vector<int64_t>>(), r.at("confidence").get<std::vector<double>>(),
                       r.at("accuracy").get<std::vector<double>>()};
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(origin + " is not as smcl writes metrics: " + e.what());
  }
  return m;
}

EpochRecord epoch_record_from_json(const nlohmann::json& j, const std::string& origin) {
  EpochRecord record;
  record.test = metrics_from_json(j, origin);
  record.epoch = int64_t(number(j, "epoch", origin));
  if (j.contains("val")) record.val = metrics_from_json(j["val"], origin + ": val");
  auto conflict = optional_number(j, "conflict_top1", origin), flip = optional_number(j, "bg_flip_rate", origin);
  if (conflict && flip) record.bias = BiasMetrics{*conflict, *flip};
  record.temperature = optional_number(j, "temperature", origin);
  if (j.contains("lr") && j.contains("train_loss")) {
    record.training = EpochTraining{
        number(j, "lr", origin), number(j, "train_loss", origin), optional_number(j, "train_top1", origin),
        optional_number(j, "train_images_per_second", origin), optional_number(j, "epoch_seconds", origin)};
  }
  return record;
}

}  // namespace smcl::eval
