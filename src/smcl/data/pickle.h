// A minimal, safe unpickler for data files: it builds plain values (ints, floats, strings, bytes, lists,
// tuples, dicts) and records calls (REDUCE/NEWOBJ), BUILD states and persistent references without executing
// anything.
// It reads the pickle protocols 2-5, both as Python 2's cPickle writes them (strings as BINSTRING) and as
// Python 3 writes them (BINBYTES, BINUNICODE, frames, memoize). Not here: what a CIFAR file means (cifar.h).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace smcl::data::pickle {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

// The callable of a persistent reference (BINPERSID): a Call of this name whose argument is the persistent id.
inline constexpr const char* kPersistentLoad = "pickle.persistent_load";

// Values form a tree (a graph, through the memo) of shared pointers. Freeing one frees its children without
// recursion, so a hostile file's deep nesting cannot overflow the stack; parse() also refuses nesting deeper
// than kMaxDepth, so no reader that walks values recursively can be made to.
inline constexpr int64_t kMaxDepth = 1000;

struct Value {
  Value() = default;
  Value(const Value&) = delete;
  Value& operator=(const Value&) = delete;
  ~Value();

  enum class Kind { None, Bool, Int, Float, Bytes, Str, List, Tuple, Dict, Global, Call };
  Kind kind = Kind::None;
  int64_t int_value = 0;                               // Bool, Int
  double float_value = 0;                              // Float
  std::string text;                                    // Bytes, Str; Global: "module.name"
  std::vector<ValuePtr> items;                         // List, Tuple; Call: [callable, args]
  std::vector<std::pair<ValuePtr, ValuePtr>> entries;  // Dict; Call: items set on the object (OrderedDict)
  ValuePtr state;                                      // Call: the BUILD state, if any
  int64_t depth = 1;                                   // 1 + the deepest child's depth when it was added

  // Bytes or Str content, for keys that Python 2 wrote as str and Python 3 as bytes or str.
  bool is_text() const { return kind == Kind::Bytes || kind == Kind::Str; }
  // Dict lookup by text key; nullptr when absent.
  ValuePtr get(const std::string& key) const;
  // The callable's name of a Call ("numpy.core.multiarray._reconstruct"), else "".
  std::string call_name() const;
};

// Parses a whole pickle. `source` names the file in error messages. Throws smcl::Error, also for values nested
// more than kMaxDepth deep.
ValuePtr parse(const std::string& bytes, const std::string& source);

// Converts a numpy array value (protocol 2-4 `_reconstruct` + BUILD, or protocol 5 `_frombuffer`) of dtype
// uint8, int32 or int64 to a tensor of that dtype and shape. Throws smcl::Error naming `what`.
torch::Tensor to_tensor(const ValuePtr& value, const std::string& what);

}  // namespace smcl::data::pickle
