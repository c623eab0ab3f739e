// libjpeg and libpng used directly (image_files.h): read_image_size, a JPEG's or PNG's size as libjpeg's
// jpeg_read_header and libpng's png_read_info read it, the same libraries that OpenCV decodes with, so that a
// file's size is the size its decoder will allocate for, whatever bytes stand between its markers (issue 38: one
// stray byte before a JPEG's frame header hid a 20000x20000 image from a hand-written parser); and decode_jpeg,
// which decodes as OpenCV does and also says what libjpeg warned about (a corrupt scan, a truncated file).
#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

#include "smcl/core/features.h"
#include "smcl/data/image_files.h"

#if SMCL_HAVE_IMAGE_HEADERS
#include <jpeglib.h>  // after <cstdio>: it needs FILE and size_t declared
#include <png.h>
#endif

namespace smcl::data {

#if SMCL_HAVE_IMAGE_HEADERS
namespace {

// libjpeg ends on an error by calling error_exit, which must not return: it jumps back to read_jpeg_file with the
// message. Warnings (a stray byte, say) are counted by libjpeg and not printed.
struct JpegErrors {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  char first_warning[JMSG_LENGTH_MAX];
};

extern "C" void jpeg_error_jump(j_common_ptr info) {
  auto* errors = reinterpret_cast<JpegErrors*>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->jump, 1);
}

// emit_message: level -1 is a warning (counted, the first one's text kept, nothing printed), higher levels are
// trace messages.
extern "C" void jpeg_keep_warning(j_common_ptr info, int level) {
  if (level >= 0) return;
  auto* errors = reinterpret_cast<JpegErrors*>(info->err);
  if (info->err->num_warnings++ == 0) (*info->err->format_message)(info, errors->first_warning);
}

// A fresh decompressor that reports to `errors`; each caller then sets errors.jump with setjmp in its own frame.
void use_jpeg_errors(jpeg_decompress_struct& info, JpegErrors& errors) {
  std::memset(&info, 0, sizeof(info));
  errors.first_warning[0] = 0;
  info.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = jpeg_error_jump;
  errors.manager.emit_message = jpeg_keep_warning;
}

// The JPEG in `file` through libjpeg: its header's size into out.width and out.height, and unless header_only its
// pixels as OpenCV decodes them, with libjpeg's warnings. No C++ object with a destructor lives in the frames a
// longjmp crosses (this function's, from setjmp on): `out` lives in the caller's.
bool read_jpeg_file(std::FILE* file, bool header_only, JpegPixels& out, char* problem, size_t problem_size) {
  jpeg_decompress_struct info;
  JpegErrors errors;
  use_jpeg_errors(info, errors);
  if (setjmp(errors.jump)) {
    std::snprintf(problem, problem_size, "%s", errors.message);
    jpeg_destroy_decompress(&info);
    return false;
  }
  jpeg_create_decompress(&info);
  jpeg_stdio_src(&info, file);
  jpeg_read_header(&info, TRUE);
  out.width = info.image_width;
  out.height = info.image_height;
  if (header_only || info.num_components == 4) {  // CMYK or YCCK: OpenCV's own conversion decodes it
    jpeg_destroy_decompress(&info);
    return true;
  }
  // OpenCV asks libjpeg-turbo for BGR (JCS_EXT_BGR), the same conversion as RGB in another order; like it, the
  // default DCT (islow) and fancy upsampling.
  info.out_color_space = JCS_RGB;
  jpeg_start_decompress(&info);
  out.width = info.output_width;
  out.height = info.output_height;
  out.rgb.resize(size_t(out.width * out.height * 3));
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = out.rgb.data() + size_t(info.output_scanline) * size_t(out.width) * 3;
    jpeg_read_scanlines(&info, &row, 1);
  }
  jpeg_finish_decompress(&info);
  out.warnings = errors.manager.num_warnings;
  out.first_warning = errors.first_warning;
  jpeg_destroy_decompress(&info);
  return true;
}

struct PngErrors {
  std::jmp_buf jump;
  char message[256];
};

extern "C" void png_error_jump(png_structp png, png_const_charp message) {
  auto* errors = static_cast<PngErrors*>(png_get_error_ptr(png));
  std::snprintf(errors->message, sizeof(errors->message), "%s", message);
  std::longjmp(errors->jump, 1);
}

extern "C" void png_warn_nothing(png_structp /*png*/, png_const_charp /*message*/) {}

bool read_png_size(std::FILE* file, int64_t& width, int64_t& height, char* problem, size_t problem_size) {
  PngErrors errors{};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &errors, png_error_jump, png_warn_nothing);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!info) {
    std::snprintf(problem, problem_size, "libpng could not start (out of memory)");
    png_destroy_read_struct(&png, nullptr, nullptr);
    return false;
  }
  if (setjmp(errors.jump)) {
    std::snprintf(problem, problem_size, "%s", errors.message);
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_init_io(png, file);
  png_read_info(png, info);
  width = png_get_image_width(png, info);
  height = png_get_image_height(png, info);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace
#endif

std::string decode_jpeg(const std::string& path, JpegPixels& out) {
  out = JpegPixels{};
#if SMCL_HAVE_IMAGE_HEADERS
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return std::string("cannot read it: ") + std::strerror(errno);
  char problem[JMSG_LENGTH_MAX] = {};
  if (!read_jpeg_file(file.get(), /*header_only=*/false, out, problem, sizeof(problem))) return problem;
  return "";
#else
  return "this build of smcl has no libjpeg";
#endif
}

std::string read_image_size(const std::string& path, bool png, int64_t& width, int64_t& height) {
#if SMCL_HAVE_IMAGE_HEADERS
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return "cannot read image '" + path + "': " + std::strerror(errno);
  char problem[JMSG_LENGTH_MAX + 256] = {};
  JpegPixels header;
  const bool read = png ? read_png_size(file.get(), width, height, problem, sizeof(problem))
                        : read_jpeg_file(file.get(), /*header_only=*/true, header, problem, sizeof(problem));
  if (!png) {
    width = header.width;
    height = header.height;
  }
  if (!read) return std::string(png ? "PNG" : "JPEG") + " '" + path + "' has no readable header: " + problem;
  return "";
#else
  (void)png;
  width = height = 0;
  return "cannot read image '" + path + "': this build of smcl has no libjpeg and libpng to read image files with";
#endif
}

}  // namespace smcl::data
