#include "prune/pipeline.h"

#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "base/limits.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/graph_passes.h"
#include "prune/metrics.h"
#include "prune/onnx_io.h"
#include "schemes/scheme_util.h"

namespace prunesim {
namespace {

using nlohmann::json;

// Reads one rule: the keys every rule has (match, skip, scheme, sparsity, seed) and the options
// its scheme declares (Scheme::params()); anything else is an error naming the key.
RecipeRule parse_rule(const json& j, const std::string& file, size_t idx) {
  const std::string place = "rules[" + std::to_string(idx) + "]";
  if (!j.is_object()) fail(file, place, "a rule must be an object");
  RecipeRule r;
  auto str = [&](const std::string& k) -> std::string {
    if (!j.at(k).is_string()) fail(file, place + "." + k, "must be a string");
    return j.at(k).get<std::string>();
  };
  if (j.contains("scheme")) r.scheme = str("scheme");
  const Scheme* scheme = scheme_registry().find(r.scheme);
  if (!scheme)
    fail(file, place + ".scheme",
         "unknown scheme '" + r.scheme + "' (known: " + scheme_registry().known() + ")");
  const std::vector<ParamSpec> specs = scheme->params();
  json given = json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "match") {
      r.match = str(k);
    } else if (k == "skip") {
      r.skip = j.at(k).get<bool>();
    } else if (k == "scheme") {
      continue;
    } else if (k == "sparsity") {
      if (!j.at(k).is_number()) fail(file, place + "." + k, "must be a number");
      r.options.sparsity = j.at(k).get<double>();
      if (!(r.options.sparsity >= 0 && r.options.sparsity < 1))
        fail(file, place + ".sparsity", std::to_string(r.options.sparsity) + " is outside [0, 1)");
    } else if (k == "seed") {
      if (!j.at(k).is_number_integer() || j.at(k).get<int64_t>() < 0)
        fail(file, place + "." + k, "must be an integer at least 0");
      r.options.seed = j.at(k).get<uint64_t>();
    } else if (find_param(specs, k)) {
      given[k] = *it;
    } else {
      bool elsewhere = false;
      for (const Scheme* s : scheme_registry().items())
        elsewhere = elsewhere || find_param(s->params(), k);
      if (!elsewhere) fail(file, place + "." + k, "unknown key");
      std::string takes;
      for (const auto& p : specs) takes += (takes.empty() ? "" : ", ") + p.name;
      fail(file, place + "." + k,
           "not an option of the " + r.scheme + " scheme (" +
               (takes.empty() ? "it takes none" : "it takes " + takes) + ")");
    }
  }
  r.options.params = resolve_scheme_params(*scheme, given, [&](const std::string& k) {
    return file + ": " + place + (k.empty() ? "" : "." + k);
  });
  return r;
}

std::string tmp_path(const std::string& stem) {
  return (std::filesystem::temp_directory_path() /
          (stem + "." + std::to_string(::getpid()) + ".onnx"))
      .string();
}

void and_masks(MaskMap& acc, const MaskMap& add) {
  for (const auto& kv : add) {
    auto it = acc.find(kv.first);
    if (it == acc.end() || it->second.size() != kv.second.size()) {
      acc[kv.first] = kv.second;
      continue;
    }
    for (size_t k = 0; k < kv.second.size(); ++k) it->second[k] &= kv.second[k];
  }
}

// Mean over all but dimension 1, per channel.
std::vector<double> channel_means(const Tensor& t) {
  const int64_t C = t.shape.size() > 1 ? t.shape[1] : 1;
  const int64_t inner = t.shape.size() > 2 ? numel(Shape(t.shape.begin() + 2, t.shape.end())) : 1;
  std::vector<double> m(static_cast<size_t>(C), 0.0);
  for (int64_t k = 0; k < t.size(); ++k)
    m[static_cast<size_t>((k / inner) % C)] += t.f[static_cast<size_t>(k)];
  const double n = static_cast<double>(t.size() / C);
  for (auto& v : m) v /= n;
  return m;
}

