// decode_image (image_files.h): OpenCV's codecs (libjpeg-turbo, libpng) when the build has OpenCV.
// Compiled with OpenCV when CMake finds it (SMCL_HAVE_OPENCV, smcl/core/features.h), without it otherwise.
#include <torch/torch.h>

#include <fstream>
#include <iterator>

#include "smcl/core/error.h"
#include "smcl/core/features.h"
#include "smcl/data/image_files.h"

#if SMCL_HAVE_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace smcl::data {

torch::Tensor decode_image(const std::string& path, const std::string& origin, int64_t channels, int64_t max_pixels) {
#if SMCL_HAVE_OPENCV
  // The header's size first: the decoder would allocate whatever a file declares.
  const std::string problem = check_image_file(path, max_pixels);
  SMCL_CHECK(
      problem.find("max_image_pixels") == std::string::npos && problem.find(" bytes, more than") == std::string::npos,
      origin << ": " << problem);
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
  auto rgb = torch::from_blob(image.data, {image.rows, image.cols, 3}, torch::kUInt8).permute({2, 0, 1});
  if (channels == 3) return rgb.contiguous();
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
