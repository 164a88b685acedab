// taskpipe/pipeline/pipeline.hpp — a typed stream of items through stages: source → stages → sink, run by one of
// three execution strategies (see pipeline_options.hpp).
//
// Declaring: `pipeline{ex, options}` starts a chain; `.source(f)` takes `f() -> std::optional<T>` (nullopt ends the
// stream; always called serially); each `.stage(mode, f)` takes `f(In) -> Out`; `.sink(mode, f)` takes `f(In)` and
// closes the chain. Every step returns a new builder typed by the item it produces, so a stage that cannot take the
// previous stage's output is a compile error with a readable message. Each step consumes the builder it is called on:
// a step on a named builder does not compile, and one on a builder already moved from throws taskpipe::error.
//
// Running: `run()` (or `run(strategy)`) streams items until the source ends, the stop token in the options stops it,
// or a stage throws; it returns once every thread of the run is done, with per-stage statistics.
// Guarantees, the same under every strategy:
// - every item the source produced reaches every stage exactly once, unless a stage threw (below);
// - at most `max_in_flight` items are alive at once (from the source's return to the sink's return);
// - a `serial_*` stage is never called concurrently, and a `serial_in_order` stage sees items in source order.
// Stop: the source is not called again; items already produced finish every stage; `stats.stopped` is set.
// Exceptions: when a stage (or the source) throws, the source is not called again, no stage call starts after the
//   failure is seen, and every other item in flight is dropped (destroyed) at its next stage, so each item has gone
//   through a prefix of the chain. The first exception is rethrown by `run()`; later ones are discarded. Bad options
//   throw `taskpipe::invalid_argument` before anything runs.
// Stages may use task parallelism inside (a task_group, parallel algorithms on the same executor) without deadlock.
// Thread safety: one `run()` at a time per pipeline; stage functions must allow what their mode says.
//
// Example:
//   taskpipe::executor ex;
//   std::ifstream in{"words.txt"};
//   auto stats = taskpipe::pipeline{ex, {.max_in_flight = 16}}
//     .source([&]() -> std::optional<std::string> { std::string l; if (std::getline(in, l)) return l; return {}; })
//     .stage(taskpipe::parallel, [](std::string l) { return l.size(); })
//     .sink(taskpipe::serial_in_order, [&](std::size_t n) { total += n; })
//     .run();
//   std::cout << stats.throughput() << " lines/s\n";
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "taskpipe/error.hpp"
#include "taskpipe/pipeline/detail/stage.hpp"
#include "taskpipe/pipeline/pipeline_options.hpp"
#include "taskpipe/pipeline/pipeline_stats.hpp"
#include "taskpipe/pipeline/stage_mode.hpp"
#include "taskpipe/runtime/executor.hpp"

namespace taskpipe {

namespace detail {
template <class T>
struct optional_value {};
template <class T>
struct optional_value<std::optional<T>> {
  using type = T;
};
template <class T>
concept is_optional = requires {
  typename optional_value<std::remove_cvref_t<T>>::type;
};

pipeline_stats run_chain(executor& ex, chain& c, const pipeline_options& o);

template <class>
inline constexpr bool always_false = false;
}  // namespace detail

/// A complete chain, ready to run (possibly several times, e.g. once per strategy with a fresh source state).
class runnable_pipeline {
 public:
  /// Runs with the strategy in the options. See the header comment for guarantees.
  pipeline_stats run() { return detail::run_chain(*ex_, chain_, options_); }

  /// Runs with another strategy than the options say.
  pipeline_stats run(execution_strategy s) {
    options_.strategy = s;
    return run();
  }

  pipeline_options& options() noexcept { return options_; }
  [[nodiscard]] std::size_t stage_count() const noexcept { return chain_.stages.size(); }
  /// Bytes of the slot each item in flight occupies (the largest item type of the chain; heap the items own aside).
  [[nodiscard]] std::size_t slot_bytes() const noexcept { return chain_.slot_size; }

 private:
  template <class>
  friend class pipeline_builder;
  runnable_pipeline(executor& ex, pipeline_options o, detail::chain c)
      : ex_(&ex), options_(std::move(o)), chain_(std::move(c)) {}

