#include "nn_common.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "taskpipe/error.hpp"

#include "taskpipe/nn/text_data.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace taskpipe::cli {

std::vector<std::uint8_t> read_corpus(const std::string& path) {
  return path.empty() ? nn::read_fortunes() : nn::read_text_file(path);
}

std::unique_ptr<executor> make_executor(int threads) {
  if (threads <= 1) {
    return nullptr;
  }
  return std::make_unique<executor>(executor_options{.workers = static_cast<std::size_t>(threads)});
}

void check_output_path(const std::string& flag, const std::string& path) {
  const std::filesystem::path p(path);
  const std::filesystem::path dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw invalid_argument(flag + " " + path + ": directory " + dir.string() + " does not exist");
  }
  if (std::filesystem::is_directory(p, ec)) {
    throw invalid_argument(flag + " " + path + " is a directory");
  }
}

std::string peak_bytes_json(const nn::memory_ledger& ledger) {
  nlohmann::ordered_json j;
  for (std::size_t i = 0; i < nn::memory_category_count; ++i) {
    const auto c = static_cast<nn::memory_category>(i);
    j[std::string(nn::to_string(c))] = ledger.peak(c);
  }
  j["total"] = ledger.peak_total();
  return j.dump();
}

}  // namespace taskpipe::cli
