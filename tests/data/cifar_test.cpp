#include "smcl/data/cifar.h"

#include <gtest/gtest.h>

#include "smcl/core/error.h"
#include "smcl/data/pickle.h"
#include "test_util.h"

namespace smcl::data {
namespace {

// A binary CIFAR file written from the format's definition: label byte(s), then 3072 pixels (R, G, B planes).
std::string binary_records(int n, int label_bytes, int salt) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (label_bytes == 2) out += char((i * 3) % 20);  // coarse label
    out += char((i * 7 + salt) % (label_bytes == 2 ? 100 : 10));
    for (int j = 0; j < 3072; ++j) out += char((i * 31 + j * 7 + salt) % 256);
  }
  return out;
}

}  // namespace

TEST(Cifar, BinaryVersionOfBothDatasets) {
  test::TempDir dir;
  for (int b = 1; b <= 5; ++b) {
    test::write_bytes(dir / ("cifar-10-batches-bin/data_batch_" + std::to_string(b) + ".bin"), binary_records(b, 1, b));
  }
  test::write_bytes(dir / "cifar-10-batches-bin/test_batch.bin", binary_records(4, 1, 9));
  test::write_bytes(dir / "cifar-100-binary/train.bin", binary_records(6, 2, 3));
  test::write_bytes(dir / "cifar-100-binary/test.bin", binary_records(2, 2, 4));

  Dataset train = read_cifar(dir.str(), 10, true);
  ASSERT_EQ(train.size(), 1 + 2 + 3 + 4 + 5);
  EXPECT_EQ(train.images.sizes(), (std::vector<int64_t>{15, 3, 32, 32}));
  // Image 1 of batch 2 is row 2 overall: label (7 + 2) % 10, pixel (channel 1, row 0, col 5) = j 1029.
  EXPECT_EQ(train.labels[2].item<int64_t>(), 9);
  EXPECT_EQ(train.images[2][1][0][5].item<int>(), (31 + 1029 * 7 + 2) % 256);
  EXPECT_EQ(read_cifar(dir.str(), 10, false).size(), 4);

  Dataset c100 = read_cifar(dir.str(), 100, true);
  ASSERT_EQ(c100.size(), 6);
  EXPECT_EQ(c100.labels[5].item<int64_t>(), (5 * 7 + 3) % 100);  // the fine label, not the coarse one
  EXPECT_EQ(c100.images[5][2][31][31].item<int>(), (5 * 31 + 3071 * 7 + 3) % 256);
}

TEST(Cifar, PythonVersionAsPython2AndPython3WroteIt) {
  auto expected = test::read_json(test::golden("cifar/expected.json"));
  for (const std::string flavour : {"py2", "py3"}) {
    SCOPED_TRACE(flavour);
    std::string root = test::golden("cifar/" + flavour);
    Dataset train10 = read_cifar(root, 10, true);
    Dataset test10 = read_cifar(root, 10, false);
    Dataset train100 = read_cifar(root, 100, true);
    Dataset test100 = read_cifar(root, 100, false);
    EXPECT_EQ(train10.size(), 3 + 4 + 5 + 6 + 7);
    const auto& tb = expected["cifar-10-batches-py/test_batch"];
    ASSERT_EQ(test10.size(), tb["count"].get<int64_t>());
    for (int64_t i = 0; i < test10.size(); ++i) {
      EXPECT_EQ(test10.labels[i].item<int64_t>(), tb["labels"][size_t(i)].get<int64_t>());
      for (int j = 0; j < 4; ++j) {
        EXPECT_EQ(test10.images[i][0][0][j].item<int>(), tb["first_pixels"][size_t(i)][size_t(j)].get<int>());
      }
    }
    const auto& t100 = expected["cifar-100-python/train"];
    ASSERT_EQ(train100.size(), t100["count"].get<int64_t>());
    for (int64_t i = 0; i < train100.size(); ++i) {
      EXPECT_EQ(train100.labels[i].item<int64_t>(), t100["labels"][size_t(i)].get<int64_t>());
    }
    EXPECT_EQ(test100.size(), expected["cifar-100-python/test"]["count"].get<int64_t>());
    // Last pixel of the last training image of batch 5: (i * 31 + 3071 * 7 + salt) % 256 with i = 6, salt = 4.
    EXPECT_EQ(train10.images[train10.size() - 1][2][31][31].item<int>(), (6 * 31 + 3071 * 7 + 4) % 256);
  }
}