  executor* ex_;
  pipeline_options options_;
  detail::chain chain_;
};

/// A chain whose last stage produces items of type T.
template <class T>
class pipeline_builder {
 public:
  /// Appends `f(T) -> Out` called as `mode` says; `name` labels it in statistics and traces. Consumes the builder.
  template <class F>
  auto stage(stage_mode mode, F&& f, std::string name = {}) && {
    require_unconsumed("stage");
    using fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<fn&, T&&>,
                  "taskpipe::pipeline::stage: this stage cannot be called with the item type the previous stage "
                  "produces; check its parameter type against the previous stage's return type");
    if constexpr (std::is_invocable_v<fn&, T&&>) {
      using out = std::remove_cvref_t<std::invoke_result_t<fn&, T&&>>;
      static_assert(!std::is_void_v<out>,
                    "taskpipe::pipeline::stage: a middle stage must return the item for the next stage; use sink() "
                    "for the last stage");
      static_assert(std::is_void_v<out> || std::is_move_constructible_v<out>,
                    "taskpipe::pipeline::stage: the item type a stage returns must be move constructible");
      if constexpr (!std::is_void_v<out>) {
        chain_.template fit<out>();
        chain_.stages.push_back(std::make_unique<detail::middle_stage<T, out, fn>>(
            mode, std::forward<F>(f),
            name.empty() ? "stage " + std::to_string(chain_.stages.size()) : std::move(name)));
        return pipeline_builder<out>(*ex_, std::move(options_), std::move(chain_));
      }
    }
  }

  /// Closes the chain with `f(T)` called as `mode` says (its result, if any, is discarded). Consumes the builder.
  template <class F>
  runnable_pipeline sink(stage_mode mode, F&& f, std::string name = "sink") && {
    require_unconsumed("sink");
    using fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<fn&, T&&>,
                  "taskpipe::pipeline::sink: the sink cannot be called with the item type the previous stage "
                  "produces; check its parameter type against the previous stage's return type");
    if constexpr (std::is_invocable_v<fn&, T&&>) {
      chain_.stages.push_back(std::make_unique<detail::sink_stage<T, fn>>(mode, std::forward<F>(f), std::move(name)));
    }
    return runnable_pipeline(*ex_, std::move(options_), std::move(chain_));
  }

  // A step on a named builder would append to a chain that an earlier step already moved away, so the new chain
  // would start with a middle stage: chain the calls instead, as the header's example does.
  template <class F>
  void stage(stage_mode /*mode*/, F&& /*f*/, const std::string& /*name*/ = {}) const& {
    static_assert(detail::always_false<F>,
                  "taskpipe::pipeline::stage: each step consumes the builder; chain the calls (or call it on "
                  "std::move(builder) once): a builder must not be reused");
  }
  template <class F>
  void sink(stage_mode /*mode*/, F&& /*f*/, const std::string& /*name*/ = {}) const& {
    static_assert(detail::always_false<F>,
                  "taskpipe::pipeline::sink: each step consumes the builder; chain the calls (or call it on "
                  "std::move(builder) once): a builder must not be reused");
  }

 private:
  template <class>
  friend class pipeline_builder;
  friend class pipeline;
  pipeline_builder(executor& ex, pipeline_options o, detail::chain c)
      : ex_(&ex), options_(std::move(o)), chain_(std::move(c)) {}

  // A builder moved from (`std::move(b)` used twice) has lost its chain, which always holds at least the source.
  void require_unconsumed(const char* step) const {
    if (chain_.stages.empty()) {
      throw error(std::string("taskpipe::pipeline::") + step +
                  ": this builder was already consumed by an earlier step; chain the calls on the builder each step "
                  "returns");
    }
  }

  executor* ex_;
  pipeline_options options_;
  detail::chain chain_;
};

/// The start of a chain: the executor that runs it and the options.
class pipeline {
 public:
  explicit pipeline(executor& ex, pipeline_options o = {}) : ex_(&ex), options_(std::move(o)) {}

  /// Sets the source, `f() -> std::optional<T>`: it returns the next item, or nullopt at the end of the stream.
  /// Consumes the pipeline (its options move into the chain); a second call throws taskpipe::error.
  template <class F>
  auto source(F&& f, std::string name = "source") {
    if (std::exchange(used_, true)) {
      throw error(
          "taskpipe::pipeline::source: this pipeline already has a source (its options went to that chain); "
          "start a new pipeline{ex, options} for another chain");
    }
    using fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<fn&>,
                  "taskpipe::pipeline::source: the source must be callable with no arguments");
    if constexpr (std::is_invocable_v<fn&>) {
      using result = std::invoke_result_t<fn&>;
      static_assert(detail::is_optional<result>,
                    "taskpipe::pipeline::source: the source must return std::optional<T> (nullopt ends the stream)");
      if constexpr (detail::is_optional<result>) {
        using item = typename detail::optional_value<std::remove_cvref_t<result>>::type;
        detail::chain c;
        c.template fit<item>();
        c.stages.push_back(std::make_unique<detail::source_stage<item, fn>>(std::forward<F>(f), std::move(name)));
        return pipeline_builder<item>(*ex_, std::move(options_), std::move(c));
      }
    }
  }

 private:
  executor* ex_;
  pipeline_options options_;
  bool used_ = false;
};

}  // namespace taskpipe
