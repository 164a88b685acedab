#include "taskpipe/mpi/worker_model.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <string>

#include "taskpipe/error.hpp"
#include "taskpipe/mpi/comm_timeout.hpp"
#include "taskpipe/mpi/detail/comms.hpp"
#include "taskpipe/mpi/mpi_transport.hpp"
#include "taskpipe/nn/non_finite_error.hpp"
#include "taskpipe/pp/stage_runtime.hpp"

namespace taskpipe::mpi {
namespace {

constexpr int tied_tag = 1 << 28;  // above every pipeline tag (mpi_transport.cpp)
constexpr int gather_tag = tied_tag + 1;

pp::payload to_payload(const nn::tensor& t) {
  pp::payload p(t.bytes());
  if (!p.empty()) {
    std::memcpy(p.data(), t.data(), t.bytes());
  }
  return p;
}

nn::tensor from_payload(const pp::payload& p, std::size_t embd, nn::memory_ledger* ledger) {
  nn::tensor t({p.size() / (embd * sizeof(float)), embd}, nn::memory_category::activations, ledger);
  if (!p.empty()) {
    std::memcpy(t.data(), p.data(), p.size());
  }
  return t;
}

// Runs `f`, prefixing any error with the stage, micro-batch and pass.
template <class F>
auto in_context(int stage, int mb, const char* pass, F&& f) {
  try {
    return f();
  } catch (const nn::non_finite_error& e) {
    throw error("stage " + std::to_string(stage) + " micro-batch " + std::to_string(mb) + " " + pass + ": " + e.what());
  } catch (const pp::transport_closed&) {
    throw;
  } catch (const comm_timeout&) {
    throw;
  } catch (const std::exception& e) {
    throw error("stage " + std::to_string(stage) + " micro-batch " + std::to_string(mb) + " " + pass + ": " + e.what());
  }
}

// One layer's gradients, reduced among the replicas as one message.
struct bucket {
  std::vector<nn::parameter*> params;
  std::vector<float> send;
  std::vector<float> gathered;
  MPI_Request request = MPI_REQUEST_NULL;
};

struct stage {
  int index = 0;
  std::vector<nn::layer*> layers;
  std::vector<bucket> buckets;  // one per layer
  std::vector<std::vector<std::unique_ptr<nn::layer_state>>> states;
  int weights_done = 0;
};

}  // namespace

struct worker_model::impl {
  nn::gpt2_config config;
  std::uint64_t seed = 0;
  nn::adamw_options adamw_options;
  pp::schedule schedule;
  std::vector<std::size_t> bounds;
  job* j = nullptr;
  layout where;
  double timeout_s = 60;
  nn::memory_ledger ledger;
  std::vector<std::unique_ptr<nn::layer>> layers;  // index = model layer; null where another rank holds it
  std::vector<stage> stages;                       // this rank's, in stage order
  std::vector<nn::parameter*> own;                 // every parameter here, optimizer order
  std::vector<nn::parameter*> listed;              // each once: without the head's wte copy
  nn::parameter* wte = nullptr;                    // the embedding's, when held
  nn::parameter* head_wte = nullptr;               // the head's copy, when held
  // Where this rank holds both copies of wte (one pipeline rank, or V-shaped schedules), their gradients are summed
  // here before the replicas reduce the embedding's bucket, and the head's bucket leaves its copy out: wte's gradient
  // crosses to the other replicas once. The embedding's bucket starts once both layers' last W has run.
  bool folded = false;
  std::pair<int, std::size_t> embedding_bucket{-1, 0};  // (index into stages, layer in stage)
  std::pair<int, std::size_t> head_bucket{-1, 0};
  int tied_pending = 0;
  std::unique_ptr<nn::adamw> optimizer;
  std::vector<nn::micro_batch> micro;
  std::vector<float> losses;
  traffic moved;
  double busy = 0;
  double busy_total = 0;
  double idle_total = 0;

  [[nodiscard]] MPI_Comm pipeline() const { return j->comms().pipeline; }

