#include "taskpipe/nn/safetensors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include "taskpipe/error.hpp"

namespace taskpipe::nn {
namespace {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian; so is this writer");

// The Rust reference refuses headers above 100 MB; so do we, before allocating anything for one.
constexpr std::uint64_t max_header_bytes = 100'000'000;

// Builds a message piece by piece (clang-tidy's performance check: no chains of temporaries inside loops).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (const std::string_view p : parts) {
    out += p;
  }
  return out;
}

std::string errno_text(int e) { return std::generic_category().message(e); }

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    s += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return s + "]";
}

class file_descriptor {
 public:
  explicit file_descriptor(int fd) noexcept : m_fd(fd) {}
  ~file_descriptor() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  int get() const noexcept { return m_fd; }
  /// Closes and reports close's error (a delayed write error on some file systems).
  int close() noexcept { return ::close(std::exchange(m_fd, -1)); }

 private:
  int m_fd;
};

void write_all(int fd, std::span<const std::uint8_t> bytes, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      throw error("cannot write " + path + ": " + (n < 0 ? errno_text(errno) : std::string("wrote nothing")));
    }
    done += static_cast<std::size_t>(n);
  }
}

void write_in_place(const std::string& path, std::span<const std::uint8_t> bytes) {
  file_descriptor fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (fd.get() < 0) {
    throw error("cannot open " + path + " for writing: " + errno_text(errno));
  }
  write_all(fd.get(), bytes, path);
  if (fd.close() != 0) {
    throw error("cannot write " + path + ": " + errno_text(errno));
  }
}

std::size_t element_count(const std::vector<std::size_t>& shape, const std::string& name, const std::string& what) {
  std::size_t n = 1;
  for (const std::size_t d : shape) {
    if (d != 0 && n > std::numeric_limits<std::size_t>::max() / sizeof(float) / d) {
      throw error(cat({what, ": tensor ", name, "'s shape ", shape_text(shape), " overflows"}));
    }
    n *= d;
  }
  return n;
}

}  // namespace

std::vector<std::uint8_t> encode_safetensors(std::span<const safetensors_view> tensors,
                                             const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) {
    header["__metadata__"] = metadata;
  }
  std::size_t offset = 0;
  for (const safetensors_view& t : tensors) {
    if (t.name == "__metadata__" || t.name.empty() || header.contains(t.name)) {
      throw invalid_argument("safetensors: tensor name '" + t.name + "' is empty, reserved or repeated");
    }
    const std::size_t bytes = element_count(t.shape, t.name, "safetensors") * sizeof(float);
    if (t.data.size() * sizeof(float) != bytes) {
      throw invalid_argument("safetensors: tensor " + t.name + " has " + std::to_string(t.data.size()) +
                             " values for shape " + shape_text(t.shape));
    }
    header[t.name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<std::uint8_t> out(8 + text.size() + offset);
  const auto n = static_cast<std::uint64_t>(text.size());
  std::memcpy(out.data(), &n, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::size_t at = 8 + text.size();
  for (const safetensors_view& t : tensors) {
    if (!t.data.empty()) {
      std::memcpy(out.data() + at, t.data.data(), t.data.size() * sizeof(float));
    }
    at += t.data.size() * sizeof(float);
  }
  return out;
}

void write_file_atomically(const std::string& path, std::span<const std::uint8_t> bytes) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) {
      throw error("cannot write " + path + ": it is a directory");
    }
    write_in_place(path, bytes);
    return;
  }
  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw error("cannot write " + path + ": directory " + dir.string() + " does not exist");
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  try {
    file_descriptor fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
      throw error("cannot create " + tmp + ": " + errno_text(errno));
    }
    write_all(fd.get(), bytes, tmp);
    if (::fsync(fd.get()) != 0) {
      throw error("cannot flush " + tmp + " to disk: " + errno_text(errno));
    }
    if (fd.close() != 0) {
      throw error("cannot write " + tmp + ": " + errno_text(errno));
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
      throw error("cannot rename " + tmp + " to " + path + ": " + errno_text(errno));
    }
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  file_descriptor d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.get() < 0 || ::fsync(d.get()) != 0) {
    throw error("cannot flush directory " + dir.string() + " after writing " + path + ": " + errno_text(errno));
  }
}

void write_safetensors(const std::string& path, std::span<const safetensors_view> tensors,
                       const std::map<std::string, std::string>& metadata) {
  write_file_atomically(path, encode_safetensors(tensors, metadata));
}