// Per-sample rows of a [N, ...] tensor.
std::vector<std::vector<float>> rows(const Tensor& t) {
  const int64_t n = t.shape[0], per = t.size() / n;
  std::vector<std::vector<float>> r(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    r[static_cast<size_t>(i)].assign(t.f.begin() + i * per, t.f.begin() + (i + 1) * per);
  return r;
}

int fractions_count_hint(const Schedule& s) {
  if (s.kind == "agp" || s.kind == "lottery") return s.steps;
  if (s.kind == "steps") return static_cast<int>(s.fractions.size());
  return 1;
}

}  // namespace

bool glob_match(const std::string& p, const std::string& t) {
  size_t pi = 0, ti = 0, star = std::string::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

Recipe load_recipe(const std::string& path, const Graph& g) {
  std::ifstream f(path, std::ios::binary);
  if (!f) fail(path, "", "cannot open file");
  std::ostringstream s;
  s << f.rdbuf();
  return parse_recipe(s.str(), path, g);
}

Recipe parse_recipe(const std::string& text, const std::string& path, const Graph& g) {
  json j = parse_json_input(text, path);
  if (!j.is_object()) fail(path, "", "a recipe is a JSON object with a \"rules\" array");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "rules" && it.key() != "description") fail(path, it.key(), "unknown key");
  if (!j.contains("rules") || !j["rules"].is_array() || j["rules"].empty())
    fail(path, "rules", "missing or empty");
  Recipe r;
  try {
    for (size_t k = 0; k < j["rules"].size(); ++k)
      r.rules.push_back(parse_rule(j["rules"][k], path, k));
  } catch (const json::type_error& e) {
    fail(path, "rules", std::string("wrong value type: ") + e.what());
  }
  const auto layers = prunable_layers(g);
  for (size_t k = 0; k < r.rules.size(); ++k) {
    bool any = false;
    for (const auto& l : layers) any = any || glob_match(r.rules[k].match, l.node);
    if (!any)
      fail(path, "rules[" + std::to_string(k) + "].match",
           "'" + r.rules[k].match + "' names no prunable layer of " + g.source);
  }
  return r;
}

Recipe single_rule_recipe(const std::string& scheme, const SchemeOptions& o,
                          const std::vector<std::string>& layers) {
  Recipe r;
  make_scheme(scheme);  // unknown scheme: error now, not mid-run
  RecipeRule rule;
  rule.scheme = scheme;
  rule.options = o;
  rule.layers = layers;  // one rule, so --global ranks over exactly these layers
  r.rules.push_back(rule);
  return r;
}