  // "rank 0 (...) waited more than 2 s for rank 1 (...), rank 2 (...): <what>", every rank in `world` but this one.
  [[nodiscard]] std::string waited_for(const std::vector<int>& world, const std::string& what) const {
    std::string out =
        where.describe(where.world_rank) + " waited more than " + detail::seconds_text(timeout_s) + " for ";
    bool first = true;
    for (const int w : world) {
      if (w != where.world_rank) {
        out += (first ? "" : ", ") + where.describe(w);
        first = false;
      }
    }
    return out + ": " + what;
  }
  [[nodiscard]] MPI_Comm replicas() const { return j->comms().replicas; }

  void start_bucket(bucket& b) {
    if (where.replicas == 1) {
      return;
    }
    b.send.clear();
    for (const nn::parameter* p : b.params) {
      b.send.insert(b.send.end(), p->grad.span().begin(), p->grad.span().end());
    }
    b.gathered.resize(b.send.size() * static_cast<std::size_t>(where.replicas));
    moved.replicas_sent += b.send.size() * sizeof(float) * static_cast<std::size_t>(where.replicas - 1);
    detail::check(MPI_Iallgather(b.send.data(), static_cast<int>(b.send.size()), MPI_FLOAT, b.gathered.data(),
                                 static_cast<int>(b.send.size()), MPI_FLOAT, replicas(), &b.request),
                  "MPI_Iallgather");
  }

  void layer_final(stage& s, std::size_t layer) {
    const std::pair<int, std::size_t> at{static_cast<int>(&s - stages.data()), layer};
    const bool tied = folded && (at == embedding_bucket || at == head_bucket);
    if (!tied || at == head_bucket) {
      start_bucket(s.buckets[layer]);
    }
    if (tied && --tied_pending == 0) {
      float* a = wte->grad.data();
      const float* h = head_wte->grad.data();
      for (std::size_t k = 0; k < wte->grad.size(); ++k) {
        a[k] += h[k];  // each replica's two contributions first: train::parallel_model's order
      }
      start_bucket(stages[static_cast<std::size_t>(embedding_bucket.first)].buckets[embedding_bucket.second]);
    }
  }

  void finish_buckets() {
    if (where.replicas == 1) {
      return;
    }
    for (stage& s : stages) {
      for (std::size_t i = 0; i < s.buckets.size(); ++i) {
        finish_bucket(s.index, s.layers[i]->name(), s.buckets[i]);
      }
    }
  }

  void finish_bucket(int stage_index, const std::string& layer, bucket& b) {
    {
      detail::wait_all({&b.request, 1}, timeout_s, [&] {
        std::vector<int> copies;
        copies.reserve(static_cast<std::size_t>(where.replicas));
        for (int d = 0; d < where.replicas; ++d) {
          copies.push_back(where.world_of(d, where.rank));
        }
        return waited_for(copies, "stage " + std::to_string(stage_index) + " layer " + layer +
                                      ": its gradients, every micro-batch, backward (the MPI_Iallgather among the "
                                      "replicas)");
      });
      // The threads' order: replica 0's gradient, plus replica 1's, plus replica 2's, ...
      const std::size_t n = b.send.size();
      std::size_t offset = 0;
      for (nn::parameter* p : b.params) {
        float* g = p->grad.data();
        for (std::size_t k = 0; k < p->grad.size(); ++k) {
          float acc = b.gathered[offset + k];
          for (std::size_t d = 1; d < static_cast<std::size_t>(where.replicas); ++d) {
            acc += b.gathered[d * n + offset + k];
          }
          g[k] = acc;
        }
        offset += p->grad.size();
      }
    }
  }

