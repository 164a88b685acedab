#include "taskpipe/pp/detail/handcrafted.hpp"

#include <algorithm>
#include <cstddef>
#include <deque>
#include <map>
#include <utility>

namespace taskpipe::pp::detail {

rank_orders delayed_w_order(int ranks, int microbatches, const std::vector<int>& warmup,
                            const std::vector<int>& w_delay) {
  rank_orders out(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    auto& order = out[static_cast<std::size_t>(r)];
    const int warm = std::clamp(warmup[static_cast<std::size_t>(r)], 0, microbatches);
    const int delay = w_delay[static_cast<std::size_t>(r)];
    int next_f = 0;
    int next_w = 0;
    for (; next_f < warm; ++next_f) {
      order.push_back({r, action_kind::forward, next_f});
    }
    for (int k = 0; k < microbatches; ++k) {
      if (next_f < microbatches) {
        order.push_back({r, action_kind::forward, next_f++});
      }
      order.push_back({r, action_kind::backward_input, k});
      if (k >= delay) {
        order.push_back({r, action_kind::backward_weight, next_w++});
      }
    }
    while (next_w < microbatches) {
      order.push_back({r, action_kind::backward_weight, next_w++});
    }
  }
  return out;
}

namespace {

// Appends to one rank's list while counting, per stage and kind, the next micro-batch, as the torch generators do.
class rank_writer {
 public:
  rank_writer(std::vector<action>& order, int microbatches) : order_(order), m_(microbatches) {}

  void add(int stage, action_kind kind) {
    const action_kind counter = kind == action_kind::backward_full ? action_kind::backward_input : kind;
    const int mb = next_[{stage, counter}]++;
    if (kind == action_kind::backward_full) {
      ++next_[{stage, action_kind::backward_weight}];
    } else if (kind == action_kind::backward_input) {
      weights_.emplace_back(stage, mb);
    }
    if (mb < m_) {
      order_.push_back({stage, kind, mb});
    }
  }
  void add_pending_weight() {
    if (weights_.empty()) {
      return;
    }
    const auto [stage, mb] = weights_.front();
    weights_.pop_front();
    ++next_[{stage, action_kind::backward_weight}];
    if (mb < m_) {
      order_.push_back({stage, action_kind::backward_weight, mb});
    }
  }
  int count(int stage, action_kind kind) { return next_[{stage, kind}]; }