namespace {

// Which rule owns which layer (first match wins; a skip rule owns its layers and prunes none).
std::vector<std::vector<std::string>> owned_layers(const Graph& g, const Recipe& recipe) {
  std::vector<std::vector<std::string>> owned(recipe.rules.size());
  for (size_t k = 0; k < recipe.rules.size(); ++k)
    for (const auto& l : select_layers(g, recipe.rules[k].layers)) (void)l;  // unknown names: error
  for (const auto& l : prunable_layers(g))
    for (size_t k = 0; k < recipe.rules.size(); ++k) {
      const auto& rl = recipe.rules[k];
      const bool hit = rl.layers.empty() ? glob_match(rl.match, l.node)
                                         : std::find(rl.layers.begin(), rl.layers.end(), l.node) !=
                                               rl.layers.end();
      if (hit) {
        if (!rl.skip) owned[k].push_back(l.node);
        break;
      }
    }
  return owned;
}

// The schedule's steps as fractions of each rule's target sparsity.
std::vector<double> step_fractions(const Schedule& sched, const Recipe& recipe) {
  std::vector<double> fractions;
  if (sched.kind == "oneshot") {
    fractions = {1.0};
  } else if (sched.kind == "agp") {
    if (sched.steps < 1) throw InputError("--steps: must be at least 1");
    for (int t = 1; t <= sched.steps; ++t)  // Zhu & Gupta: s_t = s_f (1 - (1 - t/T)^3)
      fractions.push_back(1.0 - std::pow(1.0 - static_cast<double>(t) / sched.steps, 3.0));
  } else if (sched.kind == "lottery") {
    // Iterative magnitude pruning (Frankle & Carbin; Fed-LTP): every round removes the same share
    // of what is left, s_r = 1 - (1 - s)^(r/R), then rewinds the survivors and trains them.
    if (sched.steps < 1) throw InputError("--rounds: must be at least 1");
    if (!sched.finetune_fn)
      throw InputError("--schedule lottery: needs --finetune (every round trains the ticket)");
    double target = 0;
    for (const auto& rl : recipe.rules)
      target = std::max(target, rl.skip ? 0.0 : rl.options.sparsity);
    for (int t = 1; t <= sched.steps; ++t) {
      const double s_t = 1.0 - std::pow(1.0 - target, static_cast<double>(t) / sched.steps);
      fractions.push_back(target > 0 ? s_t / target : 1.0);
    }
  } else if (sched.kind == "steps") {
    fractions = sched.fractions;
    if (fractions.empty())
      throw InputError("--step-list: give the fractions of the target, e.g. 0.5,0.8,1");
    for (size_t k = 0; k < fractions.size(); ++k)
      if (!(fractions[k] > 0 && fractions[k] <= 1) || (k && fractions[k] < fractions[k - 1]))
        throw InputError("--step-list: fractions must increase within (0, 1]");
  } else {
    throw InputError("--schedule: '" + sched.kind + "' is not oneshot, agp, steps or lottery");
  }
  return fractions;
}

// A structural scheme (channel, similarity) changes weight shapes: an earlier mask of a
// reshaped weight is replaced by the weight's current zero pattern, one of a removed
// weight is dropped.
void reconcile_masks(MaskMap& masks, const Graph& now) {
  for (auto it = masks.begin(); it != masks.end();) {
    if (!now.is_const(it->first)) {
      it = masks.erase(it);
      continue;
    }
    const auto& w = now.init(it->first).f;
    if (w.size() != it->second.size()) {
      it->second.resize(w.size());
      for (size_t i = 0; i < w.size(); ++i) it->second[i] = w[i] != 0.f;
    }
    ++it;
  }
}

// A rule's notes into the outcome's: per-layer notes under "layers" (tagged with the scheme),
// the rest under the scheme's name.
void merge_notes(nlohmann::json& into, const nlohmann::json& notes, const std::string& scheme) {
  for (auto it = notes.begin(); it != notes.end(); ++it) {
    if (it.key() == "layers") {
      for (auto l = it->begin(); l != it->end(); ++l) {
        into["layers"][l.key()] = *l;
        into["layers"][l.key()]["scheme"] = scheme;
      }
    } else {
      into[scheme][it.key()] = *it;
    }
  }
}

// One rule at one step: its scheme on the layers it owns at `fraction` of its target, the masks
// and notes merged into `out`. True when the scheme trained its own result (polarization).
bool apply_rule(const Graph& g, const RecipeRule& rule, const std::vector<std::string>& owned,
                double fraction, const PruneData& data, PruneOutcome& out) {
  SchemeOptions o = rule.options;
  o.sparsity = rule.options.sparsity * fraction;
  const Scheme* scheme = make_scheme(rule.scheme);
  if (scheme->traits().removes_channels) {
    // These remove channels from an already smaller graph: ask for the share of what is
    // left that reaches this step's target, measured on the channels actually remaining.
    auto rows = [&](const Graph& m) {
      int64_t n = 0;
      for (const auto& l : prunable_layers(m))
        if (std::find(owned.begin(), owned.end(), l.node) != owned.end()) n += l.rows;
      return n;
    };
    const double left = static_cast<double>(rows(out.graph)) / static_cast<double>(rows(g));
    o.sparsity = std::max(0.0, 1.0 - (1.0 - o.sparsity) / left);
  }
  SchemeResult r = scheme->apply(out.graph, owned, o, data);
  const bool obj = r.notes.is_object();
  const bool trained = obj && r.notes.value("trained", false);
  if (obj) r.notes.erase("trained");
  and_masks(out.masks, r.masks);
  reconcile_masks(out.masks, r.graph);
  out.graph = apply_masks(r.graph, out.masks);
  merge_notes(out.notes, r.notes, rule.scheme);
  for (const auto& name : owned) out.notes["layers"][name]["scheme"] = rule.scheme;
  return trained;
}

// Lottery ticket: surviving weights restart from their initial values (`rewind`), or from the
// early-epoch snapshot of the first round once there is one.
void rewind_weights(const Graph& g, const Schedule& sched, const Graph& rewind, PruneOutcome& out) {
  const std::string rewind_name = sched.rewind_onnx.empty() ? g.source : sched.rewind_onnx;
  const Graph* snap = sched.rewind_snapshot ? sched.rewind_snapshot() : nullptr;
  const Graph& src = snap ? *snap : rewind;
  for (const auto& kv : out.masks) {
    if (!src.is_const(kv.first) || src.init(kv.first).f.size() != kv.second.size())
      fail(snap ? std::string("the rewind snapshot") : rewind_name,
           "initializer '" + kv.first + "'", "missing or of another shape than in " + g.source);
    out.graph.initializers[kv.first].f = src.init(kv.first).f;
  }
  out.graph = apply_masks(out.graph, out.masks);
}

// --finetune-cmd: the user's script gets the pruned model and returns a tuned one of the same
// initializers; pruned weights stay pruned.
void run_finetune_cmd(const Schedule& sched, size_t step, PruneOutcome& out) {
  const std::string in = tmp_path("prunesim_ft_in"), outp = tmp_path("prunesim_ft_out");
  save_onnx(out.graph, in);
  const std::string cmd = sched.finetune_cmd + " '" + in + "' '" + outp + "'";
  const int rc = std::system(cmd.c_str());
  std::remove(in.c_str());
  if (rc != 0) {
    std::remove(outp.c_str());
    throw InputError("--finetune-cmd: '" + sched.finetune_cmd + "' failed at step " +
                     std::to_string(step + 1) + " (exit code " +
                     std::to_string(WIFEXITED(rc) ? WEXITSTATUS(rc) : rc) + ")");
  }
  Graph tuned;
  try {
    tuned = load_onnx(outp);
  } catch (...) {
    std::remove(outp.c_str());
    throw;
  }
  std::remove(outp.c_str());
  for (const auto& kv : out.graph.initializers)
    if (!tuned.is_const(kv.first) || tuned.init(kv.first).shape != kv.second.shape)
      throw InputError("--finetune-cmd: the returned model changed or lost initializer '" +
                       kv.first + "'");
  out.graph = apply_masks(tuned, out.masks);
}

// After the last step: PASER's choice of recovery data, then bias correction on it.
void recover(const Graph& g, const Recovery& rec, const PruneData& data, PruneOutcome& out) {
  const Tensor* calib = data.calib;
  Tensor picked_calib;
  if (rec.paser_budget < 0) throw InputError("--paser-budget: must be positive");
  if (rec.paser_clusters < 1) throw InputError("--paser-clusters: must be at least 1");
  if (rec.paser_budget > 0) {
    if (!calib) throw InputError("--paser-budget needs --calib");
    json rep;
    out.picked =
        paser_select(out.graph, g, *calib, rec.paser_budget, rec.paser_clusters, rec.seed, &rep);
    out.notes["recovery"]["paser"] = rep;
    const int64_t per = calib->size() / calib->shape[0];
    picked_calib.shape = calib->shape;
    picked_calib.shape[0] = static_cast<int64_t>(out.picked.size());
    for (int64_t i : out.picked)
      picked_calib.f.insert(picked_calib.f.end(), calib->f.begin() + i * per,
                            calib->f.begin() + (i + 1) * per);
    calib = &picked_calib;
  }
  if (rec.bias_correct) {
    if (!calib) throw InputError("--bias-correct needs --calib");
    std::vector<std::string> layers;
    for (const auto& l : prunable_layers(out.graph))
      if (out.notes.contains("layers") && out.notes["layers"].contains(l.node))
        layers.push_back(l.node);
    const int n = bias_correct(out.graph, g, *calib, layers);
    out.notes["recovery"]["bias_corrected_layers"] = n;
    out.notes["recovery"]["bias_correction_samples"] = calib->shape[0];
  }
}

}  // namespace

