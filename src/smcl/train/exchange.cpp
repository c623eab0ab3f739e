#include "smcl/train/exchange.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <tuple>

#include "smcl/core/error.h"
#include "smcl/core/io.h"
#include "smcl/data/pickle.h"

namespace smcl::train {
namespace {

using data::pickle::Value;
using data::pickle::ValuePtr;
using Kind = Value::Kind;

torch::ScalarType storage_dtype(const std::string& type, const std::string& where) {
  static const std::map<std::string, torch::ScalarType> types = {
      {"torch.FloatStorage", torch::kFloat32},  {"torch.DoubleStorage", torch::kFloat64},
      {"torch.HalfStorage", torch::kFloat16},   {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kInt64},     {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},    {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},     {"torch.BoolStorage", torch::kBool}};
  auto it = types.find(type);
  SMCL_CHECK(it != types.end(), where << ": unsupported storage type '" << type << "'");
  return it->second;
}

std::vector<int64_t> int_tuple(const ValuePtr& v, const std::string& where) {
  SMCL_CHECK(v && v->kind == Kind::Tuple, where << ": expected a tuple of integers");
  std::vector<int64_t> out;
  for (const auto& item : v->items) {
    SMCL_CHECK(item->kind == Kind::Int, where << ": expected a tuple of integers");
    out.push_back(item->int_value);
  }
  return out;
}

// Rebuilds the tensors of one zip-format file: storages are its records data/<key>, little-endian.
class TensorReader {
 public:
  TensorReader(caffe2::serialize::PyTorchStreamReader& reader, std::string path)
      : reader_(reader), path_(std::move(path)) {}

  // A torch._utils._rebuild_tensor_v2 (or _rebuild_parameter around one) call -> the tensor.
  torch::Tensor tensor(const ValuePtr& v, const std::string& key) {
    const std::string where = "'" + path_ + "' entry '" + key + "'";
    const std::string name = v ? v->call_name() : "";
    if (name == "torch._utils._rebuild_parameter") {
      SMCL_CHECK(v->items[1]->kind == Kind::Tuple && !v->items[1]->items.empty(), where << ": malformed parameter");
      return tensor(v->items[1]->items[0], key);
    }
    SMCL_CHECK(name == "torch._utils._rebuild_tensor_v2",
               where << " is not a tensor (" << (name.empty() ? "a plain value" : name) << ")");
    const auto& args = v->items[1]->items;
    SMCL_CHECK(args.size() >= 4 && args[1]->kind == Kind::Int, where << ": malformed tensor");
    auto storage = this->storage(args[0], where);
    return storage.as_strided(int_tuple(args[2], where), int_tuple(args[3], where), args[1]->int_value).clone();
  }

 private:
  torch::Tensor storage(const ValuePtr& v, const std::string& where) {
    SMCL_CHECK(v && v->call_name() == data::pickle::kPersistentLoad, where << ": the tensor has no storage reference");
    const auto& pid = v->items[1];
    SMCL_CHECK(pid->kind == Kind::Tuple && pid->items.size() >= 5 && pid->items[1]->kind == Kind::Global &&
                   pid->items[2]->is_text() && pid->items[4]->kind == Kind::Int,
               where << ": malformed storage reference");
    const std::string& key = pid->items[2]->text;
    auto cached = storages_.find(key);
    if (cached != storages_.end()) return cached->second;
    const auto dtype = storage_dtype(pid->items[1]->text, where);
    const int64_t numel = pid->items[4]->int_value;
    at::DataPtr data;
    size_t size = 0;
    try {
      std::tie(data, size) = reader_.getRecord("data/" + key);
    } catch (const c10::Error&) {
      throw Error(where + ": the file lacks its storage record data/" + key + " (truncated?)");
    }
    const size_t expected = size_t(numel) * c10::elementSize(dtype);
    SMCL_CHECK(size >= expected, where << ": storage data/" << key << " holds " << size << " bytes, expected "
                                      << expected);
    auto storage = torch::empty({numel}, dtype);
    std::memcpy(storage.data_ptr(), data.get(), expected);
    storages_[key] = storage;
    return storage;
  }

