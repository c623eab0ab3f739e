// OpenCV's own StaticSaliencyFineGrained, image by image: the reference for the batched re-implementation.
// Compiled with OpenCV when CMake finds its saliency module (SMCL_HAVE_OPENCV, smcl/core/features.h), without it
// otherwise.
#include <torch/torch.h>

#include "smcl/core/error.h"
#include "smcl/core/features.h"
#include "smcl/saliency/saliency.h"

#if SMCL_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/saliency.hpp>
#endif

namespace smcl::saliency {

#if SMCL_HAVE_OPENCV

bool opencv_available() { return true; }

torch::Tensor fine_grained_opencv(const torch::Tensor& images) {
  SMCL_CHECK(images.dim() == 4 && images.scalar_type() == torch::kUInt8 && (images.size(1) == 1 || images.size(1) == 3),
             "fine_grained_opencv saliency: expected uint8 images [B, 1 or 3, H, W], got " << images.scalar_type()
                                                                                           << " " << images.sizes());
  const int64_t b = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  // OpenCV wants interleaved channels in BGR order.
  auto hwc = images.to(torch::kCPU).permute({0, 2, 3, 1});
  if (c == 3) hwc = hwc.flip(3);
  hwc = hwc.contiguous();
  auto result = torch::empty({b, h, w}, torch::kFloat32);
  auto detector = cv::saliency::StaticSaliencyFineGrained::create();
  for (int64_t i = 0; i < b; ++i) {
    cv::Mat image(int(h), int(w), c == 3 ? CV_8UC3 : CV_8UC1, hwc[i].data_ptr<uint8_t>());
    cv::Mat map;
    SMCL_CHECK(detector->computeSaliency(image, map), "OpenCV's fine-grained saliency failed on image " << i);
    // OpenCV 4.x returns the uint8 map divided by 255 as float32; older versions return the uint8 map.
    cv::Mat out(int(h), int(w), CV_32FC1, result[i].data_ptr<float>());
    map.convertTo(out, CV_32F, map.depth() == CV_8U ? 1.0 / 255.0 : 1.0);
    SMCL_CHECK(out.data == result[i].data_ptr(), "OpenCV's saliency map has an unexpected size");
  }
  return result.to(images.device());
}

#else

bool opencv_available() { return false; }

torch::Tensor fine_grained_opencv(const torch::Tensor&) {
  throw Error(
      "smcl.saliency: fine_grained_opencv needs OpenCV's saliency module, and this build has none "
      "(install libopencv-contrib-dev and reconfigure, or use fine_grained, the same map batched)");
}

#endif

}  // namespace smcl::saliency
