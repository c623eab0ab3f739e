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
# Optional: libjpeg and libpng (Debian: libjpeg-dev, libpng-dev), the libraries OpenCV decodes with: an image's
# size is read from its header as they read it, before anything is decoded (data/image_header.cpp). Without
# them no image file passes its checks.
set(SMCL_HAVE_IMAGE_HEADERS OFF)
find_package(JPEG QUIET)
find_package(PNG QUIET)
if(JPEG_FOUND AND PNG_FOUND)
  set(SMCL_HAVE_IMAGE_HEADERS ON)
endif()
message(STATUS "smcl: libjpeg and libpng (image headers): ${SMCL_HAVE_IMAGE_HEADERS}")
# Optional: jemalloc (Debian: libjemalloc-dev) as the smcl executable's allocator, told never to hand freed
# memory back (apps/smcl/main.cpp): faster training steps and a lower peak than glibc (docs/performance.md,
# "Allocators"). Without it, glibc with smcl's settings (src/smcl/core/allocator.h).
option(SMCL_WITH_JEMALLOC "Link jemalloc into the smcl executable when it is found" ON)
set(SMCL_HAVE_JEMALLOC OFF)
if(SMCL_WITH_JEMALLOC)
  find_library(SMCL_JEMALLOC_LIBRARY NAMES jemalloc)
  if(SMCL_JEMALLOC_LIBRARY)
    set(SMCL_HAVE_JEMALLOC ON)
  endif()
endif()
message(STATUS "smcl: jemalloc (the executable's allocator): ${SMCL_HAVE_JEMALLOC}")
# Distributed training on libtorch's c10d: its Gloo process group needs Gloo's headers (Debian: libgloo-dev;
# the libraries come with libtorch), NCCL's comes with a CUDA libtorch. Without either, one process only.
# (A pip wheel's NCCL header lies in site-packages/nvidia/nccl/include: pass -DSMCL_NCCL_INCLUDE_DIR=that.)
option(SMCL_WITH_DISTRIBUTED "Use libtorch's c10d (several processes) when its headers are found" ON)
set(SMCL_HAVE_C10D OFF)
set(SMCL_HAVE_GLOO OFF)
set(SMCL_HAVE_NCCL OFF)
if(SMCL_WITH_DISTRIBUTED)
  find_path(SMCL_C10D_INCLUDE_DIR torch/csrc/distributed/c10d/TCPStore.hpp HINTS ${TORCH_INCLUDE_DIRS})
endif()
if(SMCL_WITH_DISTRIBUTED AND SMCL_C10D_INCLUDE_DIR)
  set(SMCL_HAVE_C10D ON)
  find_path(SMCL_GLOO_INCLUDE_DIR gloo/config.h HINTS ${TORCH_INCLUDE_DIRS})
  if(SMCL_GLOO_INCLUDE_DIR AND EXISTS ${SMCL_C10D_INCLUDE_DIR}/torch/csrc/distributed/c10d/ProcessGroupGloo.hpp)
    set(SMCL_HAVE_GLOO ON)
  endif()
  find_path(SMCL_NCCL_INCLUDE_DIR nccl.h HINTS ${TORCH_INCLUDE_DIRS} ${CUDAToolkit_INCLUDE_DIRS} ${CUDA_INCLUDE_DIRS})
  if(TARGET torch_cuda AND SMCL_NCCL_INCLUDE_DIR AND
     EXISTS ${SMCL_C10D_INCLUDE_DIR}/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp)
    set(SMCL_HAVE_NCCL ON)
  endif()
endif()
message(STATUS "smcl: distributed (c10d) ${SMCL_HAVE_C10D}: gloo ${SMCL_HAVE_GLOO}, nccl ${SMCL_HAVE_NCCL}")
# CUDA graphs (train.cuda_graphs, src/smcl/train/cuda_graph.cpp): a CUDA libtorch of PyTorch 2.1 or later, whose
# CUDAGraph::capture_begin takes a capture mode (2.0's takes the pool alone). The option exists so that a libtorch whose graph API differs can still build
# everything else (bench/gpu_check.sh retries with it off when cuda_graph.cpp fails to compile).
option(SMCL_WITH_CUDA_GRAPHS "Capture training steps as CUDA graphs when libtorch has CUDA (PyTorch 2.1 or later)" ON)
set(SMCL_HAVE_CUDA_GRAPHS OFF)
if(SMCL_WITH_CUDA_GRAPHS AND TARGET torch_cuda AND Torch_VERSION VERSION_GREATER_EQUAL 2.1)
  set(SMCL_HAVE_CUDA_GRAPHS ON)
endif()
message(STATUS "smcl: CUDA graphs ${SMCL_HAVE_CUDA_GRAPHS}")