TEST(Cifar, BadFilesFailWithTheFileNamed) {
  test::TempDir dir;
  test::write_bytes(dir / "bin/cut.bin", binary_records(3, 1, 0).substr(0, 3073 * 2 + 100));
  std::string message = test::error_of([&] { read_cifar_binary_file(dir / "bin/cut.bin", 1, 10); });
  EXPECT_NE(message.find("cut.bin"), std::string::npos) << message;
  EXPECT_NE(message.find("not a whole number of 3073-byte CIFAR records"), std::string::npos) << message;

  std::string pickle = test::slurp(test::golden("cifar/py2/cifar-10-batches-py/data_batch_1"));
  test::write_bytes(dir / "cut_pickle", pickle.substr(0, pickle.size() - 500));
  message = test::error_of([&] { read_cifar_pickle_file(dir / "cut_pickle", 10); });
  EXPECT_NE(message.find("cut_pickle"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;

  std::string corrupt = pickle;
  corrupt[2] = char(0xff);  // not an opcode
  test::write_bytes(dir / "corrupt", corrupt);
  message = test::error_of([&] { read_cifar_pickle_file(dir / "corrupt", 10); });
  EXPECT_NE(message.find("unsupported pickle opcode 0xff"), std::string::npos) << message;

  // CIFAR-10 batches have no 'fine_labels': reading one as CIFAR-100 names the missing entry.
  message =
      test::error_of([&] { read_cifar_pickle_file(test::golden("cifar/py2/cifar-10-batches-py/test_batch"), 100); });
  EXPECT_NE(message.find("has no 'fine_labels' entry"), std::string::npos) << message;

  message = test::error_of([&] { read_cifar(dir / "nothing", 10, true); });
  EXPECT_NE(message.find("cifar-10-batches-bin"), std::string::npos) << message;
  EXPECT_NE(message.find("cifar-10-batches-py"), std::string::npos) << message;

  // A label outside the classes.
  std::string records = binary_records(1, 1, 0);
  records[0] = char(12);
  test::write_bytes(dir / "label.bin", records);
  message = test::error_of([&] { read_cifar_binary_file(dir / "label.bin", 1, 10); });
  EXPECT_NE(message.find("label 12, outside [0, 10)"), std::string::npos) << message;
}

TEST(Pickle, ParsesScalarsAndContainers) {
  // pickle.dumps({'a': [1, -2, 70000, 2**40, -2**40], 'b': (True, None, 1.5), 'c': b'xy'}, protocol=2), from
  // CPython 3.11.
  const unsigned char bytes[] = {
      0x80, 0x02, 0x7d, 0x71, 0x00, 0x28, 0x58, 0x01, 0x00, 0x00, 0x00, 0x61, 0x71, 0x01, 0x5d, 0x71, 0x02, 0x28,
      0x4b, 0x01, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x4a, 0x70, 0x11, 0x01, 0x00, 0x8a, 0x06, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x01, 0x8a, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x65, 0x58, 0x01, 0x00, 0x00, 0x00, 0x62, 0x71,
      0x03, 0x88, 0x4e, 0x47, 0x3f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x87, 0x71, 0x04, 0x58, 0x01, 0x00,
      0x00, 0x00, 0x63, 0x71, 0x05, 0x63, 0x5f, 0x63, 0x6f, 0x64, 0x65, 0x63, 0x73, 0x0a, 0x65, 0x6e, 0x63, 0x6f,
      0x64, 0x65, 0x0a, 0x71, 0x06, 0x58, 0x02, 0x00, 0x00, 0x00, 0x78, 0x79, 0x71, 0x07, 0x58, 0x06, 0x00, 0x00,
      0x00, 0x6c, 0x61, 0x74, 0x69, 0x6e, 0x31, 0x71, 0x08, 0x86, 0x71, 0x09, 0x52, 0x71, 0x0a, 0x75, 0x2e};
  auto root = pickle::parse(std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes)), "inline");
  auto a = root->get("a");
  ASSERT_TRUE(a);
  ASSERT_EQ(a->items.size(), 5u);
  EXPECT_EQ(a->items[0]->int_value, 1);
  EXPECT_EQ(a->items[1]->int_value, -2);
  EXPECT_EQ(a->items[2]->int_value, 70000);
  EXPECT_EQ(a->items[3]->int_value, int64_t(1) << 40);
  EXPECT_EQ(a->items[4]->int_value, -(int64_t(1) << 40));
  auto b = root->get("b");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->items[0]->int_value, 1);
  EXPECT_EQ(b->items[1]->kind, pickle::Value::Kind::None);
  EXPECT_DOUBLE_EQ(b->items[2]->float_value, 1.5);
  EXPECT_EQ(root->get("c")->call_name(), "_codecs.encode");
}

