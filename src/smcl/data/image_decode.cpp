// decode_image (image_files.h): JPEG through libjpeg itself (decode_jpeg, image_header.cpp), as OpenCV decodes
// it but with its warnings known; PNG (and 4-component JPEG) through OpenCV's codecs, when the build has OpenCV.
// Compiled with OpenCV when CMake finds it (SMCL_HAVE_OPENCV, smcl/core/features.h), without it otherwise.
#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>

#include "smcl/core/error.h"
#include "smcl/core/features.h"
#include "smcl/data/image_files.h"

#if SMCL_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace smcl::data {

#if SMCL_HAVE_OPENCV
namespace {

// The files that decoded only with warnings in this process, each counted once (training decodes each file every
// epoch); the first few are named on stderr, the rest counted (images_decoded_with_warnings).
std::mutex warned_mutex;
std::set<std::string> warned_files;

void warn_once(const std::string& origin, const std::string& path, const std::string& text) {
  const std::lock_guard<std::mutex> lock(warned_mutex);
  if (!warned_files.insert(path).second) return;
  if (int64_t(warned_files.size()) <= kWarnedImagesNamed) {
    std::fprintf(stderr, "warning: %s: image '%s' %s\n", origin.c_str(), path.c_str(), text.c_str());
  } else if (int64_t(warned_files.size()) == kWarnedImagesNamed + 1) {
    std::fprintf(stderr, "warning: more images decode only with warnings; they are counted, not named\n");
  }
}

// OpenCV's imdecode of the file's bytes, read no further than max_pixels allow: [3, H, W] uint8 RGB.
torch::Tensor decode_with_opencv(const std::string& path, const std::string& origin, int64_t max_pixels) {
  std::ifstream in(path, std::ios::binary);
  SMCL_CHECK(in, origin << ": cannot read image '" << path << "'");
  // Never more than the check allowed (the file may have grown since): its size now, within that bound.
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  SMCL_CHECK(size >= 0 && uint64_t(size) <= max_image_bytes(max_pixels),
             origin << ": image '" << path << "' is " << size << " bytes, more than an image of at most " << max_pixels
                    << " pixels can need");
  in.seekg(0);
  std::vector<unsigned char> bytes(size_t(size), 0);
  in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size));
  SMCL_CHECK(in.gcount() == size, origin << ": cannot read image '" << path << "'");
  const int flags = cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION;
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, flags);
  } catch (const cv::Exception& e) {
    throw Error(origin + ": cannot decode image '" + path + "': " + e.what());
  }
  SMCL_CHECK(!image.empty() && image.depth() == CV_8U,
             origin << ": cannot decode image '" << path << "' (corrupt or not a JPEG/PNG)");
  cv::cvtColor(image, image, cv::COLOR_BGR2RGB);
  SMCL_ASSERT(image.isContinuous() && image.channels() == 3);
  return torch::from_blob(image.data, {image.rows, image.cols, 3}, torch::kUInt8).permute({2, 0, 1}).contiguous();
}

#if SMCL_HAVE_IMAGE_HEADERS
// A JPEG through libjpeg itself, which decodes it as OpenCV does and says what it warned about; undefined for a
// file that is not a JPEG, or a 4-component one (CMYK, YCCK), which OpenCV converts.
torch::Tensor decode_with_libjpeg(const std::string& path, const std::string& origin, std::string* warning) {
  unsigned char head[3] = {};
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(head), 3);
  if (!(head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF)) return {};
  JpegPixels pixels;
  const std::string failed = decode_jpeg(path, pixels);
  SMCL_CHECK(failed.empty(), origin << ": cannot decode image '" << path << "': " << failed);
  if (pixels.rgb.empty()) return {};
  if (pixels.warnings > 0) {
    std::string text = "decoded with libjpeg's warning \"" + pixels.first_warning + "\"";
    if (pixels.warnings > 1) text += " and " + std::to_string(pixels.warnings - 1) + " more";
    if (warning) {
      *warning = text;
    } else {
      warn_once(origin, path, text);
    }
  }
  return torch::from_blob(pixels.rgb.data(), {pixels.height, pixels.width, 3}, torch::kUInt8)
      .permute({2, 0, 1})
      .contiguous();
}
#endif

}  // namespace
#endif

int64_t images_decoded_with_warnings() {
#if SMCL_HAVE_OPENCV
  const std::lock_guard<std::mutex> lock(warned_mutex);
  return int64_t(warned_files.size());
#else
  return 0;
#endif
}

torch::Tensor decode_image(const std::string& path, const std::string& origin, int64_t channels, int64_t max_pixels,
                           std::string* warning) {
  if (warning) warning->clear();
#if SMCL_HAVE_OPENCV
  // The header's size first: the decoder would allocate whatever a file declares.
  const std::string problem = check_image_file(path, max_pixels);
  SMCL_CHECK(
      problem.find("max_image_pixels") == std::string::npos && problem.find(" bytes, more than") == std::string::npos,
      origin << ": " << problem);
  torch::Tensor rgb;
#if SMCL_HAVE_IMAGE_HEADERS
  rgb = decode_with_libjpeg(path, origin, warning);
#endif
  if (!rgb.defined()) rgb = decode_with_opencv(path, origin, max_pixels);
  if (channels == 3) return rgb;
  // PIL's convert("L") (what torchvision's loaders use), in its fixed point: (19595 R + 38470 G + 7471 B +
  // 2^15) >> 16. A grayscale file decodes to R = G = B and comes back unchanged.
  auto wide = rgb.to(torch::kInt32);
  auto luma = (wide[0] * 19595 + wide[1] * 38470 + wide[2] * 7471 + 32768).div(65536, "floor");
  return luma.to(torch::kUInt8).unsqueeze(0).contiguous();
#else
  (void)channels;
  (void)max_pixels;
  throw Error(origin + ": cannot decode image '" + path +
              "': this build of smcl has no OpenCV (configure with OpenCV found to read image files)");
#endif
}

}  // namespace smcl::data