  caffe2::serialize::PyTorchStreamReader& reader_;
  std::string path_;
  std::map<std::string, torch::Tensor> storages_;
};

// The items of a dict or OrderedDict value (also as libtorch's pickler writes one: wrapped in
// torch.jit._pickle.restore_type_tag); nullptr when it is neither.
const std::vector<std::pair<ValuePtr, ValuePtr>>* dict_items(const ValuePtr& v) {
  if (v && v->kind == Kind::Dict) return &v->entries;
  if (v && v->call_name() == "collections.OrderedDict") return &v->entries;
  if (v && v->call_name() == "torch.jit._pickle.restore_type_tag" && v->items[1]->kind == Kind::Tuple &&
      !v->items[1]->items.empty()) {
    return dict_items(v->items[1]->items[0]);
  }
  return nullptr;
}

}  // namespace

StateDict read_state_dict(const std::string& path) {
  SMCL_CHECK(std::filesystem::is_regular_file(path), "state dict file '" << path << "' does not exist");
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  std::string pickled;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
    if (reader->hasRecord("byteorder")) {
      auto [order, order_size] = reader->getRecord("byteorder");
      SMCL_CHECK(std::string(static_cast<const char*>(order.get()), order_size) == "little",
                 "'" << path << "' stores big-endian tensors, which smcl does not read");
    }
    auto [data, size] = reader->getRecord("data.pkl");
    pickled.assign(static_cast<const char*>(data.get()), size);
  } catch (const c10::Error&) {
    throw Error("'" + path + "' is not a PyTorch file of the zip format (torch.save of PyTorch >= 1.6); a file in "
                "the legacy format can be re-saved in Python: torch.save(torch.load(F), F)");
  }
  auto root = data::pickle::parse(pickled, path + ":data.pkl");
  auto items = dict_items(root);
  SMCL_CHECK(items, "'" << path << "' holds no dict of tensors");
  // A training checkpoint: {"state_dict": ..., "epoch": ...} or {"model": ...}.
  for (const char* key : {"state_dict", "model"}) {
    for (const auto& [k, v] : *items) {
      if (k->is_text() && k->text == key && dict_items(v)) {
        items = dict_items(v);
        break;
      }
    }
  }
  TensorReader tensors(*reader, path);
  StateDict out;
  bool all_prefixed = !items->empty();
  for (const auto& [k, v] : *items) {
    SMCL_CHECK(k->is_text(), "'" << path << "' has a key that is not a string");
    out.emplace_back(k->text, tensors.tensor(v, k->text));
    all_prefixed = all_prefixed && k->text.rfind("module.", 0) == 0;
  }
  if (all_prefixed) {
    for (auto& entry : out) entry.first = entry.first.substr(7);
  }
  return out;
}

void write_state_dict(const StateDict& tensors, const std::string& path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& [name, tensor] : tensors) dict.insert(name, tensor.detach().to(torch::kCPU).contiguous());
  auto bytes = torch::pickle_save(dict);
  write_file_atomic(path, std::string(bytes.begin(), bytes.end()));
}

StateDict model_state_dict(torch::nn::Module& model, bool with_head) {
  StateDict out;
  auto keep = [&](const std::string& name) { return with_head || name.rfind("head.", 0) != 0; };
  // PyTorch lists each module's parameters, then its buffers, module by module.
  for (const auto& item : model.named_modules()) {
    const std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false)) {
      if (keep(prefix + p.key())) out.emplace_back(prefix + p.key(), p.value());
    }
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false)) {
      if (keep(prefix + b.key())) out.emplace_back(prefix + b.key(), b.value());
    }
  }
  return out;
}

std::string LoadReport::describe() const {
  std::ostringstream out;
  out << "loaded " << loaded << " tensors";
  auto list = [&](const char* what, const std::vector<std::string>& names) {
    if (names.empty()) return;
    out << "; " << what << " (" << names.size() << "):";
    for (const auto& n : names) out << " " << n;
  };
  list("re-initialised, another number of classes", resized);
  list("missing from the file, kept as initialised", missing);
  list("in the file but not in the model, ignored", unexpected);
  return out.str();
}

LoadReport load_state_dict(models::NetworkImpl& model, const StateDict& tensors, const std::string& source) {
  std::map<std::string, torch::Tensor> targets;
  for (auto& [name, tensor] : model_state_dict(model, /*with_head=*/true)) targets[name] = tensor;
  LoadReport report;
  std::map<std::string, bool> seen;
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : tensors) {
    auto it = targets.find(name);
    if (it == targets.end()) {
      report.unexpected.push_back(name);
      continue;
    }
    seen[name] = true;
    auto& target = it->second;
    if (target.sizes() != tensor.sizes()) {
      const bool classifier = name.rfind(model.classifier_name() + ".", 0) == 0;
      std::ostringstream shapes;
      shapes << name << " " << tensor.sizes() << " -> " << target.sizes();
      SMCL_CHECK(classifier, "'" << source << "': tensor " << name << " has shape " << tensor.sizes()
                                  << " but the model's is " << target.sizes());
      report.resized.push_back(shapes.str());
      continue;
    }
    target.copy_(tensor.to(target.dtype()));
    ++report.loaded;
  }
  for (const auto& [name, tensor] : targets) {
    if (!seen.count(name)) report.missing.push_back(name);
  }
  return report;
}

}  // namespace smcl::train