PruneOutcome run_pruning(const Graph& g, const Recipe& recipe, const Schedule& sched,
                         const Recovery& rec, const PruneData& data) {
  const std::vector<std::vector<std::string>> owned = owned_layers(g, recipe);
  // Schemes that draw a fresh pattern each step would AND unrelated patterns and overshoot.
  for (const auto& rl : recipe.rules) {
    const std::string redraws =
        make_scheme(rl.scheme)->redraws(make_scheme(rl.scheme)->complete(rl.options.params));
    if (fractions_count_hint(sched) > 1 && !redraws.empty())
      throw InputError("--schedule: the " + redraws +
                       " scheme draws a new pattern every step; use --schedule oneshot");
  }
  const std::vector<double> fractions = step_fractions(sched, recipe);
  Graph rewind;
  if (!sched.rewind_onnx.empty())
    rewind = load_onnx(sched.rewind_onnx);
  else if (sched.rewind_dense)
    rewind = g;
  const bool rewinding = !sched.rewind_onnx.empty() || sched.rewind_dense;

  PruneOutcome out;
  out.graph = g;
  for (size_t step = 0; step < fractions.size(); ++step) {
    bool all_trained = true;  // every rule of this step trained its own result (polarization)
    for (size_t k = 0; k < recipe.rules.size(); ++k) {
      if (owned[k].empty()) continue;
      all_trained =
          apply_rule(g, recipe.rules[k], owned[k], fractions[step], data, out) && all_trained;
    }
    if (rewinding) rewind_weights(g, sched, rewind, out);
    if (!sched.finetune_cmd.empty()) run_finetune_cmd(sched, step, out);
    if (sched.finetune_fn && !all_trained) {
      const std::string label = fractions.size() > 1
                                    ? (sched.kind == "lottery" ? "round " : "step ") +
                                          std::to_string(step + 1) + "/" +
                                          std::to_string(fractions.size())
                                    : std::string("finetune");
      const Graph tuned = sched.finetune_fn(out.graph, out.masks, label);
      out.graph = apply_masks(tuned, out.masks);  // exact already; kept as the contract's guard
      out.notes["finetune"].push_back({{"step", step + 1}});
    }
    out.notes["steps"].push_back({{"step", step + 1},
                                  {"fraction_of_target", fractions[step]},
                                  {"sparsity", weight_sparsity(out.graph)}});
  }
  recover(g, rec, data, out);
  return out;
}

