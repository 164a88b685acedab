// taskpipe/nn/safetensors.hpp — reading and writing the safetensors format (float32 tensors and string metadata).
//
// The format: 8 bytes, the header's length N as a little-endian u64; N bytes of JSON, an object mapping each tensor
// name to {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]} (byte offsets into the data section that
// follows the header), plus an optional "__metadata__" object of string values; then the data section, tensors as
// raw little-endian values in row-major order. The writer pads the header with spaces to a multiple of 8 bytes and
// lays the tensors out in the order given, without gaps.
// Contract: `write_safetensors` is atomic: it writes a temporary file beside the target, checks every write, fsyncs
// it, renames it over the target and fsyncs the directory, so a reader sees the old file or the new one, never a
// half-written one. A target that exists and is not a regular file (a pipe, /dev/full) is written in place, every
// write still checked. `read_safetensors` refuses — with a taskpipe::error whose one-line message names the file and
// what is wrong — a file shorter than its header, a header that is not the JSON described above, a dtype other than
// F32, offsets that are out of range, do not match the shape, overlap, or leave gaps. Thread safety: free functions
// on their own arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace taskpipe::nn {

/// One tensor to write: its name, shape and row-major float32 values (data.size() == product of shape).
struct safetensors_view {
  std::string name;
  std::vector<std::size_t> shape;
  std::span<const float> data;
};

/// One tensor read back.
struct safetensors_tensor {
  std::vector<std::size_t> shape;
  std::vector<float> data;
};

struct safetensors_file {
  std::map<std::string, std::string> metadata;
  std::map<std::string, safetensors_tensor> tensors;
};

/// Writes `tensors` (names unique, not "__metadata__") and `metadata` to `path`. Throws taskpipe::error naming the
/// path and the failed operation (the directory is missing, the disk is full, ...).
void write_safetensors(const std::string& path, std::span<const safetensors_view> tensors,
                       const std::map<std::string, std::string>& metadata);

/// The bytes write_safetensors would write.
std::vector<std::uint8_t> encode_safetensors(std::span<const safetensors_view> tensors,
                                             const std::map<std::string, std::string>& metadata);

/// Reads and checks a whole file. Throws taskpipe::error naming the file and what is wrong.
safetensors_file read_safetensors(const std::string& path);

/// Decodes bytes; `what` names their source in messages.
safetensors_file decode_safetensors(std::span<const std::uint8_t> bytes, const std::string& what);

/// Writes `bytes` to `path` atomically as described above (exposed for other checkpoint-like files).
void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes);

}  // namespace taskpipe::nn
