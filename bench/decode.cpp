// smcl_bench_decode: how fast JPEG files become training views on this machine's cores: decoding alone, and
// decoding plus the ImageNet-LT recipe's view (RandomResizedCrop 224, flip, RandAugment n 2 m 10, colour jitter
// p 0.8, grayscale p 0.2, normalisation), with one thread and with all of them. It writes N JPEGs of ImageNet's typical
// size (500 x 375, quality 90, smooth random content) to a temporary folder first. From the per-core rate it estimates
// how many cores keep a GPU that trains at --gpu-rate images/s busy. Prints a table and one JSON line (--json FILE
// too).
//
//   build/bench/smcl_bench_decode [--images 256] [--rounds 3] [--gpu-rate 3000] [--json out.json] [--set key=value ...]
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <thread>

#include "smcl/augment/batch_transforms.h"
#include "smcl/config/config.h"
#include "smcl/core/allocator.h"
#include "smcl/core/error.h"
#include "smcl/data/dataset.h"

namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Smooth colour gradients with some texture and noise: JPEG sizes like photographs' (tens of kB).
void write_jpegs(const std::string& dir, int n, int width, int height, std::vector<std::string>& paths) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0, 1);
  for (int i = 0; i < n; ++i) {
    cv::Mat image(height, width, CV_32FC3);
    const float fx = 0.01f + 0.05f * u(rng), fy = 0.01f + 0.05f * u(rng), phase = 6.28f * u(rng);
    for (int y = 0; y < height; ++y) {
      auto* row = image.ptr<cv::Vec3f>(y);
      for (int x = 0; x < width; ++x) {
        for (int c = 0; c < 3; ++c) {
          row[x][c] = 128 + 80 * std::sin(fx * float(x) * float(c + 1) + fy * float(y) + phase) + 20 * (u(rng) - 0.5f);
        }
      }
    }
    cv::Mat bytes;
    image.convertTo(bytes, CV_8UC3);
    paths.push_back((fs::path(dir) / (std::to_string(i) + ".jpg")).string());
    SMCL_CHECK(cv::imwrite(paths.back(), bytes, {cv::IMWRITE_JPEG_QUALITY, 90}), "cannot write " << paths.back());
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"smcl_bench_decode: JPEG decode + augment images/second per core"};
  int images = 256, rounds = 3, width = 500, height = 375, side = 224;
  double gpu_rate = 3000;
  std::string json_out;
  std::vector<std::string> overrides;
  app.add_option("--images", images, "JPEG files to write and read")->check(CLI::Range(2, 100000));
  app.add_option("--rounds", rounds, "repetitions; the median is reported")->check(CLI::Range(1, 100));
  app.add_option("--width", width, "image width")->check(CLI::Range(16, 8192));
  app.add_option("--height", height, "image height")->check(CLI::Range(16, 8192));
  app.add_option("--side", side, "training crop side")->check(CLI::Range(8, 4096));
  app.add_option("--gpu-rate", gpu_rate,
                 "training images/s of the GPU to feed (ResNet-50 mixed precision on one H100: "
                 "about 3000, an assumed round figure; pass a measured one)");
  app.add_option("--json", json_out, "also write the JSON line here");
  app.add_option("--set", overrides, "config overrides of the view, e.g. --set augment.rand_augment_n=0");
  CLI11_PARSE(app, argc, argv);
  smcl::keep_freed_memory();  // as the smcl binary does at start-up
  try {
    const std::string dir = (fs::temp_directory_path() / ("smcl-bench-decode-" + std::to_string(::getpid()))).string();
    fs::create_directories(dir);
    std::vector<std::string> paths;
    write_jpegs(dir, images, width, height, paths);
    uintmax_t bytes = 0;
    for (const auto& p : paths) bytes += fs::file_size(p);

    // The ImageNet-LT recipe's training view (configs/imagenet_lt): RandAugment, colour jitter, grayscale.
    std::vector<std::string> recipe = {"augment.rand_augment_n=2", "augment.color_jitter_prob=0.8",
                                       "augment.grayscale_prob=0.2", "augment.mean=[0.485, 0.456, 0.406]",
                                       "augment.std=[0.229, 0.224, 0.225]"};
    recipe.insert(recipe.end(), overrides.begin(), overrides.end());
    smcl::config::Config c = smcl::config::load("", recipe);
    const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
    std::vector<int64_t> rows(paths.size());
    for (size_t i = 0; i < rows.size(); ++i) rows[i] = int64_t(i);
    nlohmann::json result = {{"images", images}, {"width", width},
                             {"height", height}, {"mean_file_kb", double(bytes) / 1024.0 / double(images)},
                             {"side", side},     {"cores", cores}};
    std::printf("%d JPEGs of %dx%d (%.0f kB on average), views of %d x %d; median of %d rounds\n", images, width,
                height, double(bytes) / 1024.0 / double(images), side, side, rounds);
    std::printf("threads  decode img/s  decode+view img/s\n");
    for (int64_t threads : std::vector<int64_t>{1, cores}) {
      if (threads == cores && cores == 1) break;
      torch::set_num_threads(int(threads));
      smcl::data::ImageFiles files{paths, paths, 3, side, threads};
      smcl::Rng rng(0);
      std::vector<double> decode_rates, view_rates;
      for (int r = 0; r < rounds; ++r) {
        auto start = Clock::now();
        auto decoded = files.decode(rows);
        decode_rates.push_back(double(images) / std::chrono::duration<double>(Clock::now() - start).count());
        start = Clock::now();
        smcl::data::Images batch(files.decode(rows), side, threads, torch::kCPU);
        auto view = smcl::augment::train_view(batch, c.augment, rng);
        view_rates.push_back(double(images) / std::chrono::duration<double>(Clock::now() - start).count());
      }
      std::printf("%7lld  %12.0f  %17.0f\n", static_cast<long long>(threads), median(decode_rates), median(view_rates));
      result[threads == 1 ? "one_thread" : "all_threads"] = {{"threads", threads},
                                                             {"decode_images_per_second", median(decode_rates)},
                                                             {"decode_and_view_images_per_second", median(view_rates)}};
    }
    const double per_core = result["one_thread"]["decode_and_view_images_per_second"].get<double>();
    result["gpu_rate"] = gpu_rate;
    result["cores_to_feed_gpu"] = std::ceil(gpu_rate / per_core);
    std::printf("one core makes %.0f training views/s: %.0f cores keep a GPU training at %.0f images/s busy\n",
                per_core, std::ceil(gpu_rate / per_core), gpu_rate);
    std::printf("%s\n", result.dump().c_str());
    if (!json_out.empty()) std::ofstream(json_out) << result.dump(2) << "\n";
    fs::remove_all(dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
