// `prunesim lgn prune net.lgn -o out.lgn (--sat | --similarity --gates N | --greedy --gates N)
// [--data X.npy [--labels Y.npy]] [--conflicts N] [--no-rewrite] [--abc] [--json]`:
// --sat removes gates without changing the function (SAT sweep, logic/sat_sweep.h; --data adds
// the samples to the random simulation patterns; --abc asks ABC to prove the result equivalent
// and to fraig the input for comparison); --similarity and --greedy prune to a gate budget on
// --data (logic/similarity.h, logic/greedy.h) and report top-1 before and after with --labels;
// --finetune "epochs=..,lr=.." then trains the pruned network's gate functions on --data/--labels
// with its wiring fixed (train/logic_train.h: finetune_logic), so the budget is kept.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common.h"
#include "lgn_cli.h"
#include "lgn_samples.h"
#include "logic/abc.h"
#include "logic/blif.h"
#include "logic/format.h"
#include "logic/greedy.h"
#include "logic/sat_sweep.h"
#include "logic/similarity.h"
#include "logic/simplify.h"
#include "prune/errors.h"
#include "registry.h"
#include "train/logic_train.h"
#include "train_cli.h"

namespace prunesim::cli {
namespace {

struct Opts {
  std::string net, out, data, labels, finetune;
  std::string similarity_score = "outputs";
  double finetune_logit = 3.0;
  bool quiet = false;
  bool sat = false, similarity = false, greedy = false, json = false, abc = false;
  bool no_rewrite = false;
  long gates = -1;
  int conflicts = 1000;
  int rounds = 1;
};

// ABC's verdict on the result and its fraig of the input, in two-input gates (logic/abc.h).
nlohmann::json abc_check(const logic::Netlist& in, const logic::Netlist& out) {
  namespace fs = std::filesystem;
  if (logic::abc_binary().empty()) {
    warn("--abc: berkeley-abc is not on PATH (scripts/setup.sh installs it); no ABC check");
    return nullptr;
  }
  const fs::path dir = fs::temp_directory_path() / ("prunesim_abc_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string a = (dir / "in.blif").string(), b = (dir / "out.blif").string();
  logic::write_blif(in, a);
  logic::write_blif(out, b);
  const auto cec = logic::abc_cec(a, b);
  const auto fraig = logic::abc_stats(a, "strash; fraig");
  const auto mapped = logic::abc_fraig_two_input_gates(a, (dir / "fraig.blif").string());
  const auto ours = logic::abc_stats(b, "strash");
  fs::remove_all(dir);
  nlohmann::json j;
  j["cec_equivalent"] = cec ? nlohmann::json(*cec) : nlohmann::json(nullptr);
  if (mapped) j["fraig_two_input_gates"] = *mapped;
  if (fraig) j["fraig_aig_ands"] = fraig->ands;
  if (ours) j["ours_aig_ands"] = ours->ands;
  if (cec && !*cec) throw std::logic_error("ABC cec: the swept network is NOT equivalent");
  return j;
}

nlohmann::json run_sat(const Opts& o, const logic::Netlist& n, logic::Netlist* out) {
  logic::SweepOptions so;
  so.conflict_limit = o.conflicts;
  so.rewrite = !o.no_rewrite;
  LgnSamples s;
  if (!o.data.empty()) {
    s = load_lgn_samples(n, o.net, o.data, o.labels);
    so.data = &s.bits;
  }
  logic::SweepStats st;
  *out = logic::sat_sweep(n, so, &st);
  nlohmann::json j = {{"pass", "sat"},
                      {"gates_simplified", logic::simplify(n).gates.size()},
                      {"gates_before", st.gates_before},
                      {"gates_after", st.gates_after},
                      {"sat_calls", st.sat_calls},
                      {"proven", st.proven},
                      {"proven_constant", st.proven_const},
                      {"refuted", st.refuted},
                      {"budget_exhausted", st.unknown},
                      {"rewritten", st.rewritten},
                      {"patterns", st.patterns},
                      {"rounds", st.rounds},
                      {"conflict_limit", o.conflicts},
                      {"runtime_s", st.seconds}};
  if (o.abc) j["abc"] = abc_check(n, *out);
  return j;
}

// The pruned network's gate functions trained on --data/--labels, its wiring fixed; the best
// epoch on the discrete validation top-1 is kept, so the start wins when no epoch beats it.
nlohmann::json run_finetune(const Opts& o, const logic::Netlist& pruned, logic::Netlist* out) {
  train::LogicFinetuneOptions f;
  // lgn train's defaults (Adam at 0.05, batches of 100): gate logits move at that rate.
  f.train.lr = 0.05;
  f.train.batch = 100;
  train::parse_train_spec(o.finetune, "--finetune", &f.train);
  f.init_logit = o.finetune_logit;
  const train::LogicData d = load_logic_data(o.data, o.labels);
  train::install_interrupt_handler();
  const train::LogicFinetuneResult r =
      train::finetune_logic(pruned, d, f, train_progress("lgn prune --finetune", o.quiet));
  *out = r.net;
  if (r.train.best_epoch == 0)
    warn("--finetune: no epoch beat the pruned network on validation (" +
         std::to_string(r.train.val_samples) + " samples); the output keeps it unchanged");
  return {{"spec", o.finetune},
          {"init_logit", f.init_logit},
          {"epochs", f.train.epochs},
          {"lr", f.train.lr},
          {"batch", f.train.batch},
          {"val_samples", r.train.val_samples},
          {"val_top1_start", r.train.start_metric},
          {"val_top1_best", r.train.best_metric},
          {"best_epoch", r.train.best_epoch},
          {"gates", r.net.gates.size()},
          {"runtime_s", r.train.seconds}};
}

nlohmann::json run_budget(const Opts& o, const logic::Netlist& n, logic::Netlist* out) {
  if (o.data.empty())
    throw InputError("--similarity and --greedy need --data (the samples they rank on)");
  const logic::Netlist base = logic::simplify(n);
  const LgnSamples s = load_lgn_samples(base, o.net, o.data, o.labels);
  const auto t0 = std::chrono::steady_clock::now();
  const auto rank = [&](const logic::Netlist& net) {
    logic::SimilarityOptions so;
    so.score = o.similarity_score == "hamming" ? logic::SimilarityScore::hamming
                                               : logic::SimilarityScore::outputs;
    return o.similarity ? logic::similarity_ranking(net, s.bits, s.n, so)
                        : logic::greedy_ranking(net, s.bits, s.n);
  };
  const logic::BudgetResult r = logic::prune_in_rounds(base, rank, o.gates, o.rounds, o.net);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  *out = r.net;
  nlohmann::json j = {{"pass", o.similarity ? "similarity" : "greedy"},
                      {"similarity_score", o.similarity ? o.similarity_score : ""},
                      {"gates_before", n.gates.size()},
                      {"gates_simplified", base.gates.size()},
                      {"gates_after", r.net.gates.size()},
                      {"budget", o.gates},
                      {"merges", r.merges},
                      {"rounds", o.rounds},
                      {"samples", s.n},
                      {"runtime_s", secs}};
  if (!s.labels.empty()) {
    j["top1_before"] = logic::accuracy(n, s.bits, s.labels.data(), s.n);
    j["top1_after"] = logic::accuracy(r.net, s.bits, s.labels.data(), s.n);
  }
  if (!o.finetune.empty()) {
    j["finetune"] = run_finetune(o, r.net, out);
    j["finetune"]["top1_after"] = logic::accuracy(*out, s.bits, s.labels.data(), s.n);
  }
  return j;
}

void print(const nlohmann::json& j) {
  std::printf("pass %s: %zu gates -> %zu gates in %.3f s\n", j["pass"].get<std::string>().c_str(),
              j["gates_before"].get<size_t>(), j["gates_after"].get<size_t>(),
              j["runtime_s"].get<double>());
  if (j["pass"] == "sat") {
    std::printf(
        "  simplification alone (constants, buffers, inverters, duplicates, dead gates): "
        "%zu gates\n",
        j["gates_simplified"].get<size_t>());
    std::printf(
        "  SAT calls %zu: %zu proven (%zu constant), %zu refuted, %zu budget-exhausted "
        "(limit %d conflicts); %zu gates rewritten over smaller cuts; %zu patterns, %zu rounds\n",
        j["sat_calls"].get<size_t>(), j["proven"].get<size_t>(), j["proven_constant"].get<size_t>(),
        j["refuted"].get<size_t>(), j["budget_exhausted"].get<size_t>(),
        j["conflict_limit"].get<int>(), j["rewritten"].get<size_t>(), j["patterns"].get<size_t>(),
        j["rounds"].get<size_t>());
    if (j.contains("abc") && !j["abc"].is_null())
      std::printf("  ABC: cec %s; ABC fraig of the input: %ld two-input gates (%ld AIG ANDs)\n",
                  j["abc"]["cec_equivalent"] == true ? "equivalent" : "no verdict",
                  j["abc"].value("fraig_two_input_gates", -1L),
                  j["abc"].value("fraig_aig_ands", -1L));
  } else {
    std::printf("  budget %ld gates, %zu merges applied, ranked on %zu samples\n",
                j["budget"].get<long>(), j["merges"].get<size_t>(), j["samples"].get<size_t>());
    if (j.contains("top1_after"))
      std::printf("  top-1 %.2f %% -> %.2f %%\n", 100 * j["top1_before"].get<double>(),
                  100 * j["top1_after"].get<double>());
  }
  if (j.contains("finetune")) {
    const auto& f = j["finetune"];
    std::printf(
        "fine-tuning (%s, wiring fixed): %zu gates after simplification, %.1f s\n"
        "  validation top-1 (%lld samples) %.2f %% -> %.2f %% (best epoch %d of %d)\n"
        "  top-1 on --data %.2f %% -> %.2f %%\n",
        f["spec"].get<std::string>().c_str(), f["gates"].get<size_t>(),
        f["runtime_s"].get<double>(), f["val_samples"].get<long long>(),
        100 * f["val_top1_start"].get<double>(), 100 * f["val_top1_best"].get<double>(),
        f["best_epoch"].get<int>(), f["epochs"].get<int>(), 100 * j["top1_after"].get<double>(),
        100 * f["top1_after"].get<double>());
  }
}

void run(const Opts& o) {
  if (int(o.sat) + int(o.similarity) + int(o.greedy) != 1)
    throw InputError("lgn prune: give exactly one of --sat, --similarity, --greedy");
  if (o.sat && o.gates >= 0)
    throw InputError("--gates: --sat keeps the function, it takes no budget");
  if (!o.sat && o.gates == -1) throw InputError("--similarity and --greedy need --gates N");
  if (!o.labels.empty() && o.data.empty()) throw InputError("--labels needs --data");
  if (!o.finetune.empty() && o.sat)
    throw InputError("--finetune follows --similarity or --greedy (--sat keeps the function)");
  if (!o.finetune.empty() && o.labels.empty())
    throw InputError("--finetune needs --data and --labels (the samples it trains on)");
  check_writable(o.out, "-o");
  const logic::Netlist n = logic::read_lgn(o.net);
  logic::Netlist out;
  nlohmann::json j = o.sat ? run_sat(o, n, &out) : run_budget(o, n, &out);
  out.meta = n.meta + (n.meta.empty() ? "" : "; ") + "lgn prune --" + j["pass"].get<std::string>() +
             (o.sat ? "" : " --gates " + std::to_string(o.gates)) +
             (o.finetune.empty() ? "" : " --finetune " + o.finetune);
  logic::write_lgn(out, o.out);
  j["network"] = o.net;
  j["output"] = o.out;
  if (o.json)
    std::cout << j.dump(2) << "\n";
  else
    print(j);
}

void setup(CLI::App& app) {
  CLI::App& g = group(app, "lgn", "discretised logic-gate networks (docs/logic-networks.md)");
  auto* c = g.add_subcommand("prune", "remove gates: --sat (function kept) or to a budget on data");
  auto o = std::make_shared<Opts>();
  c->add_option("net", o->net, "network (.lgn)")->required();
  c->add_option("-o,--out", o->out, "pruned network (.lgn)")->required();
  c->add_flag("--sat", o->sat, "SAT sweep: merge proven equal/complemented/constant signals");
  c->add_flag("--similarity", o->similarity,
              "merge gates into the most similar earlier signal on --data");
  c->add_flag("--greedy", o->greedy,
              "baseline: replace the gates whose removal changes the outputs least");
  c->add_option("--similarity-score", o->similarity_score,
                "--similarity: pick and rank each gate's most similar candidates by the output "
                "bits they change (outputs) or by Hamming distance alone (hamming)")
      ->check(CLI::IsMember({"outputs", "hamming"}));
  c->add_option("--gates", o->gates, "gate budget of --similarity / --greedy (gates)");
  c->add_option("--data", o->data,
                "samples (.npy [N, features]): patterns for --sat, the data of the budget passes");
  c->add_option("--labels", o->labels, "class ids (.npy [N]): report top-1 before and after");
  c->add_option("--conflicts", o->conflicts, "--sat: conflict budget per SAT call (conflicts)")
      ->check(CLI::Range(1, 100000000));
  c->add_option("--rounds", o->rounds,
                "--similarity/--greedy: re-rank on the pruned network this many times")
      ->check(CLI::Range(1, 100));
  c->add_flag("--no-rewrite", o->no_rewrite, "--sat: skip the two-input cut rewriting");
  c->add_flag("--abc", o->abc,
              "--sat: ABC cec of the result and ABC fraig of the input for comparison");
  c->add_option("--finetune", o->finetune,
                "after --similarity/--greedy: train the gate functions on --data/--labels with "
                "the wiring fixed (the budget is kept); " +
                    train::train_spec_help() + " (defaults here lr=0.05, batch=100)");
  c->add_option("--finetune-logit", o->finetune_logit,
                "--finetune: initial logit of each gate's current function (the other 15 get 0)")
      ->check(CLI::PositiveNumber);
  c->add_flag("--quiet", o->quiet, "--finetune: no progress on stderr");
  c->add_flag("--json", o->json, "JSON report on stdout");
  c->callback([o] { run(*o); });
}

const Registrar reg("lgn prune", setup);

}  // namespace
}  // namespace prunesim::cli
