// taskpipe/verdict/core_round_trip.hpp — how long a cache line takes to go from one core to another and back, now.
//
// Every cross-thread hand-off of a pipeline pays this latency, so a verdict calibrated under one latency predicts
// hand-off-bound chains wrongly under another. On a virtual machine the host may move the virtual cores between
// physical ones while a program runs: on the 2-core VM this project is built on, the round trip jumps between about
// 50 ns and about 325 ns, for seconds at a time, and the word-frequency chain on 2 workers between 357 k and 160 k
// items/s with it. The verdict probes the round trip when it calibrates and before each measurement, and calibrates
// again when the machine has changed (stream_verdict.hpp).
// `core_round_trip_ns` bounces an atomic between the calling thread and one other, 7 bursts of 2000 round trips, and
// returns the fastest burst's time per round trip (a preempted partner slows a burst down; the fastest burst is the
// machine). It takes about 1 ms at 50 ns, at most about 50 ms when the other core is busy, and returns 0 on a machine
// with one hardware thread. `core_latency_changed(a, b)`: whether two probes are in different regimes, more than 2x
// apart (false when either is 0).
// Thread safety: both may be called from any thread; the probe starts and joins one thread of its own.
#pragma once

namespace taskpipe::verdict {

double core_round_trip_ns();

bool core_latency_changed(double a_ns, double b_ns) noexcept;

}  // namespace taskpipe::verdict
