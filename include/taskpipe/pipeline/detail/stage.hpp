// detail/stage.hpp — one stage of a chain with its item types erased, so the execution strategies are plain code.
//
// Every item lives in a slot (raw storage big enough for any item type of the chain). A stage takes the item out of
// the slot, calls the user's function, and constructs its result in the same slot. The stage moves its input to a
// local first, so when the user's function throws, the slot is already empty: a slot never holds a half-consumed item.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "taskpipe/pipeline/stage_mode.hpp"

namespace taskpipe::detail {

class stage_base {
 public:
  stage_base(stage_mode mode, std::string name) : mode_(mode), name_(std::move(name)) {}
  virtual ~stage_base() = default;
  stage_base(const stage_base&) = delete;
  stage_base& operator=(const stage_base&) = delete;

  /// Source: constructs the next item in `slot`, false at the end of the stream. Other stages: consume the item in
  /// `slot` and (except the sink) construct the result there. Returns true. On an exception the slot is empty.
  virtual bool invoke(void* slot) = 0;
  /// Destroys an item this stage produced (the item left in a slot when a run is abandoned).
  virtual void destroy_output(void* slot) noexcept = 0;

  [[nodiscard]] stage_mode mode() const noexcept { return mode_; }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  stage_mode mode_;
  std::string name_;
};

template <class T>
T take_item(void* slot) noexcept(std::is_nothrow_move_constructible_v<T>) {
  T* p = std::launder(static_cast<T*>(slot));
  T v = std::move(*p);
  std::destroy_at(p);
  return v;
}

template <class T, class F>
class source_stage final : public stage_base {
 public:
  source_stage(F f, std::string name) : stage_base(stage_mode::serial_in_order, std::move(name)), f_(std::move(f)) {}
  bool invoke(void* slot) override {
    std::optional<T> v = f_();
    if (!v) {
      return false;
    }
    ::new (slot) T(std::move(*v));
    return true;
  }
  void destroy_output(void* slot) noexcept override { std::destroy_at(std::launder(static_cast<T*>(slot))); }

 private:
  F f_;
};

template <class In, class Out, class F>
class middle_stage final : public stage_base {
 public:
  middle_stage(stage_mode m, F f, std::string name) : stage_base(m, std::move(name)), f_(std::move(f)) {}
  bool invoke(void* slot) override {
    In v = take_item<In>(slot);
    ::new (slot) Out(f_(std::move(v)));
    return true;
  }
  void destroy_output(void* slot) noexcept override { std::destroy_at(std::launder(static_cast<Out*>(slot))); }

 private:
  F f_;
};

template <class In, class F>
class sink_stage final : public stage_base {
 public:
  sink_stage(stage_mode m, F f, std::string name) : stage_base(m, std::move(name)), f_(std::move(f)) {}
  bool invoke(void* slot) override {
    In v = take_item<In>(slot);
    f_(std::move(v));
    return true;
  }
  void destroy_output(void* /*slot*/) noexcept override {}

 private:
  F f_;
};

/// The erased chain: the stages in order and the slot size and alignment that fit every item type.
struct chain {
  std::vector<std::unique_ptr<stage_base>> stages;
  std::size_t slot_size = 1;
  std::size_t slot_align = alignof(std::max_align_t);
  /// Each stage's busy time per item (ns) in the last run that finished, for placing stages under `pinned`.
  std::vector<double> measured_cost_ns;

  template <class T>
  void fit() {
    static_assert(alignof(T) <= 64, "taskpipe::pipeline: item types aligned to more than 64 bytes are not supported");
    slot_size = std::max(slot_size, sizeof(T));
    slot_align = std::max(slot_align, alignof(T));
  }
};

}  // namespace taskpipe::detail
