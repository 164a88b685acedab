#include "train_mpi.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <array>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "progress.hpp"
#include "taskpipe/error.hpp"
#include "taskpipe/mpi/distributed_trainer.hpp"
#include "taskpipe/mpi/job.hpp"
#include "worker_report.hpp"

namespace taskpipe::cli {
namespace {

std::string stages_of(const train::parallel_plan& plan, int rank) {
  std::string out;
  for (int s = 0; s < plan.schedule.stages; ++s) {
    if (plan.schedule.rank_of(s) == rank) {
      out += (out.empty() ? "" : ",") + std::to_string(s);
    }
  }
  return out;
}

std::string layout_lines(const train::parallel_plan& plan) {
  std::string out = fmt::format(
      "mpi: {} ranks = {} replica{} x {} pipeline rank{}, schedule {}, {} micro-batch{} per replica; world rank "
      "w = d*P + r holds pipeline rank r of replica d\n",
      plan.replicas * plan.schedule.ranks, plan.replicas, plan.replicas == 1 ? "" : "s", plan.schedule.ranks,
      plan.schedule.ranks == 1 ? "" : "s", plan.schedule.name, plan.schedule.microbatches,
      plan.schedule.microbatches == 1 ? "" : "es");
  for (int d = 0; d < plan.replicas; ++d) {
    for (int r = 0; r < plan.schedule.ranks; ++r) {
      out += fmt::format("  rank {}: replica {}, pipeline rank {}, stages {}\n", d * plan.schedule.ranks + r, d, r,
                         stages_of(plan, r));
    }
  }
  out += "partition (layers per stage):\n" + plan.cut.describe();
  return out;
}

constexpr std::size_t traffic_numbers = 5;

void traffic_to_numbers(const mpi::traffic& t, std::span<double, traffic_numbers> out) {
  out[0] = static_cast<double>(t.pipeline_sent);  // exact: byte counts stay far below 2^53
  out[1] = static_cast<double>(t.replicas_sent);
  out[2] = static_cast<double>(t.tied_sent);
  out[3] = static_cast<double>(t.activation_bytes);
  out[4] = static_cast<double>(t.gradient_bytes);
}

mpi::traffic traffic_from_numbers(std::span<const double, traffic_numbers> in) {
  return {.pipeline_sent = static_cast<std::uint64_t>(in[0]),
          .replicas_sent = static_cast<std::uint64_t>(in[1]),
          .tied_sent = static_cast<std::uint64_t>(in[2]),
          .activation_bytes = static_cast<std::uint64_t>(in[3]),
          .gradient_bytes = static_cast<std::uint64_t>(in[4])};
}

nlohmann::ordered_json traffic_json(const mpi::traffic& t) {
  return {{"to_pipeline_neighbours", t.pipeline_sent},
          {"to_other_replicas", t.replicas_sent},
          {"tied_embedding_gradient", t.tied_sent},
          {"activation_per_microbatch", t.activation_bytes},
          {"own_gradients", t.gradient_bytes}};
}

}  // namespace

bool under_mpirun() { return mpi::launched_by_mpirun(); }

void check_mpi_flags(const train_cli& o, const train::parallel_plan* plan) {
  if (!under_mpirun()) {
    if (given(o, "--comm-timeout")) {
      throw invalid_argument("--comm-timeout applies under mpirun only: in-process ranks share one process");
    }
    return;
  }
  const int world = mpi::world_size_from_env();
  if (plan == nullptr) {
    if (world > 1) {
      throw invalid_argument("mpirun started " + std::to_string(world) +
                             " ranks; --strategy task runs in one process: use dp, pp or hybrid under mpirun");
    }
    return;
  }
  if (given(o, "--trace")) {
    throw invalid_argument(
        "--trace is not written under mpirun: each rank would need its own file; trace the same "
        "layout on threads (without mpirun)");
  }
  if (o.partition == "profile") {
    throw invalid_argument(
        "--partition profile under mpirun: each rank would time the layers itself and could cut "
        "the model differently; use --partition flops");
  }
  const int need = plan->replicas * plan->schedule.ranks;
  if (world != need) {
    throw invalid_argument("mpirun started " + std::to_string(world) + " ranks; --dp " +
                           std::to_string(plan->replicas) + " x --pp " + std::to_string(plan->schedule.ranks) +
                           " needs -np " + std::to_string(need));
  }
}

void run_mpi_train(const train_cli& o, const nn::gpt2_config& cfg, const train::parallel_plan& plan,
                   const std::optional<nn::checkpoint>& ckpt, std::span<const std::uint8_t> train_split,
                   std::span<const std::uint8_t> validation_split) {
  mpi::job j(plan.replicas, plan.schedule.ranks);
  const mpi::layout& w = j.where();
  const bool root = w.world_rank == 0;
  const std::string who = w.describe(w.world_rank) + ", stages " + stages_of(plan, w.rank);
  std::int64_t at = 0;
  try {
    mpi::distributed_trainer tr(cfg, o.t.seed, plan, train_split, o.t, j, o.comm_timeout);
    at = tr.steps_done();
    if (ckpt) {
      o.resume.empty() ? tr.load_weights(*ckpt) : tr.resume(*ckpt);
    }
    at = tr.steps_done();
    if (root && !o.json) {
      fmt::print("{}", layout_lines(plan));
      std::fflush(stdout);
    }
    const std::int64_t first = tr.steps_done();
    const std::int64_t tokens_per_step = static_cast<std::int64_t>(o.t.batch) * o.t.seq;
    progress bar(first, o.t.steps, tokens_per_step, root && ::isatty(STDERR_FILENO) == 1, o.log_every);
    train::step_report last;
    double seconds = 0;
    while (!tr.done()) {
      at = tr.steps_done();
      last = tr.step();
      seconds += last.seconds;
      if (root && !o.quiet) {
        bar.update(last.step, last.loss, last.lr);
      }
      if (o.save_every > 0 && tr.steps_done() % o.save_every == 0 && !tr.done()) {
        tr.save(o.save);
      }
    }
    at = tr.steps_done();
    if (root) {
      bar.finish();
    }
    if (!o.save.empty()) {
      tr.save(o.save);
    }
    const mpi::traffic moved = tr.model().last_traffic();
    // Every rank's figures to world rank 0, for the same per-worker report as the threads'.
    constexpr std::size_t per_rank = worker_figures::numbers + traffic_numbers;
    std::array<double, per_rank> mine{};
    worker_figures::of(w.replica, w.rank, tr.model().busy_s(), tr.model().idle_s(), tr.model().ledger())
        .to_numbers(std::span<double, worker_figures::numbers>(mine.data(), worker_figures::numbers));
    traffic_to_numbers(moved,
                       std::span<double, traffic_numbers>(mine.data() + worker_figures::numbers, traffic_numbers));
    const std::vector<double> all = j.gather(mine, o.comm_timeout, "the report's gather (each rank's figures)");
    std::unique_ptr<mpi::gathered_model> whole = tr.gather();
    if (root) {
      const std::vector<nn::parameter*> params = whole->model.parameters();
      const std::string checksum = train::parameter_checksum(params);
      std::optional<double> val;
      if (o.val_fraction > 0) {
        val = train::evaluate(whole->model, validation_split, o.t.batch, o.t.seq, o.val_batches);
      }
      const double steps_run = static_cast<double>(tr.steps_done() - first);
      const double tokens_per_second = seconds > 0 ? steps_run * static_cast<double>(tokens_per_step) / seconds : 0;
      std::vector<worker_figures> workers;
      std::vector<mpi::traffic> sent;
      for (std::size_t r = 0; r < static_cast<std::size_t>(w.world_size); ++r) {
        const double* at_rank = all.data() + r * per_rank;
        workers.push_back(worker_figures::from_numbers(
            std::span<const double, worker_figures::numbers>(at_rank, worker_figures::numbers)));
        sent.push_back(traffic_from_numbers(
            std::span<const double, traffic_numbers>(at_rank + worker_figures::numbers, traffic_numbers)));
      }
      if (o.json) {
        nlohmann::ordered_json out;
        out["mpi"] = true;
        out["config"] = {{"vocab", cfg.vocab},
                         {"context", cfg.context},
                         {"embd", cfg.embd},
                         {"layers", cfg.layers},
                         {"heads", cfg.heads}};
        out["strategy"] = o.strategy;
        out["replicas"] = plan.replicas;
        out["ranks"] = plan.schedule.ranks;
        out["schedule"] = plan.schedule.name;
        out["microbatches"] = plan.schedule.microbatches;
        out["batch"] = o.t.batch;
        out["seq"] = o.t.seq;
        out["steps"] = tr.steps_done();
        out["steps_run"] = tr.steps_done() - first;
        out["final_loss"] = last.loss;
        out["validation_loss"] = val ? nlohmann::ordered_json(*val) : nlohmann::ordered_json(nullptr);
        out["tokens_per_second"] = tokens_per_second;
        out["seconds_per_step"] = steps_run > 0 ? seconds / steps_run : 0;
        out["partition"] = partition_json(plan);
        add_workers_json(out, workers);
        for (std::size_t r = 0; r < sent.size(); ++r) {
          out["workers"][r]["bytes_per_step"] = traffic_json(sent[r]);  // the last step's
        }
        out["rank0_bytes_per_step"] = traffic_json(moved);
        out["parameter_count"] = cfg.parameter_count();
        out["parameter_checksum"] = checksum;
        fmt::print("{}\n", out.dump(2));
      } else {
        fmt::print("trained {} steps ({} to {}) of {} on {} MPI ranks: loss {:.4f}", tr.steps_done() - first, first,
                   tr.steps_done(), cfg.to_string(), w.world_size, last.loss);
        if (val) {
          fmt::print(", validation loss {:.4f}", *val);
        }
        fmt::print(", {:.0f} tokens/s, {:.4f} s/step\n", tokens_per_second, steps_run > 0 ? seconds / steps_run : 0);
        for (std::size_t r = 0; r < workers.size(); ++r) {
          const worker_figures& f = workers[r];
          const mpi::traffic& t = sent[r];
          const double total = f.busy_s + f.idle_s;
          fmt::print(
              "replica {} rank {}: busy {:.3f} s, idle {:.3f} s ({:.1f} %), peak bytes parameters {}, gradients {}, "
              "optimizer {}, activations {}; sent per step {} B to pipeline neighbours, {} B to other replicas, {} B "
              "of tied-embedding gradient (one micro-batch's activation {} B, its gradients {} B)\n",
              f.replica, f.rank, f.busy_s, f.idle_s, total > 0 ? 100 * f.idle_s / total : 0.0,
              f.peak[static_cast<std::size_t>(nn::memory_category::parameters)],
              f.peak[static_cast<std::size_t>(nn::memory_category::gradients)],
              f.peak[static_cast<std::size_t>(nn::memory_category::optimizer)],
              f.peak[static_cast<std::size_t>(nn::memory_category::activations)], t.pipeline_sent, t.replicas_sent,
              t.tied_sent, t.activation_bytes, t.gradient_bytes);
        }
        fmt::print("parameters {}\n", checksum);
        if (!o.save.empty()) {
          fmt::print("checkpoint {}\n", o.save);
        }
      }
      std::fflush(stdout);
    }
    j.barrier(o.comm_timeout, "the end of the run (world rank 0 prints the report)");
  } catch (const std::exception& e) {
    const std::string what = e.what();
    j.abort(who + ": " + (what.rfind("step ", 0) == 0 ? "" : "step " + std::to_string(at) + ": ") + what);
  }
}

}  // namespace taskpipe::cli
