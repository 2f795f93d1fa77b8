// `similarity`: data-driven channel merging (docs/references.md §3, the similarity-based pass,
// applied to channels). Channels whose activations on the calibration set are nearly proportional
// are merged: channel j goes and the survivor i's outgoing weights absorb it through a
// least-squares fit a_j ≈ α·a_i + β (W[:, i] += α·W[:, j], bias += β·Σ W[:, j]). The dependency
// groups, the physical removal and the exactness rules are those of `channel`
// (prune/include/prune/channel.h).
//
// Groups are processed in graph order and each one's activations are collected on the model as
// merged so far, so a group downstream fits what the merged upstream layers really produce.
#include <algorithm>
#include <cmath>
#include <set>

#include "prune/channel.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/pruning.h"

namespace prunesim {
namespace {

using Vec = std::vector<float>;

struct Stats {
  double sum = 0.0, sq = 0.0;
  size_t n = 0;
  double mean() const { return n ? sum / static_cast<double>(n) : 0.0; }
  double norm() const { return std::sqrt(sq); }
  double sd() const {
    return n ? std::sqrt(std::max(0.0, sq / static_cast<double>(n) - mean() * mean())) : 0.0;
  }
};
Stats stats(const Vec& a) {
  Stats s;
  for (float v : a) {
    s.sum += v;
    s.sq += static_cast<double>(v) * v;
  }
  s.n = a.size();
  return s;
}
double dot(const Vec& a, const Vec& b) {
  double s = 0.0;
  for (size_t k = 0; k < a.size(); ++k) s += static_cast<double>(a[k]) * b[k];
  return s;
}

// One slot's reads, grouped by (consumer, tensor): the channels it occupies there.
struct Reads {
  std::vector<std::pair<std::string, std::string>> keys;  // (node, value), in use order
  std::vector<std::vector<int64_t>> channels;
  bool same_shape(const Reads& o) const {
    if (keys != o.keys) return false;
    for (size_t k = 0; k < keys.size(); ++k)
      if (channels[k].size() != o.channels[k].size()) return false;
    return true;
  }
};
Reads reads_of(const ChannelSlot& s) {
  Reads r;
  for (const auto& u : s.uses) {
    const auto key = std::make_pair(u.node, u.value);
    if (r.keys.empty() || r.keys.back() != key) {
      r.keys.push_back(key);
      r.channels.emplace_back();
    }
    r.channels.back().push_back(u.channel);
  }
  return r;
}

// Activations of the wanted tensors over the calibration set: act[value][channel] holds every
// sample and position of that channel.
std::map<std::string, std::vector<Vec>> collect(const Graph& g, const Tensor& calib,
                                                const std::set<std::string>& want) {
  std::map<std::string, std::vector<Vec>> act;
  run_float(g, calib, [&](const Node&, const std::string& v, const Tensor& t) {
    if (!want.count(v)) return;
    const int64_t N = t.shape[0], C = t.shape[1], per = t.size() / (N * C);
    auto& a = act[v];
    a.resize(static_cast<size_t>(C));
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const auto b = t.f.begin() + (n * C + c) * per;
        a[static_cast<size_t>(c)].insert(a[static_cast<size_t>(c)].end(), b, b + per);
      }
  });
  return act;
}

// The vector a slot is compared by: its channels at every tensor it is read from (a tensor read
// by two consumers counts once).
Vec slot_vector(const Reads& r, const std::map<std::string, std::vector<Vec>>& act) {
  Vec v;
  std::set<std::string> seen;
  for (size_t k = 0; k < r.keys.size(); ++k) {
    if (!seen.insert(r.keys[k].second).second) continue;
    for (int64_t c : r.channels[k]) {
      const Vec& a = act.at(r.keys[k].second)[static_cast<size_t>(c)];
      v.insert(v.end(), a.begin(), a.end());
    }
  }
  return v;
}

// Least squares a_j ≈ α·a_i + β (β = 0 when the consumer cannot fold an intercept exactly).
std::pair<double, double> fit(const Vec& ai, const Vec& aj, bool intercept) {
  if (!intercept) {
    const double d = dot(ai, ai);
    return {d > 0.0 ? dot(ai, aj) / d : 0.0, 0.0};
  }
  const Stats si = stats(ai), sj = stats(aj);
  const double n = static_cast<double>(ai.size());
  const double var = si.sq / n - si.mean() * si.mean();
  const double cov = dot(ai, aj) / n - si.mean() * sj.mean();
  const double alpha = var > 1e-12 * std::max(1.0, si.sq / n) ? cov / var : 0.0;
  return {alpha, sj.mean() - alpha * si.mean()};
}

std::string filter_name(const ChannelSlot& s) {
  return s.filters[0].node + ":" + std::to_string(s.filters[0].channel);
}

// Similarity of every comparable pair. A channel that is zero (cosine) or constant
// (correlation) is reproduced exactly by any other, so it counts as identical. The merge is
// a linear fit, so the sign of a correlation does not matter.
std::vector<std::vector<double>> similarity_matrix(const std::vector<Reads>& reads,
                                                   const std::vector<Vec>& vec,
                                                   const std::vector<Stats>& st,
                                                   const std::string& crit) {
  const size_t C = reads.size();
  std::vector<std::vector<double>> sim(C, std::vector<double>(C, -1.0));
  for (size_t i = 0; i < C; ++i)
    for (size_t j = i + 1; j < C; ++j) {
      if (!reads[i].same_shape(reads[j])) continue;
      double s;
      if (crit == "cosine") {
        const double den = st[i].norm() * st[j].norm();
        s = den > 0.0 ? dot(vec[i], vec[j]) / den : 1.0;
      } else {
        const double n = static_cast<double>(vec[i].size());
        const double den = st[i].sd() * st[j].sd();
        s = den > 0.0 && n > 0
                ? std::fabs((dot(vec[i], vec[j]) / n - st[i].mean() * st[j].mean()) / den)
                : 1.0;
      }
      sim[i][j] = sim[j][i] = std::min(1.0, s);
    }
  return sim;
}

// Merges slot bj into bi: for every consumer that reads bj, the least-squares fit
// a_bj ~ alpha a_bi (+ beta where the consumer's bias can take it) is absorbed into bi's weights
// and bj's columns are zeroed. Returns the fits for the report.
nlohmann::json merge_into(Graph& work, const std::vector<Reads>& reads,
                          const std::map<std::string, std::vector<Vec>>& act, size_t bi,
                          size_t bj) {
  nlohmann::json fits = nlohmann::json::array();
  for (size_t k = 0; k < reads[bj].keys.size(); ++k) {
    const auto& [node, value] = reads[bj].keys[k];
    Vec ai, aj;
    for (size_t p = 0; p < reads[bj].channels[k].size(); ++p) {
      const Vec& x = act.at(value)[static_cast<size_t>(reads[bi].channels[k][p])];
      const Vec& y = act.at(value)[static_cast<size_t>(reads[bj].channels[k][p])];
      ai.insert(ai.end(), x.begin(), x.end());
      aj.insert(aj.end(), y.begin(), y.end());
    }
    const bool icpt = bias_foldable(work, node);
    const auto [alpha, beta] = fit(ai, aj, icpt);
    for (size_t p = 0; p < reads[bj].channels[k].size(); ++p)
      absorb_channel(work, node, reads[bj].channels[k][p], reads[bi].channels[k][p], alpha, beta);
    fits.push_back({{"consumer", node}, {"alpha", alpha}, {"beta", beta}, {"intercept", icpt}});
  }
  return fits;
}

// One dependency group merged down to its target: the most similar live pair at a time, the
// weaker channel absorbed into the stronger (least squares, in `work`) and planned for removal.
// `left` counts the channels each tensor still has, so that no tensor is emptied.
nlohmann::json merge_group(const ChannelGroup& grp, const Tensor& calib, const std::string& crit,
                           double threshold, double sparsity, Graph& work,
                           std::map<std::string, int64_t>& left, ChannelPlan& plan) {
  const size_t C = grp.slots.size();
  std::vector<Reads> reads;
  std::set<std::string> want;
  for (const auto& s : grp.slots) {
    reads.push_back(reads_of(s));
    for (const auto& u : s.uses) want.insert(u.value);
  }
  const auto act = collect(work, calib, want);
  std::vector<Vec> vec;
  std::vector<Stats> st;
  for (const auto& r : reads) {
    vec.push_back(slot_vector(r, act));
    st.push_back(stats(vec.back()));
  }
  const std::vector<std::vector<double>> sim = similarity_matrix(reads, vec, st, crit);
  const int64_t target =
      threshold > 0.0
          ? static_cast<int64_t>(C) - 1
          : std::min<int64_t>(
                static_cast<int64_t>(C) - 1,
                static_cast<int64_t>(std::floor(sparsity * static_cast<double>(C) + 1e-9)));
  auto weight = [&](size_t s) { return crit == "cosine" ? st[s].norm() : st[s].sd(); };
  std::vector<bool> alive(C, true);
  std::vector<size_t> gone;
  nlohmann::json merges = nlohmann::json::array();
  while (static_cast<int64_t>(gone.size()) < target) {
    // Most similar live pair (first in slot order on ties) whose loser can go.
    double best = -1.0;
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < C; ++i)
      for (size_t j = i + 1; j < C; ++j) {
        if (!alive[i] || !alive[j] || sim[i][j] <= best) continue;
        // The weaker channel of the pair goes (higher slot on a tie).
        const size_t lose = weight(i) < weight(j) ? i : j;
        bool empties = false;
        for (const auto& v : grp.slots[lose].values) empties = empties || left[v.value] <= 1;
        if (empties) continue;
        best = sim[i][j];
        bi = lose == i ? j : i;
        bj = lose;
      }
    if (best < 0.0 || (threshold > 0.0 && best < threshold)) break;
    const nlohmann::json fits = merge_into(work, reads, act, bi, bj);
    alive[bj] = false;
    gone.push_back(bj);
    for (const auto& v : grp.slots[bj].values) --left[v.value];
    merges.push_back({{"removed", filter_name(grp.slots[bj])},
                      {"into", filter_name(grp.slots[bi])},
                      {"similarity", best},
                      {"fits", fits}});
  }
  std::sort(gone.begin(), gone.end());
  nlohmann::json removed = nlohmann::json::object();
  for (size_t s : gone)
    for (const auto& f : grp.slots[s].filters) {
      plan.remove[f.node].push_back(f.channel);
      removed[f.node].push_back(f.channel);
    }
  return {{"producers", grp.producers}, {"channels_before", C}, {"channels_after", C - gone.size()},
          {"target_removed", target},   {"removed", removed},   {"merges", merges}};
}

