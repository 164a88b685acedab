#include "taskpipe/train/parallel_model.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include "taskpipe/error.hpp"
#include "taskpipe/nn/gpt2.hpp"
#include "taskpipe/nn/head_layer.hpp"
#include "taskpipe/nn/non_finite_error.hpp"
#include "taskpipe/pp/stage_runtime.hpp"

namespace taskpipe::train {

namespace {

pp::payload to_payload(const nn::tensor& t) {
  pp::payload p(t.bytes());
  if (!p.empty()) {
    std::memcpy(p.data(), t.data(), t.bytes());
  }
  return p;
}

nn::tensor from_payload(const pp::payload& p, std::size_t embd, nn::memory_ledger* ledger) {
  const std::size_t rows = p.size() / (embd * sizeof(float));
  nn::tensor t({rows, embd}, nn::memory_category::activations, ledger);
  if (!p.empty()) {
    std::memcpy(t.data(), p.data(), p.size());
  }
  return t;
}

// One pipeline stage of one replica: its layers and, per micro-batch, their saved states.
struct stage {
  std::vector<nn::layer*> layers;
  std::vector<std::vector<std::unique_ptr<nn::layer_state>>> states;  // [micro-batch][layer]
  std::vector<std::size_t> kept;  // [micro-batch]: activation bytes its F left held, its output excluded
  nn::memory_ledger* ledger = nullptr;
  parallel_model::stage_activations most;  // the most one micro-batch held after its F and its I, and within passes
};

struct replica {
  std::vector<std::unique_ptr<nn::memory_ledger>> ledgers;  // per rank
  std::vector<std::unique_ptr<nn::layer>> layers;           // the whole list, index = model layer
  std::vector<stage> stages;
  std::vector<std::unique_ptr<nn::adamw>> optimizers;  // per rank
  std::vector<nn::micro_batch> micro;
  std::vector<float> losses;
  // Per rank, the most one micro-batch's activations hold at the end of its F or its I, the outgoing tensor included:
  // I adds the output gradients W needs (a block keeps 11 of them per row of d, while freeing 7.5 + its attention
  // probabilities), so what F keeps alone is not the most a micro-batch holds before its W.
  std::vector<std::size_t> activation_bytes;
  parallel_model::replica_run run;
  bool started = false;  // whether stage 0's first F of this run has set run.start
};

void copy_into(const nn::tensor& from, nn::tensor& to) {
  if (from.shape() != to.shape()) {
    throw invalid_argument("parallel_model: a tensor of shape " + from.shape_string() + " copied into one of shape " +
                           to.shape_string());
  }
  if (!from.empty()) {
    std::memcpy(to.data(), from.data(), from.bytes());
  }
}

// The optimizer of the rank that holds `p`, and p's index in it.
std::pair<nn::adamw*, std::size_t> locate(replica& r, const nn::parameter* p) {
  for (auto& o : r.optimizers) {
    const auto params = o->parameters();
    const auto it = std::find(params.begin(), params.end(), p);
    if (it != params.end()) {
      return {o.get(), static_cast<std::size_t>(it - params.begin())};
    }
  }
  throw error("parallel_model: parameter " + p->name + " has no optimizer");
}

// Throws unless `other` lists parameters named and shaped as `mine`, in the same order.
void check_matches(std::span<nn::parameter* const> mine, std::span<nn::parameter* const> other) {
  if (mine.size() != other.size()) {
    throw invalid_argument("parallel_model: an optimizer over " + std::to_string(other.size()) +
                           " parameters; the model has " + std::to_string(mine.size()));
  }
  for (std::size_t i = 0; i < mine.size(); ++i) {
    if (mine[i]->name != other[i]->name || mine[i]->value.shape() != other[i]->value.shape()) {
      throw invalid_argument("parallel_model: the optimizer's parameter " + std::to_string(i) + " is " +
                             other[i]->name + " " + other[i]->value.shape_string() + "; the model's is " +
                             mine[i]->name + " " + mine[i]->value.shape_string());
    }
  }
}

// to.grad += from.grad, element by element.
void add_into(nn::parameter& to, const nn::parameter& from) {
  float* a = to.grad.data();
  const float* b = from.grad.data();
  for (std::size_t k = 0; k < to.grad.size(); ++k) {
    a[k] += b[k];
  }
}

// Replica 0's gradients (`from`: parameters(0), wte first) copied to every replica's head copy of wte and to every
// other replica's parameters, so that all copies step alike.
void copy_gradients_to_every_copy(parallel_model& model, std::size_t replicas,
                                  const std::vector<nn::parameter*>& from) {
  const nn::parameter& wte = *from.front();
  for (std::size_t d = 0; d < replicas; ++d) {
    std::memcpy(model.head_wte(static_cast<int>(d)).grad.data(), wte.grad.data(), wte.grad.bytes());
    if (d > 0) {
      std::vector<nn::parameter*> other = model.parameters(static_cast<int>(d));
      for (std::size_t i = 0; i < from.size(); ++i) {
        std::memcpy(other[i]->grad.data(), from[i]->grad.data(), from[i]->grad.bytes());
      }
    }
  }
}

}  // namespace

struct parallel_model::impl {
  nn::gpt2_config config;
  pp::schedule schedule;
  std::vector<std::size_t> bounds;
  std::vector<replica> replicas;
};

parallel_model::parallel_model(const nn::gpt2_config& config, std::uint64_t seed, const pp::schedule& schedule,
                               std::vector<std::size_t> bounds, int replicas, const nn::adamw_options& adamw)
    : m(std::make_unique<impl>()) {
  config.validate();
  const std::size_t layer_count = static_cast<std::size_t>(config.layers) + 2;
  if (replicas < 1) {
    throw invalid_argument("parallel_model: " + std::to_string(replicas) + " replicas; must be >= 1");
  }
  if (bounds.size() != static_cast<std::size_t>(schedule.stages) + 1 || bounds.front() != 0 ||
      bounds.back() != layer_count || !std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end()) {
    throw invalid_argument("parallel_model: the cut must give each of the schedule's " +
                           std::to_string(schedule.stages) + " stages at least one of the " +
                           std::to_string(layer_count) + " layers, in order");
  }
  m->config = config;
  m->schedule = schedule;
  m->bounds = std::move(bounds);
  m->replicas.resize(static_cast<std::size_t>(replicas));
  for (replica& r : m->replicas) {
    for (int k = 0; k < schedule.ranks; ++k) {
      r.ledgers.push_back(std::make_unique<nn::memory_ledger>());
    }
    r.layers.resize(layer_count);
    r.stages.resize(static_cast<std::size_t>(schedule.stages));
    std::vector<std::vector<nn::parameter*>> rank_params(static_cast<std::size_t>(schedule.ranks));
    for (std::size_t s = 0; s < r.stages.size(); ++s) {
      const auto rank = static_cast<std::size_t>(schedule.rank_of(static_cast<int>(s)));
      r.stages[s].ledger = r.ledgers[rank].get();
      for (std::size_t l = m->bounds[s]; l < m->bounds[s + 1]; ++l) {
        r.layers[l] = nn::make_layer(config, l, seed, r.stages[s].ledger);
        r.stages[s].layers.push_back(r.layers[l].get());
        for (nn::parameter* p : r.layers[l]->parameters()) {
          rank_params[rank].push_back(p);
        }
      }
    }
    for (std::size_t k = 0; k < rank_params.size(); ++k) {
      r.optimizers.push_back(std::make_unique<nn::adamw>(rank_params[k], adamw, r.ledgers[k].get()));
    }
    r.activation_bytes.assign(static_cast<std::size_t>(schedule.ranks), 0);
  }
}

parallel_model::~parallel_model() = default;

int parallel_model::ranks() const noexcept { return m->schedule.ranks; }
int parallel_model::replicas() const noexcept { return static_cast<int>(m->replicas.size()); }

nn::memory_ledger& parallel_model::ledger(int replica, int rank) {
  return *m->replicas.at(static_cast<std::size_t>(replica)).ledgers.at(static_cast<std::size_t>(rank));
}

std::size_t parallel_model::micro_batch_activation_bytes(int rank) const {
  return m->replicas.at(0).activation_bytes.at(static_cast<std::size_t>(rank));
}

parallel_model::stage_activations parallel_model::micro_batch_stage_bytes(int stage) const {
  return m->replicas.at(0).stages.at(static_cast<std::size_t>(stage)).most;
}

pp::costs parallel_model::activation_costs(pp::costs times) const {
  const auto& stages = m->replicas.at(0).stages;
  if (times.per_stage.size() == 1) {
    times.per_stage.resize(stages.size(), times.per_stage.front());
  }
  if (times.per_stage.size() != stages.size()) {
    throw invalid_argument("parallel_model: costs for " + std::to_string(times.per_stage.size()) +
                           " stages; the model has " + std::to_string(stages.size()));
  }
  for (std::size_t s = 0; s < stages.size(); ++s) {
    times.per_stage[s].activation_bytes = static_cast<double>(stages[s].most.after_forward);
    times.per_stage[s].w_bytes = static_cast<double>(stages[s].most.after_input_grad);
    times.per_stage[s].f_work_bytes = static_cast<double>(stages[s].most.forward_work);
    times.per_stage[s].b_work_bytes = static_cast<double>(stages[s].most.input_grad_work);
    times.per_stage[s].w_work_bytes = static_cast<double>(stages[s].most.weight_grad_work);
  }
  return times;
}

nn::parameter& parallel_model::head_wte(int replica) {
  auto& head = dynamic_cast<nn::head_layer&>(*m->replicas.at(static_cast<std::size_t>(replica)).layers.back());
  return head.wte();
}

std::vector<nn::parameter*> parallel_model::parameters(int replica) {
  std::vector<nn::parameter*> out;
  for (auto& l : m->replicas.at(static_cast<std::size_t>(replica)).layers) {
    for (nn::parameter* p : l->parameters()) {
      if (l.get() == m->replicas.at(static_cast<std::size_t>(replica)).layers.back().get() && p->name == "wte.weight") {
        continue;  // the head's copy: the embedding's is the one listed
      }
      out.push_back(p);
    }
  }
  return out;
}

float parallel_model::forward_backward(std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets,
                                       int batch, int seq) {
  const int replica_count = replicas();
  const int microbatches = m->schedule.microbatches;
  if (batch < 1 || seq < 1 || seq > m->config.context) {
    throw invalid_argument("parallel_model: batch " + std::to_string(batch) + " and seq " + std::to_string(seq) +
                           "; need batch >= 1 and seq in [1, " + std::to_string(m->config.context) + "]");
  }
  if (batch % (replica_count * microbatches) != 0) {
    throw invalid_argument("parallel_model: a batch of " + std::to_string(batch) + " rows does not split into " +
                           std::to_string(replica_count) + " replicas x " + std::to_string(microbatches) +
                           " micro-batches (it must be a multiple of " + std::to_string(replica_count * microbatches) +
                           ")");
  }
  const auto rows = static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq);
  if (tokens.size() != rows || targets.size() != rows) {
    throw invalid_argument("parallel_model: tokens and targets must hold batch x seq = " + std::to_string(rows) +
                           " ids");
  }
  const auto per_micro = static_cast<std::size_t>(batch / (replica_count * microbatches));
  const float loss_scale = 1.0F / static_cast<float>(rows);
  const std::size_t embd = static_cast<std::size_t>(m->config.embd);