 private:
  std::vector<action>& order_;
  int m_;
  std::map<std::pair<int, action_kind>, int> next_;
  std::deque<std::pair<int, int>> weights_;
};

}  // namespace

rank_orders zb_v_hand_order(int ranks, int microbatches) {
  const int p = ranks;
  // Built for at least 2p - 1 micro-batches, the count its steady state needs; the ones beyond m are dropped.
  const int n = std::max(2 * p - 1, microbatches);
  rank_orders out(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) {
    auto& order = out[static_cast<std::size_t>(r)];
    const int c0 = r;
    const int c1 = 2 * p - 1 - r;
    int f0 = 0;
    int f1 = 0;
    int b0 = 0;
    int b1 = 0;
    auto emit = [&](int stage, action_kind k, int mb) {
      if (mb < microbatches) {
        order.push_back({stage, k, mb});
      }
    };
    for (int k = 0; k < 2 * (p - r) - 1; ++k) {
      emit(c0, action_kind::forward, f0++);
    }
    for (int k = 0; k < r; ++k) {
      emit(c1, action_kind::forward, f1++);
      emit(c0, action_kind::forward, f0++);
    }
    for (int k = 0; k < p - r; ++k) {
      emit(c1, action_kind::forward, f1++);
      emit(c1, action_kind::backward_input, b1);
      emit(c1, action_kind::backward_weight, b1++);
    }
    while (f1 < f0 || f0 < n) {
      if (f0 < n) {
        emit(c0, action_kind::forward, f0++);
      }
      emit(c0, action_kind::backward_input, b0);
      emit(c0, action_kind::backward_weight, b0++);
      emit(c1, action_kind::forward, f1++);
      emit(c1, action_kind::backward_input, b1);
      emit(c1, action_kind::backward_weight, b1++);
    }
    int w0 = b0;
    int w1 = b1;
    for (int k = 0; k < r; ++k) {
      emit(c0, action_kind::backward_input, b0++);
      emit(c1, action_kind::backward_input, b1++);
    }
    for (int k = 0; k < p - r; ++k) {
      emit(c0, action_kind::backward_input, b0++);
      emit(c0, action_kind::backward_weight, w0++);
    }
    while (w1 < b1) {
      emit(c1, action_kind::backward_weight, w1++);
    }
    while (w0 < b0) {
      emit(c0, action_kind::backward_weight, w0++);
    }
  }
  return out;
}

rank_orders v_gpipe_order(int ranks, int microbatches) {
  rank_orders out(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    auto& order = out[static_cast<std::size_t>(r)];
    const int c0 = r;
    const int c1 = 2 * ranks - 1 - r;
    for (const int stage : {c0, c1}) {
      for (int mb = 0; mb < microbatches; ++mb) {
        order.push_back({stage, action_kind::forward, mb});
      }
    }
    for (const int stage : {c1, c0}) {
      for (int mb = 0; mb < microbatches; ++mb) {
        order.push_back({stage, action_kind::backward_input, mb});
        order.push_back({stage, action_kind::backward_weight, mb});
      }
    }
  }
  return out;
}

rank_orders dualpipe_v_order(int ranks, int microbatches) {
  const int p = ranks;
  rank_orders out(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) {
    rank_writer w(out[static_cast<std::size_t>(r)], microbatches);
    const int s0 = r;
    const int s1 = 2 * p - 1 - r;
    // The overlapped pair of DualPipe: a forward of one chunk beside the full backward of the other, run in turn.
    auto pair = [&](int forward_stage, int backward_stage) {
      w.add(forward_stage, action_kind::forward);
      w.add(backward_stage, action_kind::backward_full);
    };
    for (int k = 0; k < 2 * (p - r - 1); ++k) {  // 1: chunk-0 forwards
      w.add(s0, action_kind::forward);
    }
    for (int k = 0; k < r + 1; ++k) {  // 2: both chunks' forwards
      w.add(s0, action_kind::forward);
      w.add(s1, action_kind::forward);
    }
    for (int k = 0; k < p - r - 1; ++k) {  // 3: I, W, F on chunk 1 (zero bubble)
      w.add(s1, action_kind::backward_input);
      w.add_pending_weight();
      w.add(s1, action_kind::forward);
    }
    for (int k = 0; k < microbatches - 2 * p + r + 1; ++k) {  // 4: the main phase, two overlapped pairs a step
      pair(s0, s1);
      pair(s1, s0);
    }
    for (int k = 0; k < p - r - 1; ++k) {  // 5: B on chunk 1, then a pair
      w.add(s1, action_kind::backward_full);
      pair(s1, s0);
    }
    bool split = false;  // 6: backwards of both chunks, the second half split into I and W
    for (int k = 0; k < r + 1; ++k) {
      if (k == (r + 1) / 2 && r % 2 == 1) {
        split = true;
      }
      w.add(s1, split ? action_kind::backward_input : action_kind::backward_full);
      if (k == (r + 1) / 2 && r % 2 == 0) {
        split = true;
      }
      w.add(s0, split ? action_kind::backward_input : action_kind::backward_full);
    }
    for (int k = 0; k < p - r - 1; ++k) {  // 7: a W, then a chunk-0 backward
      w.add_pending_weight();
      w.add(s0, split ? action_kind::backward_input : action_kind::backward_full);
    }
    for (int k = 0; k < r + 1; ++k) {  // 8: the remaining W's
      w.add_pending_weight();
    }
  }
  return out;
}

}  // namespace taskpipe::pp::detail