int bias_correct(Graph& pruned, const Graph& dense, const Tensor& calib,
                 const std::vector<std::string>& layers) {
  // Dense outputs of every layer, once.
  std::map<std::string, Tensor> dense_out;
  std::set<std::string> want;
  for (const Node& n : pruned.nodes)
    if (std::find(layers.begin(), layers.end(), n.name) != layers.end()) want.insert(n.outputs[0]);
  auto collect = [&](std::map<std::string, Tensor>& into) {
    return [&into, &want](const Node&, const std::string& v, const Tensor& t) {
      if (!want.count(v)) return;
      Tensor& acc = into[v];
      if (acc.shape.empty()) {
        acc = t;
      } else {
        acc.shape[0] += t.shape[0];
        acc.f.insert(acc.f.end(), t.f.begin(), t.f.end());
      }
    };
  };
  run_float(dense, calib, collect(dense_out));
  int corrected = 0;
  for (Node& n : pruned.nodes) {
    if (std::find(layers.begin(), layers.end(), n.name) == layers.end()) continue;
    if (n.op != "Conv" && n.op != "ConvTranspose" && n.op != "Gemm") continue;
    if (!dense_out.count(n.outputs[0])) continue;  // renamed by a structural scheme
    std::map<std::string, Tensor> now;
    run_float(pruned, calib, collect(now));
    const Tensor &d = dense_out[n.outputs[0]], &p = now[n.outputs[0]];
    if (d.shape != p.shape) continue;
    const auto md = channel_means(d), mp = channel_means(p);
    std::string bname = n.in(2);
    if (n.op == "Gemm" && n.attr_f("beta", 1.f) != 1.f)
      continue;  // C is scaled by beta: left alone
    if (bname.empty() || !pruned.is_const(bname)) {
      bname = n.name + "__bias_corrected";
      pruned.initializers[bname] = Tensor({static_cast<int64_t>(md.size())});
      if (n.inputs.size() < 3) n.inputs.resize(3);
      n.inputs[2] = bname;
    }
    Tensor& b = pruned.initializers[bname];
    if (b.size() != static_cast<int64_t>(md.size())) continue;
    for (size_t c = 0; c < md.size(); ++c) b.f[c] += static_cast<float>(md[c] - mp[c]);
    ++corrected;
  }
  return corrected;
}

