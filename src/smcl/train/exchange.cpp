#include "smcl/train/exchange.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
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
      {"torch.FloatStorage", torch::kFloat32}, {"torch.DoubleStorage", torch::kFloat64},
      {"torch.HalfStorage", torch::kFloat16},  {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kInt64},    {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},   {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},    {"torch.BoolStorage", torch::kBool}};
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
    const auto sizes = int_tuple(args[2], where), strides = int_tuple(args[3], where);
    const int64_t offset = args[1]->int_value;
    // Every element the view reaches must lie in its storage (a corrupt file can point anywhere).
    SMCL_CHECK(sizes.size() == strides.size() && offset >= 0 && offset <= storage.numel(),
               where << ": malformed tensor (shape, strides and offset do not match)");
    int64_t last = offset, numel = 1;
    for (size_t d = 0; d < sizes.size(); ++d) {
      SMCL_CHECK(sizes[d] >= 0 && strides[d] >= 0, where << ": malformed tensor (negative size or stride)");
      numel = sizes[d] == 0 ? 0 : numel;
      if (sizes[d] == 0) continue;
      SMCL_CHECK(strides[d] == 0 || sizes[d] - 1 <= (storage.numel() - last) / strides[d],
                 where << ": the tensor reaches past its storage of " << storage.numel() << " elements (corrupt)");
      last += (sizes[d] - 1) * strides[d];
    }
    SMCL_CHECK(numel == 0 || last < storage.numel(),
               where << ": the tensor reaches past its storage of " << storage.numel() << " elements (corrupt)");
    return storage.as_strided(sizes, strides, offset).clone();
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
    SMCL_CHECK(numel >= 0 && uint64_t(numel) <= size / c10::elementSize(dtype),
               where << ": storage data/" << key << " holds " << size << " bytes, too few for the " << numel
                     << " elements it declares");
    const size_t expected = size_t(numel) * c10::elementSize(dtype);
    auto storage = torch::empty({numel}, dtype);
    if (expected > 0) std::memcpy(storage.data_ptr(), data.get(), expected);
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

uint64_t little_endian(const std::string& bytes, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(bytes[at + size_t(i)]);
  return v;
}

// libtorch's zip reader allocates whatever size a record's directory entry declares, before reading it: a 6 KB
// file can ask for gigabytes. torch.save stores records uncompressed, so no record of a real file is larger than
// the file; this reads the zip's central directory (zip64 too) and refuses a file that claims otherwise.
void check_record_sizes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const uint64_t file_size = std::filesystem::file_size(path);
  const std::string not_zip = "'" + path +
                              "' is not a PyTorch file of the zip format (torch.save of PyTorch >= 1.6; "
                              "a file in the legacy format can be re-saved in Python: torch.save(torch.load(F), F))";
  // Bytes [at, at + n) of the file; short when the file ends first.
  auto read_at = [&](uint64_t at, uint64_t n) {
    std::string out(size_t(std::min(n, at < file_size ? file_size - at : 0)), '\0');
    in.clear();
    in.seekg(std::streamoff(at));
    in.read(out.data(), std::streamsize(out.size()));
    return out;
  };
  // The end-of-central-directory record: 22 bytes and a comment of up to 65535, at the end.
  const uint64_t tail_start = file_size - std::min<uint64_t>(file_size, 22 + 65535);
  const std::string tail = read_at(tail_start, file_size - tail_start);
  size_t eocd = std::string::npos;
  for (size_t back = 22; back <= tail.size(); ++back) {
    if (little_endian(tail, tail.size() - back, 4) == 0x06054b50) {
      eocd = tail.size() - back;
      break;
    }
  }
  SMCL_CHECK(eocd != std::string::npos, not_zip << " (no zip directory)");
  uint64_t entries = little_endian(tail, eocd + 10, 2), directory_size = little_endian(tail, eocd + 12, 4),
           directory = little_endian(tail, eocd + 16, 4);
  if (directory == 0xffffffff || entries == 0xffff || directory_size == 0xffffffff) {
    // zip64: a locator just before the record points at the zip64 end-of-directory record.
    SMCL_CHECK(eocd >= 20 && little_endian(tail, eocd - 20, 4) == 0x07064b50, not_zip << " (bad zip64 locator)");
    const std::string record = read_at(little_endian(tail, eocd - 20 + 8, 8), 56);
    SMCL_CHECK(record.size() == 56 && little_endian(record, 0, 4) == 0x06064b50, not_zip << " (bad zip64 directory)");
    entries = little_endian(record, 32, 8);
    directory_size = little_endian(record, 40, 8);
    directory = little_endian(record, 48, 8);
  }
  SMCL_CHECK(directory_size <= file_size, not_zip << " (its zip directory is larger than the file)");
  const std::string listing = read_at(directory, directory_size);
  size_t at = 0;
  for (uint64_t i = 0; i < entries; ++i) {
    SMCL_CHECK(at + 46 <= listing.size() && little_endian(listing, at, 4) == 0x02014b50,
               not_zip << " (bad zip directory entry " << i << ")");
    uint64_t size = little_endian(listing, at + 24, 4);
    const size_t name = little_endian(listing, at + 28, 2), extra = little_endian(listing, at + 30, 2),
                 comment = little_endian(listing, at + 32, 2);
    SMCL_CHECK(at + 46 + name + extra + comment <= listing.size(),
               not_zip << " (zip directory entry " << i << " cut short)");
    if (size == 0xffffffff) {  // the real size is the first field of the zip64 extra block (id 1)
      size = UINT64_MAX;
      for (size_t e = at + 46 + name; e + 4 <= at + 46 + name + extra;) {
        const size_t id = little_endian(listing, e, 2), length = little_endian(listing, e + 2, 2);
        if (id == 1 && length >= 8 && e + 12 <= listing.size()) size = little_endian(listing, e + 4, 8);
        e += 4 + length;
      }
    }
    SMCL_CHECK(size <= file_size, "'" << path << "' is corrupt: record '" << listing.substr(at + 46, name)
                                      << "' declares " << size << " bytes in a file of " << file_size);
    at += 46 + name + extra + comment;
  }
}

}  // namespace

StateDict read_state_dict(const std::string& path) {
  SMCL_CHECK(std::filesystem::is_regular_file(path), "state dict file '" << path << "' does not exist");
  check_record_sizes(path);
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
    throw Error("'" + path +
                "' is not a PyTorch file of the zip format (torch.save of PyTorch >= 1.6); a file in "
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
