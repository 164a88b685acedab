#include "taskpipe/nn/tensor.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <utility>

#include "taskpipe/error.hpp"

namespace nn = taskpipe::nn;

TEST(tensor, is_zeroed_aligned_and_counted_under_its_category) {
  nn::memory_ledger ledger;
  {
    nn::tensor t({3, 5}, nn::memory_category::activations, &ledger);
    EXPECT_EQ(t.size(), 15U);
    EXPECT_EQ(t.shape_string(), "[3, 5]");
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % 64, 0U);
    for (std::size_t i = 0; i < t.size(); ++i) {
      EXPECT_EQ(t[i], 0.0F);
    }
    EXPECT_EQ(ledger.current(nn::memory_category::activations), 60U);
    EXPECT_EQ(ledger.current(nn::memory_category::parameters), 0U);
    nn::tensor moved = std::move(t);
    EXPECT_TRUE(t.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is part of the contract
    EXPECT_EQ(ledger.current(nn::memory_category::activations), 60U);
  }
  EXPECT_EQ(ledger.current(nn::memory_category::activations), 0U);
  EXPECT_EQ(ledger.peak(nn::memory_category::activations), 60U);
}

TEST(memory_ledger, keeps_the_high_water_mark_per_category_and_in_total) {
  nn::memory_ledger ledger;
  ledger.allocate(nn::memory_category::parameters, 100);
  ledger.allocate(nn::memory_category::workspace, 50);
  ledger.release(nn::memory_category::workspace, 50);
  ledger.allocate(nn::memory_category::workspace, 20);
  EXPECT_EQ(ledger.peak(nn::memory_category::workspace), 50U);
  EXPECT_EQ(ledger.peak_total(), 150U);
  EXPECT_EQ(ledger.current_total(), 120U);
  ledger.reset_peaks();
  EXPECT_EQ(ledger.peak(nn::memory_category::workspace), 20U);
  EXPECT_EQ(ledger.peak_total(), 120U);
}

TEST(memory_ledger, a_window_peak_restarts_without_touching_the_step_peak) {
  nn::memory_ledger ledger;
  ledger.allocate(nn::memory_category::activations, 100);
  ledger.release(nn::memory_category::activations, 60);
  ledger.start_window();
  EXPECT_EQ(ledger.window_peak(nn::memory_category::activations), 40U);
  ledger.allocate(nn::memory_category::activations, 30);  // a pass's transient: 70 at once, then back to 40
  ledger.release(nn::memory_category::activations, 30);
  ledger.allocate(nn::memory_category::workspace, 5);
  EXPECT_EQ(ledger.window_peak(nn::memory_category::activations), 70U);
  EXPECT_EQ(ledger.window_peak(nn::memory_category::workspace), 5U);
  EXPECT_EQ(ledger.peak(nn::memory_category::activations), 100U);
  EXPECT_EQ(ledger.window_rise(nn::memory_category::activations, 40), 30U);  // the transient above what stays held
  EXPECT_EQ(ledger.window_rise(nn::memory_category::activations, 90), 0U);   // never below zero
  ledger.start_window();
  EXPECT_EQ(ledger.window_peak(nn::memory_category::activations), 40U);
  EXPECT_EQ(ledger.peak(nn::memory_category::activations), 100U);
}

TEST(tensor, refuses_a_shape_that_overflows) {
  const std::size_t big = std::numeric_limits<std::size_t>::max() / 2;
  EXPECT_THROW(nn::tensor({big, 4}, nn::memory_category::workspace), taskpipe::invalid_argument);
}