safetensors_file decode_safetensors(std::span<const std::uint8_t> bytes, const std::string& what) {
  if (bytes.size() < 8) {
    throw error(what + " is truncated: " + std::to_string(bytes.size()) +
                " bytes, shorter than the 8-byte header length");
  }
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > max_header_bytes) {
    throw error(what + " is not a safetensors file: its header length " + std::to_string(header_len) +
                " is over the 100 MB limit");
  }
  if (header_len > bytes.size() - 8) {
    throw error(what + " is truncated: the header claims " + std::to_string(header_len) + " bytes but " +
                std::to_string(bytes.size() - 8) + " follow");
  }
  const auto* begin = reinterpret_cast<const char*>(bytes.data() + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(begin, begin + header_len);
  } catch (const nlohmann::json::exception& e) {
    throw error(what + "'s header is not valid JSON: " + e.what());
  }
  if (!header.is_object()) {
    throw error(what + "'s header is not a JSON object");
  }
  const std::span<const std::uint8_t> data = bytes.subspan(8 + header_len);
  safetensors_file out;
  struct extent {
    std::size_t begin, end;
    std::string name;
  };
  std::vector<extent> extents;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) {
        throw error(what + ": __metadata__ is not an object of strings");
      }
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) {
          throw error(cat({what, ": __metadata__ value of '", key, "' is not a string"}));
        }
        out.metadata[key] = value.get<std::string>();
      }
      continue;
    }
    const std::string t = cat({what, ": tensor ", name});
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets")) {
      throw error(t + " lacks dtype, shape or data_offsets");
    }
    const nlohmann::json& dtype = entry["dtype"];
    if (!dtype.is_string()) {
      throw error(t + "'s dtype is not a string");
    }
    if (dtype.get<std::string>() != "F32") {
      throw error(t + " has dtype " + dtype.get<std::string>() + "; only F32 is supported");
    }
    const nlohmann::json& shape = entry["shape"];
    if (!shape.is_array() ||
        !std::all_of(shape.begin(), shape.end(), [](const nlohmann::json& d) { return d.is_number_unsigned(); })) {
      throw error(t + "'s shape is not a list of non-negative integers");
    }
    safetensors_tensor tensor;
    tensor.shape = shape.get<std::vector<std::size_t>>();
    const nlohmann::json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned()) {
      throw error(t + "'s data_offsets is not a pair of non-negative integers");
    }
    const auto b = offsets[0].get<std::uint64_t>();
    const auto e = offsets[1].get<std::uint64_t>();
    if (b > e || e > data.size()) {
      throw error(t + "'s data_offsets [" + std::to_string(b) + ", " + std::to_string(e) +
                  "] are out of range: the data section holds " + std::to_string(data.size()) +
                  " bytes (truncated or corrupted)");
    }
    const std::size_t count = element_count(tensor.shape, name, what);
    if (e - b != count * sizeof(float)) {
      throw error(t + "'s data_offsets span " + std::to_string(e - b) + " bytes but shape " + shape_text(tensor.shape) +
                  " of F32 needs " + std::to_string(count * sizeof(float)));
    }
    tensor.data.resize(count);
    if (count != 0) {
      std::memcpy(tensor.data.data(), data.data() + b, count * sizeof(float));
    }
    extents.push_back({static_cast<std::size_t>(b), static_cast<std::size_t>(e), name});
    out.tensors.emplace(name, std::move(tensor));
  }
  std::sort(extents.begin(), extents.end(),
            [](const extent& x, const extent& y) { return std::tie(x.begin, x.end) < std::tie(y.begin, y.end); });
  std::size_t at = 0;
  for (std::size_t i = 0; i < extents.size(); ++i) {
    if (extents[i].begin < at) {
      throw error(what + ": tensors " + extents[i - 1].name + " and " + extents[i].name + " overlap");
    }
    if (extents[i].begin > at) {
      throw error(what + ": " + std::to_string(extents[i].begin - at) + " bytes before tensor " + extents[i].name +
                  " belong to no tensor (corrupted)");
    }
    at = extents[i].end;
  }
  if (at != data.size()) {
    throw error(what + ": " + std::to_string(data.size() - at) +
                " bytes after the last tensor belong to no tensor (corrupted)");
  }
  return out;
}

safetensors_file read_safetensors(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw error("checkpoint " + path + " is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw error("checkpoint " + path + " cannot be opened (missing or unreadable)");
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) {
    throw error("checkpoint " + path + " cannot be read");
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw error("checkpoint " + path + " could not be read to its end");
  }
  return decode_safetensors(bytes, "checkpoint " + path);
}

}  // namespace taskpipe::nn
