#include "taskpipe/verdict/chain_workload.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>
#include <string>

#include "taskpipe/error.hpp"

namespace taskpipe::verdict {
namespace {

using json = nlohmann::json;

[[noreturn]] void refuse(std::string_view origin, const std::string& where, const std::string& what) {
  throw invalid_argument(std::string(origin) + ": " + where + ": " + what);
}

std::string type_name(const json& v) { return v.type_name(); }

void only_fields(std::string_view origin, const std::string& where, const json& obj,
                 const std::set<std::string>& accepted) {
  for (const auto& [key, value] : obj.items()) {
    if (accepted.count(key) == 0) {
      std::string list;
      for (const auto& a : accepted) {
        list += list.empty() ? "" : ", ";
        list += a;
      }
      std::string field = where;
      field += where.empty() ? "" : ".";
      field += key;
      refuse(origin, field, "unknown field; accepted: " + list);
    }
  }
}

double number_in(std::string_view origin, const std::string& where, const json& v, double lo, double hi) {
  if (!v.is_number()) {
    refuse(origin, where, "must be a number, not " + type_name(v));
  }
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    refuse(origin, where, json(x).dump() + " is out of range; accepted: " + json(lo).dump() + " to " + json(hi).dump());
  }
  return x;
}

std::size_t count_in(std::string_view origin, const std::string& where, const json& v, std::size_t lo, std::size_t hi) {
  if (!v.is_number_integer() && !v.is_number_unsigned()) {
    refuse(origin, where, "must be a whole number, not " + (v.is_number() ? v.dump() : type_name(v)));
  }
  if (v.is_number_integer() && v.get<long long>() < 0) {
    refuse(origin, where, v.dump() + " is out of range; accepted: " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  const auto x = v.get<unsigned long long>();
  if (x < lo || x > hi) {
    refuse(origin, where, v.dump() + " is out of range; accepted: " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return static_cast<std::size_t>(x);
}

std::string text_of(std::string_view origin, const std::string& where, const json& v) {
  if (!v.is_string()) {
    refuse(origin, where, "must be a string, not " + type_name(v));
  }
  auto s = v.get<std::string>();
  if (s.size() > 200) {
    refuse(origin, where, "is " + std::to_string(s.size()) + " characters long; accepted: at most 200");
  }
  return s;
}

stage_mode mode_of(std::string_view origin, const std::string& where, const json& v) {
  const auto s = text_of(origin, where, v);
  for (const auto m : {stage_mode::serial_in_order, stage_mode::serial_out_of_order, stage_mode::parallel}) {
    if (s == to_string(m)) {
      return m;
    }
  }
  refuse(origin, where, json(s).dump() + " is not a mode; accepted: serial_in_order, serial_out_of_order, parallel");
}

}  // namespace

void validate(const chain_workload& w, std::string_view origin) {
  if (w.items < 1 || w.items > workload_items_limit) {
    refuse(origin, "items",
           std::to_string(w.items) + " is out of range; accepted: 1 to " + std::to_string(workload_items_limit));
  }
  if (w.stages.size() < 2 || w.stages.size() > workload_stages_limit) {
    refuse(origin, "stages",
           "has " + std::to_string(w.stages.size()) + " stages; accepted: 2 (a source and a sink) to " +
               std::to_string(workload_stages_limit));
  }
  double serial_us = 0;
  for (std::size_t i = 0; i < w.stages.size(); ++i) {
    const auto& s = w.stages[i];
    const std::string where = "stages[" + std::to_string(i) + "]";
    if (i == 0 && s.mode != stage_mode::serial_in_order) {
      refuse(
          origin, where + ".mode",
          "the first stage is the source, which is always serial_in_order; it says " + std::string(to_string(s.mode)));
    }
    if (!(s.cost_us >= 0 && s.cost_us <= workload_cost_us_limit)) {
      refuse(origin, where + ".cost_us", "is out of range; accepted: 0 to 1e6");
    }
    if (!(s.spread >= 0 && s.spread <= workload_spread_limit)) {
      refuse(origin, where + ".spread", "is out of range; accepted: 0 to 4");
    }
    if (s.state_bytes > workload_state_bytes_limit) {
      refuse(origin, where + ".state_bytes", "is out of range; accepted: 0 to 2^30");
    }
    if (s.item_bytes > workload_item_bytes_limit) {
      refuse(origin, where + ".item_bytes", "is out of range; accepted: 0 to 2^26");
    }
    serial_us += s.cost_us;
  }
  const double serial_s = serial_us * static_cast<double>(w.items) * 1e-6;
  if (serial_s > workload_serial_seconds_limit) {
    refuse(origin, "items",
           std::to_string(w.items) + " items of " + json(serial_us).dump() + " us each would take " +
               std::to_string(static_cast<long long>(serial_s)) +
               " s serially; accepted: at most 600 s (use fewer items)");
  }
}

chain_workload parse_chain_workload(std::string_view text, std::string_view origin) {
  json doc;
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    // nlohmann's message starts with "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    std::string what = e.what();
    const auto at = what.find("parse error");
    throw invalid_argument(std::string(origin) +
                           ": not valid JSON: " + (at == std::string::npos ? what : what.substr(at)));
  }
  if (!doc.is_object()) {
    refuse(origin, "the document", "must be a JSON object with a \"stages\" array, not " + type_name(doc));
  }
  only_fields(origin, "", doc, {"name", "items", "stages"});
  chain_workload w;
  if (doc.contains("name")) {
    w.name = text_of(origin, "name", doc["name"]);
  }
  if (doc.contains("items")) {
    w.items = count_in(origin, "items", doc["items"], 1, workload_items_limit);
  }
  if (!doc.contains("stages")) {
    refuse(origin, "stages", "is missing; a workload needs a \"stages\" array (source first, sink last)");
  }
  const json& stages = doc["stages"];
  if (!stages.is_array()) {
    refuse(origin, "stages", "must be an array, not " + type_name(stages));
  }
  if (stages.size() < 2 || stages.size() > workload_stages_limit) {
    refuse(origin, "stages",
           "has " + std::to_string(stages.size()) + " stages; accepted: 2 (a source and a sink) to " +
               std::to_string(workload_stages_limit));
  }
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const std::string where = "stages[" + std::to_string(i) + "]";
    const json& s = stages[i];
    if (!s.is_object()) {
      refuse(origin, where, "must be an object, not " + type_name(s));
    }
    only_fields(origin, where, s, {"name", "mode", "cost_us", "spread", "state_bytes", "item_bytes"});
    stage_workload st;
    st.name = s.contains("name")       ? text_of(origin, where + ".name", s["name"])
              : i == 0                 ? "source"
              : i + 1 == stages.size() ? "sink"
                                       : "stage " + std::to_string(i);
    if (s.contains("mode")) {
      st.mode = mode_of(origin, where + ".mode", s["mode"]);
    }
    if (s.contains("cost_us")) {
      st.cost_us = number_in(origin, where + ".cost_us", s["cost_us"], 0, workload_cost_us_limit);
    }
    if (s.contains("spread")) {
      st.spread = number_in(origin, where + ".spread", s["spread"], 0, workload_spread_limit);
    }
    if (s.contains("state_bytes")) {
      st.state_bytes = count_in(origin, where + ".state_bytes", s["state_bytes"], 0, workload_state_bytes_limit);
    }
    if (s.contains("item_bytes")) {
      st.item_bytes = count_in(origin, where + ".item_bytes", s["item_bytes"], 0, workload_item_bytes_limit);
    }
    w.stages.push_back(std::move(st));
  }
  validate(w, origin);
  return w;
}

}  // namespace taskpipe::verdict
