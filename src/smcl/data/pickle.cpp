#include "smcl/data/pickle.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "smcl/core/error.h"

namespace smcl::data::pickle {
namespace {

using Kind = Value::Kind;

ValuePtr make(Kind kind) {
  auto v = std::make_shared<Value>();
  v->kind = kind;
  return v;
}

ValuePtr make_int(int64_t i) {
  auto v = make(Kind::Int);
  v->int_value = i;
  return v;
}

ValuePtr make_text(Kind kind, std::string text) {
  auto v = make(kind);
  v->text = std::move(text);
  return v;
}

// Records that `child` now sits inside `parent`; throws when that nests deeper than kMaxDepth.
void adopt(Value& parent, const ValuePtr& child, const std::string& where) {
  if (!child) return;
  parent.depth = std::max(parent.depth, child->depth + 1);
  SMCL_CHECK(parent.depth <= kMaxDepth, where << "values nested more than " << kMaxDepth
                                              << " levels deep (no data file nests so; corrupt or hostile)");
}

class Parser {
 public:
  Parser(const std::string& bytes, const std::string& source) : bytes_(bytes), source_(source) {}

  ValuePtr run() {
    while (true) {
      size_t at = pos_;
      uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;                          // PROTO
        case 0x95: take(8); break;                         // FRAME: frames are contiguous, ignore the size
        case '.': return pop(at);                          // STOP
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case 'N': push(make(Kind::None)); break;
        case 0x88:
        case 0x89: {  // NEWTRUE, NEWFALSE
          auto v = make(Kind::Bool);
          v->int_value = op == 0x88;
          push(v);
          break;
        }
        case 'K': push(make_int(byte())); break;               // BININT1
        case 'M': push(make_int(uint_le(2))); break;           // BININT2
        case 'J': push(make_int(int32_t(uint_le(4)))); break;  // BININT
        case 0x8a: {                                           // LONG1: little-endian two's complement
          size_t n = byte();
          SMCL_CHECK(n <= 8, where(at) << "integer of " << n << " bytes is too large");
          int64_t value = 0;
          std::string raw = take(n);
          for (size_t i = 0; i < n; ++i) value |= int64_t(uint8_t(raw[i])) << (8 * i);
          if (n > 0 && n < 8 && (uint8_t(raw[n - 1]) & 0x80)) value -= int64_t(1) << (8 * n);
          push(make_int(value));
          break;
        }
        case 'G': {  // BINFLOAT, big-endian double
          uint64_t bits = 0;
          for (uint8_t c : take(8)) bits = (bits << 8) | c;
          auto v = make(Kind::Float);
          std::memcpy(&v->float_value, &bits, 8);
          push(v);
          break;
        }
        case 'U': push(make_text(Kind::Bytes, take(byte()))); break;      // SHORT_BINSTRING
        case 'T': push(make_text(Kind::Bytes, take(uint_le(4)))); break;  // BINSTRING
        case 'C': push(make_text(Kind::Bytes, take(byte()))); break;      // SHORT_BINBYTES
        case 'B': push(make_text(Kind::Bytes, take(uint_le(4)))); break;  // BINBYTES
        case 0x8e:
        case 0x96: push(make_text(Kind::Bytes, take(uint_le(8)))); break;  // BINBYTES8, BYTEARRAY8
        case 0x8c: push(make_text(Kind::Str, take(byte()))); break;        // SHORT_BINUNICODE
        case 'X': push(make_text(Kind::Str, take(uint_le(4)))); break;     // BINUNICODE
        case 0x8d: push(make_text(Kind::Str, take(uint_le(8)))); break;    // BINUNICODE8
        case ']': push(make(Kind::List)); break;                           // EMPTY_LIST
        case ')': push(make(Kind::Tuple)); break;                          // EMPTY_TUPLE
        case '}': push(make(Kind::Dict)); break;                           // EMPTY_DICT
        case 'l':
        case 't': {  // LIST, TUPLE
          auto v = make(op == 'l' ? Kind::List : Kind::Tuple);
          v->items = pop_to_mark(at);
          for (const auto& item : v->items) adopt(*v, item, where(at));
          push(v);
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1..3
          auto v = make(Kind::Tuple);
          v->items.resize(op - 0x84);
          for (size_t i = v->items.size(); i-- > 0;) v->items[i] = pop(at);
          for (const auto& item : v->items) adopt(*v, item, where(at));
          push(v);
          break;
        }
        case 'a': {  // APPEND
          auto item = pop(at);
          auto list = list_top(at);
          adopt(*list, item, where(at));
          list->items.push_back(item);
          break;
        }
        case 'e': {  // APPENDS
          auto items = pop_to_mark(at);
          auto list = list_top(at);
          for (const auto& item : items) adopt(*list, item, where(at));
          list->items.insert(list->items.end(), items.begin(), items.end());
          break;
        }
        case 's': {  // SETITEM
          auto value = pop(at);
          auto key = pop(at);
          auto dict = dict_top(at);
          adopt(*dict, key, where(at));
          adopt(*dict, value, where(at));
          dict->entries.emplace_back(key, value);
          break;
        }
        case 'u': {  // SETITEMS
          auto items = pop_to_mark(at);
          SMCL_CHECK(items.size() % 2 == 0, where(at) << "SETITEMS with an odd number of items");
          auto dict = dict_top(at);
          for (size_t i = 0; i < items.size(); i += 2) {
            adopt(*dict, items[i], where(at));
            adopt(*dict, items[i + 1], where(at));
            dict->entries.emplace_back(items[i], items[i + 1]);
          }
          break;
        }
        case 'c': {  // GLOBAL "module\nname\n"
          std::string module = line(at), name = line(at);
          push(make_text(Kind::Global, module + "." + name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          auto name = pop(at), module = pop(at);
          SMCL_CHECK(name->is_text() && module->is_text(), where(at) << "STACK_GLOBAL needs two strings");
          push(make_text(Kind::Global, module->text + "." + name->text));
          break;
        }
        case 'R':
        case 0x81: {  // REDUCE, NEWOBJ: record the call, run nothing
          auto args = pop(at), callable = pop(at);
          auto v = make(Kind::Call);
          v->items = {callable, args};
          adopt(*v, callable, where(at));
          adopt(*v, args, where(at));
          push(v);
          break;
        }
        case 'Q': {  // BINPERSID: a reference to data outside the pickle
          auto pid = pop(at);
          auto v = make(Kind::Call);
          v->items = {make_text(Kind::Global, kPersistentLoad), pid};
          adopt(*v, pid, where(at));
          push(v);
          break;
        }
        case 'b': {  // BUILD
          auto state = pop(at);
          auto target = top(at);
          SMCL_CHECK(target->kind == Kind::Call, where(at) << "BUILD on a value that is not an object");
          adopt(*target, state, where(at));
          target->state = state;
          break;
        }
        case 'q': memo_[byte()] = top(at); break;         // BINPUT
        case 'r': memo_[uint_le(4)] = top(at); break;     // LONG_BINPUT
        case 0x94: memo_[memo_.size()] = top(at); break;  // MEMOIZE
        case 'h': push(memo(at, byte())); break;          // BINGET
        case 'j': push(memo(at, uint_le(4))); break;      // LONG_BINGET
        case '0': pop(at); break;                         // POP
        default:
          throw Error(where(at) + "unsupported pickle opcode 0x" + hex(op) +
                      " (smcl reads data pickles of protocols 2-5)");
      }
    }
  }

 private:
  std::string where(size_t at) const { return "'" + source_ + "' byte " + std::to_string(at) + ": "; }

  static std::string hex(uint8_t op) {
    const char* digits = "0123456789abcdef";
    return {digits[op >> 4], digits[op & 15]};
  }

  uint8_t byte() {
    SMCL_CHECK(pos_ < bytes_.size(), "'" << source_ << "' is truncated (the pickle ends without STOP)");
    return uint8_t(bytes_[pos_++]);
  }

  std::string take(uint64_t n) {
    SMCL_CHECK(n <= bytes_.size() - pos_, "'" << source_ << "' is truncated: a value of " << n << " bytes at byte "
                                              << pos_ << " runs past the end of the file (" << bytes_.size()
                                              << " bytes)");
    std::string out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  uint64_t uint_le(int n) {
    uint64_t v = 0;
    std::string raw = take(size_t(n));
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | uint8_t(raw[size_t(i)]);
    return v;
  }

  std::string line(size_t at) {
    size_t end = bytes_.find('\n', pos_);
    SMCL_CHECK(end != std::string::npos, where(at) << "unterminated GLOBAL name");
    std::string out = bytes_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }

  void push(ValuePtr v) { stack_.push_back(std::move(v)); }

  ValuePtr top(size_t at) {
    SMCL_CHECK(!stack_.empty() && (marks_.empty() || stack_.size() > marks_.back()),
               where(at) << "corrupt pickle (stack underflow)");
    return stack_.back();
  }

  ValuePtr pop(size_t at) {
    ValuePtr v = top(at);
    stack_.pop_back();
    return v;
  }

  std::vector<ValuePtr> pop_to_mark(size_t at) {
    SMCL_CHECK(!marks_.empty(), where(at) << "corrupt pickle (no MARK)");
    size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(stack_.begin() + long(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }

  ValuePtr list_top(size_t at) {
    auto v = top(at);
    SMCL_CHECK(v->kind == Kind::List, where(at) << "APPEND to a value that is not a list");
    return v;
  }

  // A dict, or an object that pickles its items like one (collections.OrderedDict).
  ValuePtr dict_top(size_t at) {
    auto v = top(at);
    SMCL_CHECK(v->kind == Kind::Dict || v->kind == Kind::Call, where(at) << "SETITEM on a value that is not a dict");
    return v;
  }

  ValuePtr memo(size_t at, uint64_t key) {
    auto it = memo_.find(key);
    SMCL_CHECK(it != memo_.end(), where(at) << "corrupt pickle (memo entry " << key << " was never stored)");
    return it->second;
  }

  const std::string& bytes_;
  const std::string& source_;
  size_t pos_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::map<uint64_t, ValuePtr> memo_;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// numpy dtype value -> torch dtype and whether its bytes are big-endian.
torch::ScalarType dtype_of(const ValuePtr& dtype, const std::string& what, bool& big_endian) {
  SMCL_CHECK(dtype && dtype->kind == Kind::Call && dtype->call_name() == "numpy.dtype",
             what << ": the array's dtype is not a numpy.dtype");
  const auto& args = dtype->items[1];
  SMCL_CHECK(args->kind == Kind::Tuple && !args->items.empty() && args->items[0]->is_text(),
             what << ": the array's dtype has no type code");
  std::string code = args->items[0]->text;
  big_endian = false;
  if (dtype->state && dtype->state->kind == Kind::Tuple && dtype->state->items.size() > 1 &&
      dtype->state->items[1]->is_text()) {
    big_endian = dtype->state->items[1]->text == ">";
  }
  if (code == "u1") return torch::kUInt8;
  if (code == "i4") return torch::kInt32;
  if (code == "i8") return torch::kInt64;
  throw Error(what + ": numpy dtype '" + code + "' is not supported (uint8, int32 or int64 expected)");
}

std::vector<int64_t> shape_of(const ValuePtr& shape, const std::string& what) {
  SMCL_CHECK(shape->kind == Kind::Tuple, what << ": the array's shape is not a tuple");
  std::vector<int64_t> dims;
  for (const auto& d : shape->items) {
    SMCL_CHECK(d->kind == Kind::Int && d->int_value >= 0, what << ": the array's shape is not integers");
    dims.push_back(d->int_value);
  }
  return dims;
}

torch::Tensor from_bytes(const std::string& raw, std::vector<int64_t> shape, torch::ScalarType dtype, bool big_endian,
                         bool fortran, const std::string& what) {
  if (fortran) std::reverse(shape.begin(), shape.end());
  // The size the shape claims, checked against the bytes present before anything is allocated (a corrupt shape
  // can claim more than memory holds, or overflow).
  uint64_t expected = uint64_t(torch::elementSize(dtype));
  for (int64_t d : shape) {
    SMCL_CHECK(d == 0 || expected <= raw.size() / uint64_t(d),
               what << ": the array's shape claims more than the " << raw.size() << " bytes it holds (corrupt)");
    expected *= uint64_t(d);
  }
  torch::Tensor out = torch::empty(shape, dtype);
  SMCL_CHECK(raw.size() == expected, what << ": the array holds " << raw.size() << " bytes but its shape and dtype "
                                          << "need " << expected << " (the file is truncated or corrupt)");
  if (expected > 0) std::memcpy(out.data_ptr(), raw.data(), expected);
  if (big_endian && out.element_size() > 1) {
    // Reverse the bytes of every element: view as bytes [numel, size] and flip the last dimension.
    auto bytes = out.view(torch::kUInt8).view({out.numel(), int64_t(out.element_size())}).flip(1).contiguous();
    out = bytes.view(dtype).view(shape);
  }
  if (fortran) {
    std::vector<int64_t> perm;
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) perm.push_back(d);
    out = out.permute(perm).contiguous();
  }
  return out;
}

}  // namespace

Value::~Value() {
  // Frees the values only this one holds without recursion: each is emptied into `pending` before it dies, so
  // no destructor runs more than one level deep however deeply the values nest.
  std::vector<ValuePtr> pending;
  auto take_children = [&pending](Value& v) {
    for (auto& item : v.items) pending.push_back(std::move(item));
    for (auto& [key, value] : v.entries) {
      pending.push_back(std::move(key));
      pending.push_back(std::move(value));
    }
    pending.push_back(std::move(v.state));
    v.items.clear();
    v.entries.clear();
  };
  take_children(*this);
  while (!pending.empty()) {
    ValuePtr v = std::move(pending.back());
    pending.pop_back();
    if (v && v.use_count() == 1) take_children(*v);
  }  // v, emptied, is freed here
}

ValuePtr Value::get(const std::string& key) const {
  for (const auto& [k, v] : entries) {
    if (k->is_text() && k->text == key) return v;
  }
  return nullptr;
}

std::string Value::call_name() const {
  if (kind != Kind::Call || items.empty() || items[0]->kind != Kind::Global) return "";
  return items[0]->text;
}

ValuePtr parse(const std::string& bytes, const std::string& source) { return Parser(bytes, source).run(); }

torch::Tensor to_tensor(const ValuePtr& value, const std::string& what) {
  SMCL_CHECK(value && value->kind == Kind::Call, what << " is not a numpy array");
  std::string name = value->call_name();
  const ValuePtr& args = value->items[1];
  bool big_endian = false;
  if (ends_with(name, "multiarray._reconstruct")) {
    // Protocols 2-4: state = (version, shape, dtype, is_fortran, raw bytes).
    const ValuePtr& state = value->state;
    SMCL_CHECK(state && state->kind == Kind::Tuple && state->items.size() == 5,
               what << ": the numpy array has no (version, shape, dtype, fortran, data) state");
    auto dtype = dtype_of(state->items[2], what, big_endian);
    SMCL_CHECK(state->items[4]->is_text(), what << ": the numpy array's data is not raw bytes");
    return from_bytes(state->items[4]->text, shape_of(state->items[1], what), dtype, big_endian,
                      state->items[3]->int_value != 0, what);
  }
  if (ends_with(name, "numeric._frombuffer")) {
    // Protocol 5: _frombuffer(buffer, dtype, shape, order).
    SMCL_CHECK(
        args->kind == Kind::Tuple && args->items.size() == 4 && args->items[0]->is_text() && args->items[3]->is_text(),
        what << ": malformed numpy _frombuffer call");
    auto dtype = dtype_of(args->items[1], what, big_endian);
    return from_bytes(args->items[0]->text, shape_of(args->items[2], what), dtype, big_endian,
                      args->items[3]->text == "F", what);
  }
  throw Error(what + " is a '" + name + "' object, not a numpy array");
}

}  // namespace smcl::data::pickle