namespace {
// k-means with k-means++ seeding over the rows: each row's cluster (25 Lloyd iterations; `k`
// centres, every one seeded from a row).
std::vector<int64_t> kmeans(const std::vector<std::vector<float>>& fd, int64_t clusters,
                            detail::SplitMix64& rng) {
  const size_t n = fd.size();
  auto dist = [&](const std::vector<float>& a, const std::vector<double>& c) {
    double d = 0;
    for (size_t k = 0; k < a.size(); ++k) d += (a[k] - c[k]) * (a[k] - c[k]);
    return d;
  };
  std::vector<std::vector<double>> cent;
  const size_t first = static_cast<size_t>(rng.next() % n);
  cent.emplace_back(fd[first].begin(), fd[first].end());
  while (static_cast<int64_t>(cent.size()) < clusters) {
    std::vector<double> d2(n);
    double tot = 0;
    for (size_t i = 0; i < n; ++i) {
      double best = std::numeric_limits<double>::max();
      for (const auto& c : cent) best = std::min(best, dist(fd[i], c));
      d2[i] = best;
      tot += best;
    }
    double u = rng.uniform() * tot;
    size_t pick = n - 1;
    for (size_t i = 0; i < n; ++i) {
      u -= d2[i];
      if (u <= 0) {
        pick = i;
        break;
      }
    }
    cent.emplace_back(fd[pick].begin(), fd[pick].end());
  }
  std::vector<int64_t> assign(n, 0);
  for (int it = 0; it < 25; ++it) {
    for (size_t i = 0; i < n; ++i) {
      double best = std::numeric_limits<double>::max();
      for (size_t c = 0; c < cent.size(); ++c)
        if (dist(fd[i], cent[c]) < best) {
          best = dist(fd[i], cent[c]);
          assign[i] = static_cast<int64_t>(c);
        }
    }
    for (size_t c = 0; c < cent.size(); ++c) {
      std::vector<double> sum(fd[0].size(), 0.0);
      int64_t cnt = 0;
      for (size_t i = 0; i < n; ++i)
        if (assign[i] == static_cast<int64_t>(c)) {
          for (size_t k = 0; k < sum.size(); ++k) sum[k] += fd[i][k];
          ++cnt;
        }
      if (cnt)
        for (size_t k = 0; k < sum.size(); ++k) cent[c][k] = sum[k] / static_cast<double>(cnt);
    }
  }
  return assign;
}
}  // namespace

