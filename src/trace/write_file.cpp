#include "taskpipe/trace/write_file.hpp"

#include "taskpipe/detail/quote.hpp"
#include "taskpipe/error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace taskpipe::trace {

namespace {

[[noreturn]] void fail(std::string_view step, std::string_view what, const std::string& path, int err) {
  throw error("cannot " + std::string(step) + " " + std::string(what) + " '" + detail::quote(path, 200) +
              "': " + std::strerror(err));
}

struct closer {
  void operator()(std::FILE* f) const noexcept { static_cast<void>(std::fclose(f)); }
};

}  // namespace

void write_file(const std::string& path, std::string_view content, std::string_view what) {
  if (path.empty()) {
    throw error("cannot write " + std::string(what) + ": the file name is empty");
  }
  errno = 0;
  std::unique_ptr<std::FILE, closer> file{std::fopen(path.c_str(), "wb")};
  if (!file) {
    fail("create", what, path, errno);
  }
  // Buffered writes report a full disk only when the buffer goes out, so each of write, flush and close is checked.
  if (!content.empty() && std::fwrite(content.data(), 1, content.size(), file.get()) != content.size()) {
    fail("write", what, path, errno);
  }
  if (std::fflush(file.get()) != 0) {
    fail("write", what, path, errno);
  }
  if (std::fclose(file.release()) != 0) {
    fail("close", what, path, errno);
  }
}

}  // namespace taskpipe::trace