  // The tied embedding: wte's gradient (first stage) and the head's copy (last stage), each already summed over
  // the replicas, summed into both; where one rank holds both, layer_final summed them and the head takes the total.
  void sum_tied() {
    const int first = schedule.rank_of(0);
    const int last = schedule.rank_of(schedule.stages - 1);
    if (folded) {
      if (tied_pending != 0) {
        throw error("the tied embedding's gradients were not both final after the schedule");
      }
      std::memcpy(head_wte->grad.data(), wte->grad.data(), wte->grad.bytes());
      return;
    }
    nn::parameter* mine = wte != nullptr ? wte : head_wte;
    if (mine == nullptr) {
      return;
    }
    const int peer = wte != nullptr ? last : first;
    std::vector<float> theirs(mine->grad.size());
    MPI_Request r[2];
    detail::check(
        MPI_Irecv(theirs.data(), static_cast<int>(theirs.size()), MPI_FLOAT, peer, tied_tag, pipeline(), &r[0]),
        "MPI_Irecv");
    detail::check(
        MPI_Isend(mine->grad.data(), static_cast<int>(theirs.size()), MPI_FLOAT, peer, tied_tag, pipeline(), &r[1]),
        "MPI_Isend");
    moved.tied_sent += mine->grad.bytes();
    detail::wait_all(r, timeout_s, [&] {
      return waited_for({where.world_of(where.replica, peer)}, "the tied embedding's gradient, backward");
    });
    float* g = mine->grad.data();
    for (std::size_t k = 0; k < theirs.size(); ++k) {
      g[k] = g[k] + theirs[k];  // x + y == y + x: both ranks get the same bits
    }
  }