// A pickle nested a million levels deep (a 2 KB file once gzip'd) is refused at the nesting limit, and a tree
// of values that deep is freed without recursion (no stack overflow either way).
TEST(Pickle, DeepNestingIsAnErrorAndDeepTreesFreeWithoutRecursion) {
  // protocol 2: PROTO 2, then EMPTY_LIST a million times, APPEND a million - 1 times, STOP.
  const int depth = 1000000;
  std::string bytes = "\x80\x02" + std::string(depth, ']') + std::string(depth - 1, 'a') + ".";
  const std::string message = test::error_of([&] { pickle::parse(bytes, "deep.pkl"); });
  EXPECT_NE(message.find("'deep.pkl' byte"), std::string::npos) << message;
  EXPECT_NE(message.find("nested more than 1000 levels"), std::string::npos) << message;
  // Nesting through MARK/LIST as Python 2's cPickle writes lists: the same limit.
  std::string marks = "\x80\x02" + std::string(5000, '(') + std::string(5000, 'l') + ".";
  EXPECT_NE(test::error_of([&] { pickle::parse(marks, "marks.pkl"); }).find("nested more than"), std::string::npos);
  // Within the limit it parses.
  std::string ok = "\x80\x02" + std::string(999, ']') + std::string(998, 'a') + ".";
  EXPECT_EQ(pickle::parse(ok, "ok.pkl")->depth, 999);
  // A chain built by hand, past any limit, is freed iteratively.
  auto root = std::make_shared<pickle::Value>();
  root->kind = pickle::Value::Kind::List;
  auto at = root;
  for (int i = 0; i < depth; ++i) {
    auto child = std::make_shared<pickle::Value>();
    child->kind = pickle::Value::Kind::List;
    at->items.push_back(child);
    at = child;
  }
  at.reset();
  root.reset();  // a recursive destructor would overflow the stack here
  SUCCEED();
}

// A numpy array whose shape claims more than its bytes is refused before any allocation.
TEST(Pickle, ArrayShapeLargerThanItsDataIsRefusedBeforeAllocating) {
  // A `_reconstruct` call whose BUILD state is (1, (2^31 - 1, 2^31 - 1), dtype('u1'), False, b'ab'), opcode by
  // opcode: GLOBAL, EMPTY_TUPLE, REDUCE; MARK, BININT1, BININT x2, TUPLE2, GLOBAL, BINUNICODE, TUPLE1, REDUCE,
  // NEWFALSE, SHORT_BINBYTES, TUPLE; BUILD, STOP.
  const char bytes[] =
      "\x80\x02"
      "cnumpy.core.multiarray\n_reconstruct\n)R(K\x01J\xff\xff\xff\x7fJ\xff\xff\xff\x7f\x86"
      "cnumpy\ndtype\nX\x02\x00\x00\x00u1\x85R\x89"
      "C\x02"
      "abtb.";
  const std::string q(bytes, sizeof(bytes) - 1);
  auto value = pickle::parse(q, "huge.pkl");
  const std::string message = test::error_of([&] { pickle::to_tensor(value, "'huge.pkl' entry 'data'"); });
  EXPECT_NE(message.find("shape claims more than the 2 bytes"), std::string::npos) << message;
}

}  // namespace smcl::data
