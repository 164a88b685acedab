#include "taskpipe/verdict/gzip_chain.hpp"

#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "taskpipe/error.hpp"

namespace taskpipe::verdict {
namespace {

struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file = std::unique_ptr<std::FILE, file_closer>;

file open_file(const std::string& path, const char* mode) {
  std::FILE* f = std::fopen(path.c_str(), mode);
  if (f == nullptr) {
    throw error("cannot open '" + path + "': " + std::strerror(errno));
  }
  return file{f};
}

void write_all(std::FILE* f, const void* data, std::size_t n, const std::string& path) {
  if (n != 0 && std::fwrite(data, 1, n, f) != n) {
    throw error("cannot write '" + path + "': " + std::strerror(errno));
  }
}

struct chunk {
  std::uint64_t index = 0;
  bool last = false;
  std::vector<unsigned char> bytes;  // the input, then the deflated output
  std::size_t input_size = 0;
  std::uint32_t crc = 0;
};

void deflate_chunk(chunk& c, int level) {
  c.crc = static_cast<std::uint32_t>(crc32(0L, c.bytes.data(), static_cast<uInt>(c.bytes.size())));
  c.input_size = c.bytes.size();
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw error("zlib: deflateInit2 failed");
  }
  std::vector<unsigned char> out(deflateBound(&z, static_cast<uLong>(c.bytes.size())) + 16);
  z.next_in = c.bytes.data();
  z.avail_in = static_cast<uInt>(c.bytes.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  // A sync flush ends a non-final chunk on a byte boundary, so chunks concatenate into one deflate stream.
  const int rc = deflate(&z, c.last ? Z_FINISH : Z_SYNC_FLUSH);
  const bool ok = c.last ? rc == Z_STREAM_END : rc == Z_OK && z.avail_in == 0;
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  if (!ok) {
    throw error("zlib: deflate failed on chunk " + std::to_string(c.index));
  }
  c.bytes = std::move(out);
}

}  // namespace

chain_factory gzip_chain(const gzip_chain_options& o) {
  if (o.level < 1 || o.level > 9) {
    throw invalid_argument("gzip chain: level = " + std::to_string(o.level) + " is out of range; accepted: 1 to 9");
  }
  if (o.chunk < 4096 || o.chunk > (std::size_t{1} << 26U)) {
    throw invalid_argument("gzip chain: chunk = " + std::to_string(o.chunk) +
                           " bytes is out of range; accepted: 4096 to 67108864");
  }
  return [o](executor& ex, const pipeline_options& po) {
    struct state {
      file in;
      file out;
      std::uint64_t next = 0;
      std::optional<std::vector<unsigned char>> ahead;  // the chunk after the current one, to know which is last
      std::uint32_t crc = 0;
      std::uint64_t total = 0;
      bool header_written = false;
      bool done = false;  // the source has produced the last chunk
    };
    auto st = std::make_shared<state>();
    st->in = open_file(o.input, "rb");
    st->out = open_file(o.output, "wb");
    auto read_one = [st, o]() -> std::optional<std::vector<unsigned char>> {
      std::vector<unsigned char> buf(o.chunk);
      const std::size_t n = std::fread(buf.data(), 1, buf.size(), st->in.get());
      if (n == 0) {
        if (std::ferror(st->in.get()) != 0) {
          throw error("cannot read '" + o.input + "': " + std::strerror(errno));
        }
        return std::nullopt;
      }
      buf.resize(n);
      return buf;
    };
    return pipeline{ex, po}
        .source(
            [st, read_one]() -> std::optional<chunk> {
              if (st->done) {
                return std::nullopt;
              }
              if (st->next == 0) {
                st->ahead = read_one();
              }
              chunk c;
              c.index = st->next++;
              if (st->ahead) {  // an empty file makes one empty final chunk
                c.bytes = std::move(*st->ahead);
                st->ahead = read_one();
              }
              c.last = !st->ahead;
              st->done = c.last;
              return c;
            },
            "read")
        .stage(
            taskpipe::parallel,
            [level = o.level](chunk c) {
              deflate_chunk(c, level);
              return c;
            },
            "deflate")
        .sink(
            taskpipe::serial_in_order,
            [st, path = o.output](chunk c) {
              if (!st->header_written) {
                static constexpr std::array<unsigned char, 10> header{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
                write_all(st->out.get(), header.data(), header.size(), path);
                st->header_written = true;
              }
              write_all(st->out.get(), c.bytes.data(), c.bytes.size(), path);
              st->crc = static_cast<std::uint32_t>(crc32_combine(st->crc, c.crc, static_cast<z_off_t>(c.input_size)));
              st->total += c.input_size;
              if (c.last) {
                std::array<unsigned char, 8> trailer{};
                for (unsigned i = 0; i < 4; ++i) {
                  trailer[i] = static_cast<unsigned char>(st->crc >> (8U * i));
                  trailer[4 + i] = static_cast<unsigned char>(st->total >> (8U * i));  // ISIZE: the length mod 2^32
                }
                write_all(st->out.get(), trailer.data(), trailer.size(), path);
                if (std::fflush(st->out.get()) != 0) {
                  throw error("cannot write '" + path + "': " + std::strerror(errno));
                }
              }
            },
            "write");
  };
}

void write_generated_text(const std::string& path, std::size_t bytes, std::uint64_t seed) {
  static constexpr std::array<const char*, 24> words{
      "pipeline", "task",    "stage", "worker", "steal", "queue", "token",  "farm",   "pinned", "the",   "of",    "and",
      "a",        "deflate", "chunk", "order",  "cache", "core",  "memory", "thread", "batch",  "micro", "layer", "to"};
  auto f = open_file(path, "wb");
  std::string line;
  std::uint64_t s = seed * 0x9e3779b97f4a7c15ULL + 1;
  std::size_t written = 0;
  while (written < bytes) {
    line.clear();
    const int n = 6 + static_cast<int>(s % 9);
    for (int w = 0; w < n; ++w) {
      s ^= s << 13U;
      s ^= s >> 7U;
      s ^= s << 17U;
      // Skewed choice: low indices more often, as in text.
      const auto r = s % 1000;
      line += words[(r * r / 1000) * words.size() / 1000];
      if (s % 97 == 0) {
        line += std::to_string(s % 10000);
      }
      line += w + 1 == n ? '\n' : ' ';
    }
    const std::size_t take = std::min(line.size(), bytes - written);
    write_all(f.get(), line.data(), take, path);
    written += take;
  }
  if (std::fflush(f.get()) != 0) {
    throw error("cannot write '" + path + "': " + std::strerror(errno));
  }
}

}  // namespace taskpipe::verdict