class Similarity : public Scheme {
 public:
  std::string description() const override {
    return "data-driven channel merging: channels with similar calibration activations are "
           "merged into their most similar survivor (needs --calib)";
  }
  std::vector<ParamSpec> params() const override {
    return {choice_param("criterion", "cosine", {"cosine", "correlation"},
                         "similarity of two channels' calibration activations"),
            real_param("threshold", 0.0, 0.0, 1.0, "1",
                       "merge while similarity >= threshold (0: merge to --sparsity)")};
  }
  SchemeTraits traits() const override { return {true, false}; }
  SchemeResult run(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                   const PruneData& d) const override {
    if (!d.calib) throw InputError("the similarity scheme needs --calib");
    check_sparsity(o.sparsity);
    const std::string crit = o.params.s("criterion");
    const double threshold = o.params.d("threshold");
    if (crit != "cosine" && crit != "correlation")
      throw InputError("--criterion: '" + crit +
                       "' is not a similarity criterion (cosine, correlation)");
    if (!(threshold >= 0.0 && threshold <= 1.0))
      throw InputError("--threshold: " + std::to_string(threshold) + " is outside [0, 1]");
    check_input_shape(g, *d.calib, "--calib");
    std::set<std::string> selected;
    for (const auto& l : select_layers(g, layers)) selected.insert(l.node);

    const ChannelAnalysis a = analyze_channels(g);
    std::map<std::string, int64_t> left;  // channels still in each tensor
    for (const auto& kv : g.shapes)
      if (!g.is_const(kv.first) && kv.second.size() >= 2) left[kv.first] = kv.second[1];

    Graph work = g;  // the merged model: absorbed weights, removed channels' columns zeroed
    ChannelPlan plan;
    nlohmann::json groups = nlohmann::json::array(), whole = nlohmann::json::array();
    for (const auto& grp : a.groups) {
      if (!grp.prunable) {
        whole.push_back(
            {{"producers", grp.producers}, {"channels", grp.channels()}, {"reason", grp.reason}});
        continue;
      }
      if (std::none_of(grp.producers.begin(), grp.producers.end(),
                       [&](const std::string& p) { return selected.count(p) != 0; }))
        continue;
      groups.push_back(merge_group(grp, *d.calib, crit, threshold, o.sparsity, work, left, plan));
    }
    SchemeResult res;
    // The removed channels' consumer columns are already zero in `work`, so cutting them
    // (without folding their constants) keeps the merged model's function.
    res.graph = channel_cut(work, plan);
    res.notes = {{"scheme", "similarity"},
                 {"criterion", crit},
                 {"sparsity", o.sparsity},
                 {"threshold", threshold},
                 {"calib_samples", d.calib->shape[0]},
                 {"groups", groups},
                 {"left_whole", whole},
                 {"layers", layer_channel_notes(g, res.graph)}};
    for (const auto& l : prunable_layers(res.graph))
      res.masks[l.weight].assign(static_cast<size_t>(res.graph.init(l.weight).size()), 1);
    return res;
  }
};

}  // namespace
PRUNESIM_REGISTER_SCHEME("similarity", Similarity);
}  // namespace prunesim