std::vector<int64_t> paser_select(const Graph& pruned, const Graph& dense, const Tensor& calib,
                                  int64_t budget, int64_t clusters, uint64_t seed, json* report) {
  const Tensor yd = run_float(dense, calib), yp = run_float(pruned, calib);
  const auto fd = rows(yd), fp = rows(yp);
  const size_t n = fd.size();
  if (budget < 1) throw InputError("--paser-budget: must be at least 1");
  budget = std::min<int64_t>(budget, static_cast<int64_t>(n));
  clusters = std::max<int64_t>(1, std::min<int64_t>(clusters, static_cast<int64_t>(n)));
  // Degradation: relative squared error of the pruned output against the dense one.
  std::vector<double> deg(n);
  for (size_t i = 0; i < n; ++i) {
    double e = 0, s = 1e-12;
    for (size_t k = 0; k < fd[i].size(); ++k) {
      e += (fd[i][k] - fp[i][k]) * static_cast<double>(fd[i][k] - fp[i][k]);
      s += fd[i][k] * static_cast<double>(fd[i][k]);
    }
    deg[i] = e / s;
  }
  // k-means (k-means++ seeding) on the dense outputs: groups of samples the model treats alike.
  detail::SplitMix64 rng(seed);
  const std::vector<int64_t> assign = kmeans(fd, clusters, rng);
  const size_t K = static_cast<size_t>(clusters);  // kmeans seeds exactly `clusters` centres
  // Budget shares by total degradation per cluster (largest remainder), capped by cluster size.
  std::vector<double> cdeg(K, 0.0);
  std::vector<int64_t> csize(K, 0), share(K, 0);
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    cdeg[static_cast<size_t>(assign[i])] += deg[i];
    ++csize[static_cast<size_t>(assign[i])];
    total += deg[i];
  }
  int64_t given = 0;
  std::vector<std::pair<double, size_t>> rem;
  for (size_t c = 0; c < K; ++c) {
    const double exact =
        total > 0 ? budget * cdeg[c] / total : budget * static_cast<double>(csize[c]) / n;
    share[c] = std::min<int64_t>(static_cast<int64_t>(exact), csize[c]);
    given += share[c];
    rem.emplace_back(exact - std::floor(exact), c);
  }
  std::sort(rem.begin(), rem.end(), [](auto& a, auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  });
  for (size_t pass = 0; given < budget && pass < 2 * K + 2; ++pass)
    for (auto& r : rem)
      if (given < budget && share[r.second] < csize[r.second]) {
        ++share[r.second];
        ++given;
      }
  std::vector<int64_t> picked;
  json clus = json::array();
  for (size_t c = 0; c < K; ++c) {
    std::vector<size_t> mem;
    for (size_t i = 0; i < n; ++i)
      if (assign[i] == static_cast<int64_t>(c)) mem.push_back(i);
    std::stable_sort(mem.begin(), mem.end(), [&](size_t a, size_t b) { return deg[a] > deg[b]; });
    std::vector<int64_t> mine;
    for (int64_t k = 0; k < share[c]; ++k)
      mine.push_back(static_cast<int64_t>(mem[static_cast<size_t>(k)]));
    picked.insert(picked.end(), mine.begin(), mine.end());
    clus.push_back({{"cluster", c},
                    {"size", csize[c]},
                    {"mean_degradation", csize[c] ? cdeg[c] / static_cast<double>(csize[c]) : 0.0},
                    {"budget_share", share[c]},
                    {"picked", mine}});
  }
  std::sort(picked.begin(), picked.end());
  if (report)
    *report = {{"budget", budget},
               {"samples", n},
               {"clusters", clus},
               {"picked", picked},
               {"degradation", "relative squared error of pruned vs dense output"}};
  return picked;
}

json fidelity(const Graph& model, const Graph& dense, const Tensor& x, const Tensor* labels) {
  const Tensor y = run_float_batch(model, x);
  json j;
  const Tensor ref = labels ? *labels : run_float_batch(dense, x);
  for (const auto& [k, v] : score(y, ref)) j[k] = v;
  if (j.contains("sndr_db")) j["against"] = labels ? "targets" : "dense model output";
  return j;
}

