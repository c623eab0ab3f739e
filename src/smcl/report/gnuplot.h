// Figures drawn by gnuplot (Debian: gnuplot-nox; its pngcairo terminal): smcl writes the data and a script,
// gnuplot draws. A figure appears under its name only once gnuplot has finished it (written beside, renamed).
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

namespace smcl::report {

// Whether a gnuplot executable is on PATH.
bool gnuplot_available();

// Runs gnuplot on `script` in the folder `work_dir` (relative paths in the script are relative to it). The script
// must write each of `outputs` (paths relative to work_dir) under the name returned by partial_name(output);
// once gnuplot succeeds they are renamed into place. Throws smcl::Error when gnuplot is missing or fails (with
// its messages) or an output was not written.
void run_gnuplot(const std::string& script, const std::string& work_dir, const std::vector<std::string>& outputs);
std::string partial_name(const std::string& output);

// A gnuplot string literal of `text` (double-quoted: backslashes and quotes escaped, newlines kept as \n).
std::string quoted(const std::string& text);

// An image with a caption under it, for tile_grid.
struct Tile {
  torch::Tensor rgb;    // [3, h, w] uint8; all tiles of a grid have the same size
  std::string caption;  // up to two lines ('\n')
};

// An image [C, H, W] with C = 1 (replicated) or 3, as a tile's [3, H, W].
torch::Tensor as_rgb(const torch::Tensor& image);

// Writes a PNG of the tiles in rows of `columns`, each pixel drawn as a scale x scale square, every caption
// under its tile and `title` (up to two lines) on top; text is printed as it is (no gnuplot markup). Its size in
// pixels is tile_grid_size(...).
void tile_grid(const std::vector<Tile>& tiles, int64_t columns, int64_t scale, const std::string& title,
               const std::string& png_path);
std::pair<int64_t, int64_t> tile_grid_size(int64_t tiles, int64_t columns, int64_t scale, int64_t tile_height,
                                           int64_t tile_width);  // (width, height)

}  // namespace smcl::report