  std::vector<std::exception_ptr> errors(m->replicas.size());
  std::vector<std::thread> threads;
  for (std::size_t d = 0; d < m->replicas.size(); ++d) {
    replica& r = m->replicas[d];
    for (auto& l : r.layers) {
      l->zero_grad();
    }
    r.micro.clear();
    for (int mb = 0; mb < microbatches; ++mb) {
      const std::size_t first = (d * static_cast<std::size_t>(microbatches) + static_cast<std::size_t>(mb)) *
                                per_micro * static_cast<std::size_t>(seq);
      const std::size_t count = per_micro * static_cast<std::size_t>(seq);
      nn::micro_batch x;
      x.tokens = tokens.subspan(first, count);
      x.targets = targets.subspan(first, count);
      x.batch = per_micro;
      x.seq = static_cast<std::size_t>(seq);
      x.loss_scale = loss_scale;
      r.micro.push_back(x);
    }
    r.losses.assign(static_cast<std::size_t>(microbatches), 0.0F);
    r.started = false;
    for (stage& s : r.stages) {
      s.states.clear();
      s.states.resize(static_cast<std::size_t>(microbatches));
      s.kept.assign(static_cast<std::size_t>(microbatches), 0);
    }
    threads.emplace_back([this, &r, &errors, d, embd] {
      try {
        std::vector<pp::stage_callbacks> callbacks(r.stages.size());
        for (std::size_t si = 0; si < r.stages.size(); ++si) {
          stage& s = r.stages[si];
          const auto rank = static_cast<std::size_t>(m->schedule.rank_of(static_cast<int>(si)));
          const bool last = si + 1 == r.stages.size();
          callbacks[si].forward = [&r, &s, si, rank, last, embd](int mb, const pp::payload& input) {
            if (si == 0 && !r.started) {
              // Stage 0's first F is the run's first action on every schedule (nothing else has its input yet).
              r.run.start = std::chrono::steady_clock::now();
              r.started = true;
            }
            const std::size_t before = s.ledger->current(nn::memory_category::activations);
            s.ledger->start_window();
            nn::tensor x = from_payload(input, embd, s.ledger);
            auto& states = s.states[static_cast<std::size_t>(mb)];
            for (nn::layer* l : s.layers) {
              auto result = l->forward(std::move(x), r.micro[static_cast<std::size_t>(mb)], nullptr);
              if (!nn::all_finite(result.y.span())) {
                throw nn::non_finite_error(l->name());
              }
              states.push_back(std::move(result.state));
              x = std::move(result.y);
            }
            const std::size_t after = s.ledger->current(nn::memory_category::activations);
            // Only this rank's thread allocates on this ledger, so the difference is what this F keeps (x, its
            // output, is freed once sent).
            const std::size_t held = after > before ? after - before : 0;
            const std::size_t kept = held - std::min(held, x.bytes());
            s.kept[static_cast<std::size_t>(mb)] = kept;
            r.activation_bytes[rank] = std::max(r.activation_bytes[rank], held);
            s.most.after_forward = std::max(s.most.after_forward, kept);
            s.most.forward_work =
                std::max(s.most.forward_work, s.ledger->window_rise(nn::memory_category::activations, before + kept));
            if (last) {
              r.losses[static_cast<std::size_t>(mb)] = x[0];
              return pp::payload{};
            }
            return to_payload(x);
          };
          callbacks[si].backward_input = [&r, &s, rank, embd, last](int mb, const pp::payload& grad) {
            const std::size_t before = s.ledger->current(nn::memory_category::activations);
            s.ledger->start_window();
            nn::tensor dy = last ? nn::tensor{} : from_payload(grad, embd, s.ledger);
            auto& states = s.states[static_cast<std::size_t>(mb)];
            for (std::size_t i = s.layers.size(); i-- > 0;) {
              dy = s.layers[i]->backward_input(*states[i], std::move(dy), nullptr);
            }
            const std::size_t after = s.ledger->current(nn::memory_category::activations);
            // What F kept, less what I freed, plus what I keeps for W and its outgoing gradient dy.
            const std::size_t held = s.kept[static_cast<std::size_t>(mb)] + after;
            const std::size_t with_dy = held > before ? held - before : 0;
            r.activation_bytes[rank] = std::max(r.activation_bytes[rank], with_dy);
            s.most.after_input_grad = std::max(s.most.after_input_grad, with_dy - std::min(with_dy, dy.bytes()));
            s.most.input_grad_work =
                std::max(s.most.input_grad_work, s.ledger->window_rise(nn::memory_category::activations, before));
            return to_payload(dy);
          };
          callbacks[si].backward_weight = [&s](int mb) {
            const std::size_t before = s.ledger->current(nn::memory_category::activations);
            s.ledger->start_window();
            auto& states = s.states[static_cast<std::size_t>(mb)];
            for (std::size_t i = s.layers.size(); i-- > 0;) {
              s.layers[i]->backward_weight(*states[i], nullptr);
            }
            states.clear();
            s.most.weight_grad_work =
                std::max(s.most.weight_grad_work, s.ledger->window_rise(nn::memory_category::activations, before));
          };
        }
        r.run.result = pp::run_schedule(m->schedule, callbacks);
      } catch (...) {
        errors[d] = std::current_exception();
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  for (const std::exception_ptr& e : errors) {
    if (e) {
      std::rethrow_exception(e);
    }
  }

  // The tied embedding's two contributions, the embedding's (first stage) and the head's copy (last stage). Where
  // one pipeline rank holds both, each replica sums them first, so the replicas exchange wte's gradient once; where
  // they sit on two ranks, each copy is summed over the replicas, then the two sums are added. The MPI trainer
  // (mpi::worker_model) moves each gradient byte once per step in this same order, so both give the same bits.
  const bool folded = m->schedule.rank_of(0) == m->schedule.rank_of(m->schedule.stages - 1);
  if (folded) {
    for (std::size_t d = 0; d < m->replicas.size(); ++d) {
      add_into(*parameters(static_cast<int>(d)).front(), head_wte(static_cast<int>(d)));
    }
  }
  // Replicas' gradients summed in replica order into replica 0, then copied to every replica.
  std::vector<nn::parameter*> first = parameters(0);
  if (!folded) {
    first.push_back(&head_wte(0));
  }
  for (std::size_t d = 1; d < m->replicas.size(); ++d) {
    std::vector<nn::parameter*> other = parameters(static_cast<int>(d));
    if (!folded) {
      other.push_back(&head_wte(static_cast<int>(d)));
    }
    for (std::size_t i = 0; i < first.size(); ++i) {
      add_into(*first[i], *other[i]);
    }
  }
  nn::parameter& wte = *first.front();
  if (!folded) {
    add_into(wte, *first.back());
    first.pop_back();
  }
  copy_gradients_to_every_copy(*this, m->replicas.size(), first);

  double loss = 0;
  for (const replica& r : m->replicas) {
    for (float share : r.losses) {
      loss += share;
    }
  }
  return static_cast<float>(loss);
}

double parallel_model::clip_grad_norm(double max_norm) {
  std::vector<nn::parameter*> params = parameters(0);
  const double norm = nn::clip_grad_norm(params, max_norm);
  // Every other copy receives the same scaled gradient.
  copy_gradients_to_every_copy(*this, m->replicas.size(), params);
  return norm;
}

void parallel_model::export_optimizer(nn::adamw& out) {
  const std::vector<nn::parameter*> params = parameters(0);
  check_matches(params, out.parameters());
  replica& r = m->replicas.front();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto [o, k] = locate(r, params[i]);
    copy_into(o->exp_avg(k), out.exp_avg(i));
    copy_into(o->exp_avg_sq(k), out.exp_avg_sq(i));
  }
  out.set_steps(r.optimizers.front()->steps());
}

void parallel_model::import_optimizer(const nn::adamw& in) {
  check_matches(parameters(0), in.parameters());
  for (std::size_t d = 0; d < m->replicas.size(); ++d) {
    replica& r = m->replicas[d];
    std::vector<nn::parameter*> params = parameters(static_cast<int>(d));
    params.push_back(&head_wte(static_cast<int>(d)));
    for (std::size_t i = 0; i < params.size(); ++i) {
      const std::size_t from = i + 1 < params.size() ? i : 0;  // the head's copy takes wte's moments (index 0)
      const auto [o, k] = locate(r, params[i]);
      copy_into(in.exp_avg(from), o->exp_avg(k));
      copy_into(in.exp_avg_sq(from), o->exp_avg_sq(k));
    }
    for (auto& o : r.optimizers) {
      o->set_steps(in.steps());
    }
  }
}

void parallel_model::broadcast_parameters() {
  const std::vector<nn::parameter*> first = parameters(0);
  for (std::size_t d = 0; d < m->replicas.size(); ++d) {
    if (d > 0) {
      const std::vector<nn::parameter*> other = parameters(static_cast<int>(d));
      for (std::size_t i = 0; i < first.size(); ++i) {
        copy_into(first[i]->value, other[i]->value);
      }
    }
    copy_into(first.front()->value, head_wte(static_cast<int>(d)).value);
  }
}

const parallel_model::replica_run& parallel_model::last_run(int replica) const {
  return m->replicas.at(static_cast<std::size_t>(replica)).run;
}

void parallel_model::step(double lr) {
  for (replica& r : m->replicas) {
    for (auto& o : r.optimizers) {
      o->step(lr);
    }
  }
}

}  // namespace taskpipe::train
