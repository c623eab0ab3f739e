// File-backed image sets: the list-file format of ImageNet-LT (`relative/path label` per line), class folders
// (`root/<class>/<image>`), cheap completeness checks at load time, and decoding on worker threads.
// Decoding needs OpenCV (SMCL_HAVE_OPENCV); without it, decode() throws a clear error. Not here: crops and
// resizing (augment/image_views.h), long-tailed subsets (long_tail.h).
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

namespace smcl::data {

// The images of a list file or a folder, with where each came from (for error messages).
struct FileList {
  std::vector<std::string> paths;    // full paths
  std::vector<std::string> origins;  // "list.txt line 12" or the path itself
  std::vector<int64_t> labels;
  std::vector<std::string> class_names;   // folders only: class k's folder name, sorted
  int64_t skipped = 0;                    // bad images left out (skip_bad)
  int64_t warned = 0;                     // of them, images that decoded only with warnings (a corrupt JPEG scan)
  std::vector<std::string> first_warned;  // the first kWarnedImagesNamed of those: "'path' decoded with ..."
};

// How many of the images that decode only with warnings are named, when they are read and while training.
constexpr int64_t kWarnedImagesNamed = 3;

// PIL's default limit (Image.MAX_IMAGE_PIXELS): an image declaring more pixels is refused before it is
// decoded, so a small file cannot claim gigabytes (data.max_image_pixels).
constexpr int64_t kDefaultMaxImagePixels = 89478485;

// How image files are checked when a list or folder is read.
struct ImageChecks {
  bool skip_bad = false;                        // leave bad images out (counted) instead of stopping
  int64_t max_pixels = kDefaultMaxImagePixels;  // width x height limit, read from the file's header
  int64_t threads = 0;                          // skip_bad: threads decoding every image once (0: all cores)
};

// Reads `list_path`, whose lines are `relative/path label` (paths relative to root; blank lines ignored; the
// label is the last space-separated field, so a path may contain spaces). Every file must exist and pass
// check_image_file; otherwise throws smcl::Error naming the file and line, or with checks.skip_bad leaves it
// out and counts it; with skip_bad every image is also decoded once, so that one that fails only in decoding
// (a bad PNG CRC, truncated JPEG data) is left out too, rather than stopping a run mid-epoch. A label must be an
// integer in [0, num_classes) (num_classes 0: any non-negative integer).
FileList read_image_list(const std::string& list_path, const std::string& root, int64_t num_classes,
                         const ImageChecks& checks);

// Scans root/<class>/<image> for .jpg/.jpeg/.png files (any case; other files are ignored). Class k is the
// k-th class folder in sorted order; images are sorted by path within a class. When class_names is not empty,
// the folders must be exactly those (for a test folder matching its training folder). Throws smcl::Error on a
// missing root, no class folders, a class folder without images, or a bad image (unless checks.skip_bad, as
// for read_image_list).
FileList scan_image_folder(const std::string& root, const std::vector<std::string>& class_names,
                           const ImageChecks& checks);

// Empty when `path` is a complete JPEG or PNG file as far as its first and last bytes tell (the start marker
// and signature; JPEG's end-of-image marker, PNG's IEND chunk), its header (as libjpeg or libpng reads it,
// read_image_size) declares at most `max_pixels` pixels, and the file is no larger than such an image can need
// (max_image_bytes); otherwise what is wrong with it. It reads the header, not the image, so an image corrupt in
// its middle passes and fails when decoded.
std::string check_image_file(const std::string& path, int64_t max_pixels = kDefaultMaxImagePixels);

// The width and height a JPEG's (png false) or PNG's header declares, read by libjpeg's jpeg_read_header or
// libpng's png_read_info, the decoders' own readers; empty, or what keeps them from reading it.
std::string read_image_size(const std::string& path, bool png, int64_t& width, int64_t& height);

// A JPEG decoded by libjpeg as OpenCV decodes it (decode_jpeg): RGB rows, and what libjpeg warned about.
struct JpegPixels {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;   // height x width x 3; empty for a 4-component JPEG (CMYK, YCCK), not decoded here
  int64_t warnings = 0;       // libjpeg's warnings: corrupt data it skipped, a premature end it padded
  std::string first_warning;  // the first one's text
};
// Empty, or what stopped libjpeg (an error, not a warning).
std::string decode_jpeg(const std::string& path, JpegPixels& out);

// The most bytes a JPEG or PNG file of `pixels` pixels can need: 8 bytes a pixel (16-bit RGBA, stored
// uncompressed), one more for PNG's row filters and deflate's stored-block framing, and 16 MiB of metadata
// (EXIF, ICC profiles, comments). A larger file is refused before it is read (issue 38: a 28x28 PNG header
// followed by 3 GiB of zeros).
inline uint64_t max_image_bytes(int64_t pixels) { return (uint64_t(16) << 20) + 9 * uint64_t(pixels); }

// Decodes one file to [C, H, W] uint8 (channels 3: RGB, grayscale replicated and alpha dropped; channels 1:
// PIL's luma of the RGB image), EXIF orientation ignored as PIL does. Throws smcl::Error naming the file and
// its origin, also for an image whose header declares more than `max_pixels` pixels (checked before decoding).
// A JPEG that decodes with libjpeg's warnings (corrupt data skipped, a truncated file padded) decodes as PIL
// keeps it; what was warned is put in *warning when given, else counted once per file and process, the first
// three files named on stderr (issue 38: it was libjpeg's own unattributed line).
torch::Tensor decode_image(const std::string& path, const std::string& origin, int64_t channels,
                           int64_t max_pixels = kDefaultMaxImagePixels, std::string* warning = nullptr);

// How many files decode_image has decoded only with warnings in this process (without a *warning to put them in),
// each counted once: training reports the count after each epoch in which it grew.
int64_t images_decoded_with_warnings();

// An image set backed by files: one file per row, decoded when a batch is gathered.
class ImageFiles {
 public:
  // side: the side of the square views made from these images (data.image_size); threads: decoding threads
  // (0: all cores); max_pixels: the largest image decoded (data.max_image_pixels).
  ImageFiles(std::vector<std::string> paths, std::vector<std::string> origins, int64_t channels, int64_t side,
             int64_t threads, int64_t max_pixels = kDefaultMaxImagePixels);

  int64_t size() const { return int64_t(paths_.size()); }
  int64_t channels() const { return channels_; }
  int64_t side() const { return side_; }
  int64_t threads() const { return threads_; }
  const std::string& path(int64_t row) const { return paths_[size_t(row)]; }

  // The images of `rows`, decoded in parallel, each [C, H_i, W_i] uint8 on the CPU.
  std::vector<torch::Tensor> decode(const std::vector<int64_t>& rows) const;
  ImageFiles select(const std::vector<int64_t>& rows) const;

 private:
  std::vector<std::string> paths_, origins_;
  int64_t channels_, side_, threads_, max_pixels_;
};

}  // namespace smcl::data
