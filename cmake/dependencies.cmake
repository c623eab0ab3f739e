# Every dependency comes from Debian's archive (scripts/setup installs them) or, on a CUDA host, from the
# libtorch inside a PyTorch install (point CMAKE_PREFIX_PATH at torch.utils.cmake_prefix_path).
find_package(Torch REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(CLI11 QUIET)
if(NOT CLI11_FOUND)
  # CLI11 is header-only; Debian ships the header even where its CMake files are missing.
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 INTERFACE ${CLI11_INCLUDE_DIR})
endif()
# yaml-cpp's Debian config exports the plain target name "yaml-cpp".
if(NOT TARGET yaml-cpp AND TARGET yaml-cpp::yaml-cpp)
  add_library(yaml-cpp ALIAS yaml-cpp::yaml-cpp)
endif()
# Optional: OpenCV (Debian: libopencv-dev, libopencv-contrib-dev) for decoding JPEG/PNG files (image_list,
# image_folder sets) and its saliency module, the reference that the batched fine-grained saliency is tested
# against and the `fine_grained_opencv` mode. Builds without it lose only those.
option(SMCL_WITH_OPENCV "Use OpenCV (image files, reference saliency) when it is found" ON)
set(SMCL_HAVE_OPENCV OFF)
if(SMCL_WITH_OPENCV)
  find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs saliency)
  if(OpenCV_FOUND)
    set(SMCL_HAVE_OPENCV ON)
  endif()
endif()
message(STATUS "smcl: OpenCV (image files, reference saliency): ${SMCL_HAVE_OPENCV}")
