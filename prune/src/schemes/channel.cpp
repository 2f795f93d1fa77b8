// `channel`: filter pruning by L1/L2 norm over the dependency groups of prune/channel.h; the
// chosen channels are removed physically (channel_physical).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "prune/channel.h"
#include "prune/errors.h"
#include "prune/pruning.h"

namespace prunesim {

namespace {

// Filter norm (L1 or L2) of output channel `row` of a prunable layer.
double filter_norm(const Graph& g, const PrunableLayer& l, int64_t row, bool l2) {
  const Tensor& w = g.init(l.weight);
  double s = 0.0;
  for (int64_t c = 0; c < l.cols; ++c) {
    const double v = w.f[static_cast<size_t>(l.index(row, c))];
    s += l2 ? v * v : std::fabs(v);
  }
  return l2 ? std::sqrt(s) : s;
}

nlohmann::json left_whole_note(const ChannelGroup& grp) {
  return {{"producers", grp.producers}, {"channels", grp.channels()}, {"reason", grp.reason}};
}

class Channel : public Scheme {
 public:
  std::string description() const override {
    return "filter pruning by L1/L2 norm over dependency groups; channels physically removed";
  }
  std::vector<ParamSpec> params() const override {
    return {choice_param("criterion", "l1", {"l1", "l2"}, "filter norm that ranks channels")};
  }
  SchemeTraits traits() const override { return {true, false}; }
  SchemeResult run(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                   const PruneData&) const override {
    check_sparsity(o.sparsity);
    const std::string crit = o.params.s("criterion");
    if (crit != "l1" && crit != "l2")
      throw InputError("--criterion: '" + crit + "' is not a channel criterion (l1, l2)");
    std::set<std::string> selected;
    for (const auto& l : select_layers(g, layers)) selected.insert(l.node);
    std::map<std::string, PrunableLayer> pl;
    for (const auto& l : prunable_layers(g)) pl[l.node] = l;

    const ChannelAnalysis a = analyze_channels(g);
    std::map<std::string, int64_t> left;  // channels still in each tensor
    for (const auto& kv : g.shapes)
      if (!g.is_const(kv.first) && kv.second.size() >= 2) left[kv.first] = kv.second[1];

    SchemeResult res;
    ChannelPlan plan;
    nlohmann::json groups = nlohmann::json::array(), whole = nlohmann::json::array();
    for (const auto& grp : a.groups) {
      if (!grp.prunable) {
        whole.push_back(left_whole_note(grp));
        continue;
      }
      if (std::none_of(grp.producers.begin(), grp.producers.end(),
                       [&](const std::string& p) { return selected.count(p) != 0; }))
        continue;
      // Score of a slot: the criterion summed over the filters that go with it.
      std::vector<double> score;
      for (const auto& s : grp.slots) {
        double v = 0.0;
        for (const auto& f : s.filters) v += filter_norm(g, pl.at(f.node), f.channel, crit == "l2");
        score.push_back(v);
      }
      std::vector<size_t> order(score.size());
      std::iota(order.begin(), order.end(), size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t x, size_t y) { return score[x] < score[y]; });
      const int64_t C = grp.channels();
      const int64_t target = std::min<int64_t>(
          C - 1, static_cast<int64_t>(std::floor(o.sparsity * static_cast<double>(C) + 1e-9)));
      nlohmann::json skipped = nlohmann::json::array();
      std::vector<size_t> chosen;
      for (size_t s : order) {
        if (static_cast<int64_t>(chosen.size()) >= target) break;
        const ChannelSlot& slot = grp.slots[s];
        if (!slot.exact_fold) {
          skipped.push_back(
              {{"slot", s},
               {"filter", slot.filters[0].node + ":" + std::to_string(slot.filters[0].channel)},
               {"why", slot.fold_note}});
          continue;
        }
        bool empties = false;
        for (const auto& v : slot.values) empties = empties || left[v.value] <= 1;
        if (empties) continue;
        for (const auto& v : slot.values) --left[v.value];
        chosen.push_back(s);
      }
      std::sort(chosen.begin(), chosen.end());
      nlohmann::json removed = nlohmann::json::object();
      for (size_t s : chosen)
        for (const auto& f : grp.slots[s].filters) {
          plan.remove[f.node].push_back(f.channel);
          removed[f.node].push_back(f.channel);
        }
      groups.push_back({{"producers", grp.producers},
                        {"channels_before", C},
                        {"channels_after", C - static_cast<int64_t>(chosen.size())},
                        {"target_removed", target},
                        {"removed", removed},
                        {"kept_for_exactness", skipped}});
    }
    res.graph = channel_physical(g, plan);
    res.notes = {{"scheme", "channel"},    {"criterion", crit},
                 {"sparsity", o.sparsity}, {"groups", groups},
                 {"left_whole", whole},    {"layers", layer_channel_notes(g, res.graph)}};
    for (const auto& l : prunable_layers(res.graph))
      res.masks[l.weight].assign(static_cast<size_t>(res.graph.init(l.weight).size()), 1);
    return res;
  }
};

}  // namespace

PRUNESIM_REGISTER_SCHEME("channel", Channel);

}  // namespace prunesim
