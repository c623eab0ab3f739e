#include "smcl/report/gnuplot.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "smcl/core/error.h"
#include "smcl/core/io.h"

namespace smcl::report {
namespace fs = std::filesystem;

namespace {

constexpr int64_t kCaptionHeight = 30;  // two lines of the 9-point caption font
constexpr int64_t kTitleHeight = 44;    // two lines of the 11-point title font
constexpr int64_t kGap = 6;             // white space around every tile

// Runs `gnuplot script_name` in work_dir with its output in log_path; the exit status (127: not found).
int spawn_gnuplot(const std::string& work_dir, const std::string& script_name, const std::string& log_path) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  SMCL_CHECK(pid >= 0, "cannot start gnuplot: fork failed");
  if (pid == 0) {
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log < 0 || ::chdir(work_dir.c_str()) != 0) ::_exit(126);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::execlp("gnuplot", "gnuplot", script_name.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

bool gnuplot_available() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && ::access((fs::path(dir) / "gnuplot").c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string partial_name(const std::string& output) { return output + ".partial"; }

void run_gnuplot(const std::string& script, const std::string& work_dir, const std::vector<std::string>& outputs) {
  SMCL_CHECK(gnuplot_available(),
             "drawing figures needs gnuplot, which is not on PATH (Debian: apt-get install "
             "gnuplot-nox)");
  const std::string script_name = ".figure.gp", log_name = ".figure.log";
  write_file_atomic((fs::path(work_dir) / script_name).string(), script);
  for (const auto& out : outputs) fs::remove(fs::path(work_dir) / partial_name(out));
  const std::string log_path = (fs::path(work_dir) / log_name).string();
  int status = spawn_gnuplot(work_dir, script_name, log_path);
  std::string log = fs::exists(log_path) ? read_file(log_path) : "";
  SMCL_CHECK(status == 0, "gnuplot failed (exit status " << status << ") on the script '"
                                                         << (fs::path(work_dir) / script_name).string() << "':\n"
                                                         << log);
  for (const auto& out : outputs) {
    fs::path partial = fs::path(work_dir) / partial_name(out);
    SMCL_CHECK(fs::is_regular_file(partial) && fs::file_size(partial) > 0,
               "gnuplot did not write '" << partial.string() << "'" << (log.empty() ? "" : ":\n" + log));
    fs::rename(partial, fs::path(work_dir) / out);
  }
  fs::remove(fs::path(work_dir) / script_name);
  fs::remove(log_path);
}

std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

torch::Tensor as_rgb(const torch::Tensor& image) { return image.size(0) == 1 ? image.expand({3, -1, -1}) : image; }

std::pair<int64_t, int64_t> tile_grid_size(int64_t tiles, int64_t columns, int64_t scale, int64_t tile_height,
                                           int64_t tile_width) {
  const int64_t rows = (tiles + columns - 1) / columns;
  const int64_t cell_w = tile_width * scale + 2 * kGap, cell_h = tile_height * scale + kCaptionHeight + kGap;
  return {columns * cell_w, kTitleHeight + rows * cell_h};
}

void tile_grid(const std::vector<Tile>& tiles, int64_t columns, int64_t scale, const std::string& title,
               const std::string& png_path) {
  SMCL_CHECK(!tiles.empty() && columns > 0 && scale > 0, "a tile grid needs tiles, columns and a scale");
  const int64_t h = tiles[0].rgb.size(1), w = tiles[0].rgb.size(2);
  const auto [width, height] = tile_grid_size(int64_t(tiles.size()), columns, scale, h, w);
  const int64_t cell_w = w * scale + 2 * kGap, cell_h = h * scale + kCaptionHeight + kGap;
  // The whole picture as one RGB array (white between tiles), drawn pixel for pixel by gnuplot.
  auto canvas = torch::full({height, width, 3}, 255, torch::kUInt8);
  std::ostringstream labels;
  for (size_t i = 0; i < tiles.size(); ++i) {
    const auto& rgb = tiles[i].rgb;
    SMCL_ASSERT(rgb.dim() == 3 && rgb.size(0) == 3 && rgb.size(1) == h && rgb.size(2) == w,
                "tile " << i << " is " << rgb.sizes() << ", expected [3, " << h << ", " << w << "]");
    const int64_t row = int64_t(i) / columns, column = int64_t(i) % columns;
    const int64_t top = kTitleHeight + row * cell_h, left = column * cell_w + kGap;
    auto big = rgb.to(torch::kCPU).repeat_interleave(scale, 1).repeat_interleave(scale, 2).permute({1, 2, 0});
    canvas.narrow(0, top, h * scale).narrow(1, left, w * scale).copy_(big);
    if (!tiles[i].caption.empty()) {
      labels << "set label " << quoted(tiles[i].caption) << " at " << left + w * scale / 2 << "," << top + h * scale + 4
             << " center front font \",9\" offset 0,-0.6\n";
    }
  }
  fs::path png(png_path);
  fs::path dir = png.parent_path().empty() ? fs::path(".") : png.parent_path();
  fs::create_directories(dir);
  const std::string raw_name = ".figure.rgb";
  {
    auto bytes = canvas.contiguous();
    write_file_atomic((dir / raw_name).string(),
                      std::string(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), size_t(bytes.numel())));
  }
  std::ostringstream script;
  // Margins 0 and ranges of exactly the canvas: one data pixel is one PNG pixel; y grows downwards.
  script << "set terminal pngcairo noenhanced size " << width << "," << height << " font \"DejaVu Sans,9\"\n"
         << "set output " << quoted(partial_name(png.filename().string())) << "\n"
         << "set lmargin at screen 0\nset rmargin at screen 1\nset tmargin at screen 1\nset bmargin at screen 0\n"
         << "unset border\nunset tics\nunset key\n"
         << "set xrange [-0.5:" << width << "-0.5]\nset yrange [" << height << "-0.5:-0.5]\n"
         << "set label " << quoted(title) << " at " << width / 2 << "," << kTitleHeight / 2
         << " center front font \",11\"\n"
         << labels.str() << "plot " << quoted(raw_name) << " binary array=(" << width << "," << height
         << ") format='%uchar%uchar%uchar' with rgbimage pixels\n";
  run_gnuplot(script.str(), dir.string(), {png.filename().string()});
  fs::remove(dir / raw_name);
}

}  // namespace smcl::report
