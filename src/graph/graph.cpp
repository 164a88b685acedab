// graph.cpp — building a graph: nodes and edges, the per-edit preparation (sources, sinks, cycle check), Graphviz.
#include "taskpipe/graph/graph.hpp"

#include <sstream>
#include <vector>

#include "taskpipe/error.hpp"

namespace taskpipe {

void task_handle::link(detail::graph_node* from, detail::graph_node* to) {
  if (from == nullptr || to == nullptr) {
    throw error("taskpipe::task_handle: precede/succeed on an empty task handle");
  }
  if (from->owner_graph != to->owner_graph) {
    throw error("taskpipe::task_handle: cannot link task '" + from->owner_graph->task_label(*from) + "' to task '" +
                to->owner_graph->task_label(*to) + "' of another graph; use graph::composed_of");
  }
  graph* g = from->owner_graph;
  from->successors.push_back(to, g->nodes_.bytes());
  ++to->num_predecessors;
  g->dirty_ = true;
  if (from->index >= to->index) {
    g->edges_forward_ = false;
  }
}

detail::byte_arena& task_handle::arena_of(detail::graph_node* n) noexcept { return n->owner_graph->nodes_.bytes(); }

void task_handle::check_work_target() const {
  if (node_ == nullptr) {
    throw error("taskpipe::task_handle::work: on an empty task handle");
  }
  if (node_->module != nullptr) {
    throw error("taskpipe::task_handle::work: task '" + node_->owner_graph->task_label(*node_) +
                "' runs a module graph; only a task from emplace or placeholder takes work");
  }
}

graph::~graph() = default;

detail::graph_node* graph::add_node() {
  detail::graph_node* n = nodes_.emplace(*this);
  dirty_ = true;
  return n;
}

void graph::linearize(std::span<const task_handle> tasks) {
  for (std::size_t i = 1; i < tasks.size(); ++i) {
    task_handle::link(tasks[i - 1].node_, tasks[i].node_);
  }
}

void graph::clear() noexcept {
  nodes_.release();
  edges_forward_ = true;
  sources_.clear();
  num_sinks_ = 0;
  cycle_.clear();
  dirty_ = true;
}

std::string graph::task_label(const detail::graph_node& n) const {
  if (!n.name().empty()) {
    return n.name();
  }
  std::string label = std::to_string(n.index);  // built by insert: GCC 12 mis-warns (-Wrestrict) on "#" + string
  label.insert(label.begin(), '#');
  return label;
}

std::string graph::prepare() {
  if (!dirty_) {
    return cycle_;
  }
  sources_.clear();
  num_sinks_ = 0;
  cycle_.clear();
  if (edges_forward_) {  // acyclic by construction: one pass in memory order
    nodes_.for_each([&](detail::graph_node& node) {
      node.join.store(node.num_predecessors, std::memory_order_relaxed);
      if (node.num_predecessors == 0) {
        sources_.push_back(&node);
      }
      if (node.successors.empty()) {
        ++num_sinks_;
      }
    });
    dirty_ = false;
    return cycle_;
  }
  // Kahn's algorithm, on scratch counters: the nodes' own join counters are reset here for the next run.
  const std::size_t n = nodes_.size();
  std::vector<detail::graph_node*> all;
  all.reserve(n);
  nodes_.for_each([&](detail::graph_node& node) { all.push_back(&node); });
  std::vector<std::uint32_t> indegree(n);
  std::vector<detail::graph_node*> order;
  order.reserve(n);
  sources_.clear();
  num_sinks_ = 0;
  for (detail::graph_node* node : all) {
    indegree[node->index] = node->num_predecessors;
    node->join.store(node->num_predecessors, std::memory_order_relaxed);
    if (node->num_predecessors == 0) {
      sources_.push_back(node);
      order.push_back(node);
    }
    if (node->successors.empty()) {
      ++num_sinks_;
    }
  }
  for (std::size_t head = 0; head < order.size(); ++head) {
    for (detail::graph_node* s : order[head]->successors) {
      if (--indegree[s->index] == 0) {
        order.push_back(s);
      }
    }
  }
  cycle_.clear();
  if (order.size() != n) {
    // Every node left over has a left-over predecessor; walking predecessors from one must repeat a node, and the
    // walk from that node's first visit on is a cycle.
    std::vector<detail::graph_node*> left_pred(n, nullptr);
    for (detail::graph_node* node : all) {
      if (indegree[node->index] == 0) {
        continue;
      }
      for (detail::graph_node* s : node->successors) {
        left_pred[s->index] = node;
      }
    }
    detail::graph_node* start = nullptr;
    for (detail::graph_node* node : all) {
      if (indegree[node->index] != 0) {
        start = node;
        break;
      }
    }
    std::vector<std::size_t> seen_at(n, n);
    std::vector<detail::graph_node*> walk;
    detail::graph_node* cur = start;
    while (cur != nullptr && seen_at[cur->index] == n) {  // never null: each left-over node has a left-over predecessor
      seen_at[cur->index] = walk.size();
      walk.push_back(cur);
      cur = left_pred[cur->index];
    }
    std::string path;
    // The walk goes against the edges; print the cycle along them.
    for (std::size_t i = walk.size(); cur != nullptr && i-- > seen_at[cur->index];) {
      path += task_label(*walk[i]) + " -> ";
    }
    path += walk.empty() ? std::string("?") : task_label(*walk.back());
    cycle_ = "taskpipe::graph '" + name_ + "' has a cycle: " + path;
  }
  dirty_ = false;
  return cycle_;
}

void graph::dump_dot(std::ostream& out) const {
  auto quoted = [](const std::string& s) {
    std::string q = "\"";
    for (const char c : s) {
      if (c == '"' || c == '\\') {
        q += '\\';
      }
      q += c;
    }
    return q + "\"";
  };
  out << "digraph " << quoted(name_.empty() ? "graph" : name_) << " {\n";
  nodes_.for_each([&](const detail::graph_node& node) {
    out << "  t" << node.index << " [label=" << quoted(task_label(node));
    if (node.module != nullptr) {
      out << ", shape=box3d";
    }
    out << "];\n";
  });
  nodes_.for_each([&](const detail::graph_node& node) {
    for (const detail::graph_node* s : node.successors) {
      out << "  t" << node.index << " -> t" << s->index << ";\n";
    }
  });
  out << "}\n";
}

std::string graph::dump_dot() const {
  std::ostringstream out;
  dump_dot(out);
  return out.str();
}

}  // namespace taskpipe
