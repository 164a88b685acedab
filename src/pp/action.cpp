#include "taskpipe/pp/action.hpp"

#include "taskpipe/detail/quote.hpp"
#include "taskpipe/error.hpp"

#include <cctype>
#include <charconv>

namespace taskpipe::pp {

char kind_letter(action_kind kind) noexcept {
  switch (kind) {
    case action_kind::forward:
      return 'F';
    case action_kind::backward_input:
      return 'I';
    case action_kind::backward_weight:
      return 'W';
    case action_kind::backward_full:
      return 'B';
  }
  return '?';
}

std::string to_string(const action& a) {
  return std::to_string(a.stage) + kind_letter(a.kind) + std::to_string(a.microbatch);
}

namespace {

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

[[noreturn]] void bad_action(std::string_view text) {
  throw invalid_argument("bad action '" + detail::quote(text) +
                         "': expected <stage><F|I|W|B><micro-batch> with non-negative integers, e.g. 2F0");
}

int parse_int(std::string_view digits, std::string_view whole) {
  int value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc{} || end != digits.data() + digits.size()) {
    bad_action(whole);
  }
  return value;
}

}  // namespace

action parse_action(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())) != 0) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) {
    ++i;
  }
  if (i == 0 || i + 1 >= text.size()) {
    bad_action(text);
  }
  action a;
  a.stage = parse_int(text.substr(0, i), text);
  switch (text[i]) {
    case 'F':
      a.kind = action_kind::forward;
      break;
    case 'I':
      a.kind = action_kind::backward_input;
      break;
    case 'W':
      a.kind = action_kind::backward_weight;
      break;
    case 'B':
      a.kind = action_kind::backward_full;
      break;
    default:
      bad_action(text);
  }
  const std::string_view rest = text.substr(i + 1);
  for (const char c : rest) {
    if (!is_digit(c)) {
      bad_action(text);
    }
  }
  a.microbatch = parse_int(rest, text);
  return a;
}

}  // namespace taskpipe::pp