  std::vector<pp::stage_callbacks> callbacks() {
    std::vector<pp::stage_callbacks> cbs(static_cast<std::size_t>(schedule.stages));
    const std::size_t embd = static_cast<std::size_t>(config.embd);
    const int last_stage = schedule.stages - 1;
    for (stage& s : stages) {
      const bool last = s.index == last_stage;
      pp::stage_callbacks& cb = cbs[static_cast<std::size_t>(s.index)];
      cb.forward = [this, &s, last, embd](int mb, const pp::payload& input) {
        return in_context(s.index, mb, "F", [&] {
          nn::tensor x = from_payload(input, embd, &ledger);
          auto& states = s.states[static_cast<std::size_t>(mb)];
          for (nn::layer* l : s.layers) {
            auto result = l->forward(std::move(x), micro[static_cast<std::size_t>(mb)], nullptr);
            if (!nn::all_finite(result.y.span())) {
              throw nn::non_finite_error(l->name());
            }
            states.push_back(std::move(result.state));
            x = std::move(result.y);
          }
          if (last) {
            losses[static_cast<std::size_t>(mb)] = x[0];
            return pp::payload{};
          }
          return to_payload(x);
        });
      };
      cb.backward_input = [&s, last, embd, this](int mb, const pp::payload& grad) {
        return in_context(s.index, mb, "B", [&] {
          nn::tensor dy = last ? nn::tensor{} : from_payload(grad, embd, &ledger);
          auto& states = s.states[static_cast<std::size_t>(mb)];
          for (std::size_t i = s.layers.size(); i-- > 0;) {
            dy = s.layers[i]->backward_input(*states[i], std::move(dy), nullptr);
          }
          return to_payload(dy);
        });
      };
      cb.backward_weight = [&s, this](int mb) {
        const bool final = ++s.weights_done == schedule.microbatches;
        in_context(s.index, mb, "W", [&] {
          auto& states = s.states[static_cast<std::size_t>(mb)];
          for (std::size_t i = s.layers.size(); i-- > 0;) {
            s.layers[i]->backward_weight(*states[i], nullptr);
            if (final) {
              layer_final(s, i);  // this layer's gradients are final: reduce them during the rest
            }
          }
          states.clear();
          return 0;
        });
      };
    }
    return cbs;
  }
};

worker_model::worker_model(const nn::gpt2_config& config, std::uint64_t seed, const pp::schedule& schedule,
                           std::vector<std::size_t> bounds, job& j, const nn::adamw_options& adamw, double timeout_s)
    : m(std::make_unique<impl>()) {
  config.validate();
  m->config = config;
  m->seed = seed;
  m->adamw_options = adamw;
  m->schedule = schedule;
  m->bounds = std::move(bounds);
  m->j = &j;
  m->where = j.where();
  m->timeout_s = timeout_s;
  if (m->where.ranks != schedule.ranks || m->bounds.size() != static_cast<std::size_t>(schedule.stages) + 1) {
    throw invalid_argument("worker_model: the job has " + std::to_string(m->where.ranks) +
                           " pipeline ranks, the schedule " + std::to_string(schedule.ranks));
  }
  const std::size_t layer_count = static_cast<std::size_t>(config.layers) + 2;
  m->layers.resize(layer_count);
  for (int s = 0; s < schedule.stages; ++s) {
    if (schedule.rank_of(s) != m->where.rank) {
      continue;
    }
    stage& st = m->stages.emplace_back();
    st.index = s;
    for (std::size_t l = m->bounds[static_cast<std::size_t>(s)]; l < m->bounds[static_cast<std::size_t>(s) + 1]; ++l) {
      m->layers[l] = nn::make_layer(config, l, seed, &m->ledger);
      st.layers.push_back(m->layers[l].get());
      bucket& b = st.buckets.emplace_back();
      if (l == 0) {
        m->embedding_bucket = {static_cast<int>(m->stages.size()) - 1, st.buckets.size() - 1};
      }
      if (l + 1 == layer_count) {
        m->head_bucket = {static_cast<int>(m->stages.size()) - 1, st.buckets.size() - 1};
      }
      for (nn::parameter* p : m->layers[l]->parameters()) {
        b.params.push_back(p);
        m->own.push_back(p);
        if (p->name == "wte.weight" && l + 1 == layer_count) {
          m->head_wte = p;
        } else {
          m->listed.push_back(p);
          if (p->name == "wte.weight") {
            m->wte = p;
          }
        }
      }
    }
  }
  m->folded = m->wte != nullptr && m->head_wte != nullptr;
  if (m->folded) {
    auto& head = m->stages[static_cast<std::size_t>(m->head_bucket.first)].buckets[m->head_bucket.second].params;
    head.erase(std::find(head.begin(), head.end(), m->head_wte));
  }
  m->optimizer = std::make_unique<nn::adamw>(m->own, adamw, &m->ledger);
}

worker_model::~worker_model() = default;

float worker_model::forward_backward(std::span<const std::int32_t> tokens, std::span<const std::int32_t> targets,
                                     int batch, int seq) {
  const int replica_count = m->where.replicas;
  const int microbatches = m->schedule.microbatches;
  if (batch < 1 || seq < 1 || batch % (replica_count * microbatches) != 0 ||
      tokens.size() != static_cast<std::size_t>(batch) * static_cast<std::size_t>(seq)) {
    throw invalid_argument("worker_model: a batch of " + std::to_string(batch) + " rows does not split into " +
                           std::to_string(replica_count) + " replicas x " + std::to_string(microbatches) +
                           " micro-batches");
  }
  const auto per_micro = static_cast<std::size_t>(batch / (replica_count * microbatches));
  const float loss_scale = 1.0F / static_cast<float>(tokens.size());
  const auto d = static_cast<std::size_t>(m->where.replica);
  m->micro.clear();
  for (int mb = 0; mb < microbatches; ++mb) {
    const std::size_t count = per_micro * static_cast<std::size_t>(seq);
    const std::size_t first = (d * static_cast<std::size_t>(microbatches) + static_cast<std::size_t>(mb)) * count;
    m->micro.push_back({.tokens = tokens.subspan(first, count),
                        .targets = targets.subspan(first, count),
                        .batch = per_micro,
                        .seq = static_cast<std::size_t>(seq),
                        .loss_scale = loss_scale});
  }
  m->losses.assign(static_cast<std::size_t>(microbatches), 0.0F);
  for (auto& l : m->layers) {
    if (l) {
      l->zero_grad();
    }
  }
  for (stage& s : m->stages) {
    s.states.clear();
    s.states.resize(static_cast<std::size_t>(microbatches));
    s.weights_done = 0;
  }
  m->tied_pending = m->folded ? 2 : 0;
  m->moved = {};
  m->moved.activation_bytes =
      per_micro * static_cast<std::size_t>(seq) * static_cast<std::size_t>(m->config.embd) * sizeof(float);
  for (const stage& s : m->stages) {
    for (const bucket& b : s.buckets) {
      for (const nn::parameter* p : b.params) {
        m->moved.gradient_bytes += p->grad.bytes();
      }
    }
  }

  mpi_transport link(*m->j, m->timeout_s);
  // Every receive of this rank, posted now in the order the schedule will consume them.
  const int last = m->schedule.stages - 1;
  for (const pp::action& a : m->schedule.orders[static_cast<std::size_t>(m->where.rank)]) {
    if (a.kind == pp::action_kind::forward && a.stage > 0 && m->schedule.rank_of(a.stage - 1) != m->where.rank) {
      link.expect(m->schedule.rank_of(a.stage - 1), {a.stage, a.microbatch, pp::flow::activation},
                  m->moved.activation_bytes);
    } else if (pp::produces_input_grad(a.kind) && a.stage < last && m->schedule.rank_of(a.stage + 1) != m->where.rank) {
      link.expect(m->schedule.rank_of(a.stage + 1), {a.stage, a.microbatch, pp::flow::gradient},
                  m->moved.activation_bytes);
    }
  }
  const std::vector<pp::stage_callbacks> cbs = m->callbacks();
  const auto t0 = std::chrono::steady_clock::now();
  const pp::run_result run = pp::run_rank(m->schedule, cbs, link, m->where.rank);
  const double span = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m->busy = 0;
  for (const pp::timed_action& a : run.actions) {
    m->busy += a.finish - a.start;
  }
  m->busy_total += m->busy;
  m->idle_total += std::max(0.0, span - m->busy);
  m->finish_buckets();
  m->sum_tied();
  link.flush();
  m->moved.pipeline_sent = link.bytes_sent();

  double local = 0;
  if (m->schedule.rank_of(last) == m->where.rank) {
    for (const float share : m->losses) {
      local += share;
    }
  }
  const double total = detail::sum(local, MPI_COMM_WORLD, m->timeout_s, [&] {
    std::vector<int> all;
    all.reserve(static_cast<std::size_t>(m->where.world_size));
    for (int w = 0; w < m->where.world_size; ++w) {
      all.push_back(w);
    }
    return m->waited_for(all, "their share of the loss (an MPI_Iallreduce over every rank)");
  });
  return static_cast<float>(total);
}

double worker_model::clip_grad_norm(double max_norm) {
  double local = 0;
  for (const nn::parameter* p : m->listed) {
    for (const float g : p->grad.span()) {
      local += static_cast<double>(g) * static_cast<double>(g);
    }
  }
  const double sum = detail::sum(local, m->pipeline(), m->timeout_s, [&] {
    std::vector<int> pipeline;
    pipeline.reserve(static_cast<std::size_t>(m->where.ranks));
    for (int r = 0; r < m->where.ranks; ++r) {
      pipeline.push_back(m->where.world_of(m->where.replica, r));
    }
    return m->waited_for(pipeline, "their gradients' squared norm (an MPI_Iallreduce over replica " +
                                       std::to_string(m->where.replica) + "'s pipeline)");
  });
  const double total = std::sqrt(sum);
  if (!std::isfinite(total) || !(max_norm > 0)) {
    return total;
  }
  const double coef = max_norm / (total + 1e-6);  // torch.nn.utils.clip_grad_norm_'s rule, as nn::clip_grad_norm
  if (coef < 1.0) {
    const auto c = static_cast<float>(coef);
    for (nn::parameter* p : m->own) {
      for (float& g : p->grad.span()) {
        g *= c;
      }
    }
  }
  return total;
}

std::string worker_model::first_non_finite_gradient() const {
  for (const nn::parameter* p : m->listed) {
    for (const float g : p->grad.span()) {
      if (!std::isfinite(g)) {
        return p->name;
      }
    }
  }
  return "";
}

void worker_model::step(double lr) { m->optimizer->step(lr); }

std::unique_ptr<gathered_model> worker_model::gather() {
  // Replica 0's ranks send their parameters (names, then values and moments); world rank 0 places them by name.
  const bool root = m->where.world_rank == 0;
  std::unique_ptr<gathered_model> out;
  if (root) {
    out = std::make_unique<gathered_model>(m->config, m->seed, m->adamw_options);
  }
  const auto pack = [&] {
    std::string names;
    std::vector<float> values;
    for (nn::parameter* p : m->listed) {
      const std::size_t i = static_cast<std::size_t>(std::find(m->own.begin(), m->own.end(), p) - m->own.begin());
      names += p->name + "\n";
      for (const nn::tensor* t : {&p->value, &m->optimizer->exp_avg(i), &m->optimizer->exp_avg_sq(i)}) {
        values.insert(values.end(), t->span().begin(), t->span().end());
      }
    }
    return std::pair{names, values};
  };
  const auto place = [&](const std::string& names, const std::vector<float>& values) {
    std::map<std::string, std::size_t> index;
    const std::vector<nn::parameter*> all = out->model.parameters();
    for (std::size_t i = 0; i < all.size(); ++i) {
      index[all[i]->name] = i;
    }
    std::size_t at = 0;
    std::size_t from = 0;
    for (std::size_t nl = names.find('\n'); nl != std::string::npos; from = nl + 1, nl = names.find('\n', from)) {
      const std::size_t i = index.at(names.substr(from, nl - from));
      for (nn::tensor* t : {&all[i]->value, &out->optimizer.exp_avg(i), &out->optimizer.exp_avg_sq(i)}) {
        std::memcpy(t->data(), values.data() + at, t->bytes());
        at += t->size();
      }
    }
  };
  if (m->where.replica == 0) {
    auto [names, values] = pack();
    if (root) {
      place(names, values);
    } else {
      MPI_Request r[2];
      detail::check(
          MPI_Isend(names.data(), static_cast<int>(names.size()), MPI_CHAR, 0, gather_tag, MPI_COMM_WORLD, &r[0]),
          "MPI_Isend");
      detail::check(
          MPI_Isend(values.data(), static_cast<int>(values.size()), MPI_FLOAT, 0, gather_tag, MPI_COMM_WORLD, &r[1]),
          "MPI_Isend");
      detail::wait_all(r, m->timeout_s, [&] {
        return m->waited_for({0}, "the checkpoint gather (its parameters and moments sent to world rank 0)");
      });
    }
  }
  if (root) {
    for (int r = 1; r < m->where.ranks; ++r) {
      const auto what = [&] { return m->waited_for({r}, "the checkpoint gather (its parameters and moments)"); };
      const std::vector<std::byte> name_bytes = detail::recv_message(MPI_COMM_WORLD, r, gather_tag, m->timeout_s, what);
      const std::vector<std::byte> value_bytes =
          detail::recv_message(MPI_COMM_WORLD, r, gather_tag, m->timeout_s, what);
      const std::string names(reinterpret_cast<const char*>(name_bytes.data()), name_bytes.size());
      std::vector<float> values(value_bytes.size() / sizeof(float));
      std::memcpy(values.data(), value_bytes.data(), value_bytes.size());
      place(names, values);
    }
    out->optimizer.set_steps(m->optimizer->steps());
  }
  return out;
}

void worker_model::load(const nn::checkpoint& c, bool optimizer) {
  gathered_model whole(m->config, m->seed, m->adamw_options);
  const std::vector<nn::parameter*> all = whole.model.parameters();
  nn::load_weights(c, all);
  if (optimizer) {
    nn::load_optimizer(c, whole.optimizer);
  }
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < all.size(); ++i) {
    index[all[i]->name] = i;
  }
  for (std::size_t k = 0; k < m->own.size(); ++k) {
    const std::size_t i = index.at(m->own[k]->name);  // the head's copy takes wte's
    std::memcpy(m->own[k]->value.data(), all[i]->value.data(), all[i]->value.bytes());
    if (optimizer) {
      std::memcpy(m->optimizer->exp_avg(k).data(), whole.optimizer.exp_avg(i).data(), all[i]->value.bytes());
      std::memcpy(m->optimizer->exp_avg_sq(k).data(), whole.optimizer.exp_avg_sq(i).data(), all[i]->value.bytes());
    }
  }
  if (optimizer) {
    m->optimizer->set_steps(whole.optimizer.steps());
  }
}

const traffic& worker_model::last_traffic() const noexcept { return m->moved; }
double worker_model::last_busy_s() const noexcept { return m->busy; }
double worker_model::busy_s() const noexcept { return m->busy_total; }
double worker_model::idle_s() const noexcept { return m->idle_total; }
const nn::memory_ledger& worker_model::ledger() const noexcept { return m->ledger; }

}  // namespace taskpipe::mpi