json pruning_report(const Graph& dense, const PruneOutcome& out) {
  std::map<std::string, LayerStats> ds, ps;
  for (const auto& s : layer_stats(dense)) ds[s.name] = s;
  for (const auto& s : layer_stats(out.graph)) ps[s.name] = s;
  // Sparsity, weights and parameters are counted against the original model, so that channel
  // and similarity pruning (which remove weights rather than zero them) report what they took.
  std::map<std::string, int64_t> dense_weights;
  for (const auto& l : prunable_layers(dense)) dense_weights[l.node] = dense.init(l.weight).size();
  json layers = json::array();
  int64_t tot_w = 0, tot_nz = 0, tot_params_d = 0, tot_params_p = 0, macs_d = 0, macs_e = 0;
  int64_t tot_left = 0;
  for (const auto& l : prunable_layers(out.graph)) {
    const Tensor& w = out.graph.init(l.weight);
    int64_t nz = 0;
    for (float v : w.f) nz += v != 0.f;
    const int64_t orig = dense_weights.count(l.node) ? dense_weights[l.node] : w.size();
    const auto& d = ds.count(l.node) ? ds[l.node] : ps[l.node];
    const auto& p = ps[l.node];
    // Every weight of a conv/gemm is used equally often, so effective MACs scale with density.
    const int64_t eff =
        w.size() ? static_cast<int64_t>(std::llround(static_cast<double>(p.macs) * nz / w.size()))
                 : 0;
    json e = {{"name", l.node},
              {"op", l.op},
              {"shape", w.shape},
              {"weights", orig},
              {"weights_left", w.size()},  // after channels were removed (= weights otherwise)
              {"nonzero", nz},
              {"sparsity", orig ? 1.0 - static_cast<double>(nz) / orig : 0.0},
              {"params_dense", d.params},
              {"params", p.params - (w.size() - nz)},
              {"macs_dense", d.macs},
              {"macs_effective", eff}};
    if (out.notes.contains("layers") && out.notes["layers"].contains(l.node)) {
      const json& n = out.notes["layers"][l.node];
      e["scheme"] = n.value("scheme", "");
      for (auto it = n.begin(); it != n.end(); ++it)
        if (it.key() != "scheme") e[it.key()] = *it;
    } else {
      e["scheme"] = "dense";
    }
    layers.push_back(e);
    tot_w += orig;
    tot_left += w.size();
    tot_nz += nz;
    macs_d += d.macs;
    macs_e += eff;
  }
  for (const auto& kv : ds) tot_params_d += kv.second.params;
  for (const auto& kv : ps) tot_params_p += kv.second.params;
  tot_params_p -= tot_left - tot_nz;
  json r;
  r["layers"] = layers;
  r["total"] = {{"weights", tot_w},
                {"weights_left", tot_left},
                {"nonzero", tot_nz},
                {"sparsity", tot_w ? 1.0 - static_cast<double>(tot_nz) / tot_w : 0.0},
                {"params_dense", tot_params_d},
                {"params", tot_params_p},
                {"macs_dense", macs_d},
                {"macs_effective", macs_e}};
  for (auto it = out.notes.begin(); it != out.notes.end(); ++it)
    if (it.key() != "layers") r[it.key()] = *it;
  r["units"] = {{"macs", "multiply-accumulates per inference (batch 1)"},
                {"params", "count"},
                {"storage_bits", "bits"}};
  return r;
}

std::vector<SensitivityRow> sensitivity(
    const Graph& g, const std::string& scheme, const SchemeOptions& base,
    const std::vector<double>& sparsities, const Tensor& x, const Tensor* labels,
    std::string* metric_name, const PruneData& data,
    const std::function<void(size_t, size_t, const std::string&)>& progress) {
  auto s = make_scheme(scheme);
  std::vector<SensitivityRow> out;
  const Tensor y0 = run_float_batch(g, x);
  const Tensor ref = labels ? *labels : y0;
  const std::string metric = score(y0, ref).front().first;
  if (metric_name) *metric_name = metric == "sndr_db" && !labels ? "sndr_db_vs_dense" : metric;
  const auto layers = prunable_layers(g);
  const size_t total = layers.size() * sparsities.size();
  for (const auto& l : layers)
    for (double sp : sparsities) {
      if (progress) progress(out.size(), total, l.node);
      SchemeOptions o = base;
      o.sparsity = sp;
      const Graph pg = sp == 0 ? g : s->apply(g, {l.node}, o, data).graph;  // from dense every time
      const Tensor y = run_float_batch(pg, x);
      out.push_back({l.node, sp, score(y, ref).front().second});
    }
  if (progress) progress(total, total, "done");
  return out;
}

}  // namespace prunesim
