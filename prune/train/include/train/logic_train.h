// Training of differentiable logic-gate networks (Petersen et al., NeurIPS 2022) on the recovery
// training engine (the loop of finetune.h), with the two interconnects of issue 14: fixed random
// wiring and the learned interconnect of Kresse, Yu and Lampert ("Scalable Interconnect Learning
// in Boolean Networks"), where each gate input picks one of K candidates through softmax weights
// (16 + 2K parameters per gate, whatever the layer width). The result is the discretised network
// (argmax gate, argmax connection) as a logic::Netlist. Torch-free header, like finetune.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "logic/netlist.h"
#include "train/finetune.h"

namespace prunesim::train {

struct LogicNetOptions {
  std::vector<uint32_t> layers;            // gates per layer; the last is the group-sum layer
  std::string interconnect = "learned";    // learned | random
  int candidates = 16;                     // learned: K candidate inputs per gate input
  int thresholds = 8;                      // thermometer bits per feature
  std::string threshold_mode = "uniform";  // uniform (min..max of each feature) | quantile
  double tau = 10;                         // group-sum temperature: logits = count / tau
  // Gate-logit initialisation: "residual" biases every gate toward the pass-through A (logit
  // +residual_logit on top of N(0, 1)), Petersen et al.'s 2024 trick that lets deep networks
  // start as wires; "normal" is N(0, 1) alone (the 2022 paper).
  std::string init = "residual";
  double residual_logit = 2.0;
  // learned: added to the first candidate's connection logit (the others start N(0, 1)), so that
  // the network starts near a random wiring and moves away where the loss says so; 0: no bias.
  double candidate_bias = 3.0;
  TrainOptions train;  // epochs, lr, batch, optimizer, schedule, val_split, seed, threads, ...
};

// "4x2000", "2000,1000,500" or "3x1000,500". InputError "<flag>: ..." for anything else.
std::vector<uint32_t> parse_layers(const std::string& spec, const std::string& flag);
// InputError "<flag>: ..." for bad values (no layers, K < 1, thresholds out of 1..255, ...).
void validate(const LogicNetOptions& o, const std::string& flag = "lgn train");

// Training data: n samples of `features` floats (x[s * features + f]) and their class ids.
struct LogicData {
  std::vector<float> x;
  int64_t n = 0, features = 0;
  std::vector<int64_t> labels;
  int64_t classes = 0;  // 0: max label + 1
  std::string x_source = "training data", labels_source = "labels";
};

// The thermometer thresholds fitted on the rows `rows` of d (all rows when empty).
logic::Encoder fit_encoder(const LogicData& d, int thresholds, const std::string& mode,
                           const std::vector<int64_t>& rows = {});

struct LogicTrainResult {
  logic::Netlist net;  // the best epoch's network, discretised
  // The run: per epoch the validation top-1 of the discretised network (hard forward), the
  // soft training loss; graph fields empty.
  TrainResult train;
  int64_t parameters = 0;  // trainable parameters of the relaxed network
  int64_t classes = 0;
  std::vector<int64_t> val_rows;  // the samples of d held out for validation
};

// InputError for labels that do not fit (count, non-integers, classes not dividing the last
// layer), bad options or a diverging run; Interrupted when interrupted() became true.
LogicTrainResult train_logic(const LogicData& d, const LogicNetOptions& o,
                             const ProgressFn& progress = nullptr);

// The trainable parameters of the relaxed network of `o` over `input_bits` binarised inputs,
// counted on the torch module itself (what the optimiser updates), for the interconnect test.
int64_t logic_parameter_count(uint32_t input_bits, const LogicNetOptions& o);

// The discretised network's outputs on `x` computed by the trainer's hard forward (one-hot gates
// and connections in torch), as predicted classes: what the bit-parallel evaluator must equal.
// Trains nothing: the network of `o` at its initialisation for o.train.seed, discretised into
// *net as well.
std::vector<int64_t> logic_hard_predictions(const LogicData& d, const LogicNetOptions& o,
                                            logic::Netlist* net);

}  // namespace prunesim::train

namespace prunesim::train {

// Fine-tuning of a discretised (typically pruned) network, issue 14's "optional fine-tuning
// after" the budget passes. The netlist becomes a relaxed network again with its wiring fixed
// exactly as given (each gate reads its own two signals, any earlier signal of the DAG), and only
// the gate functions are trained: the gate count and structure cannot grow, so a pruned budget
// is kept. Encoder, output groups, out_negate and tau are the netlist's.
struct LogicFinetuneOptions {
  // Each gate starts with logit `init_logit` on its current function and 0 on the 15 others,
  // so the starting point discretises to the input netlist for any init_logit > 0. Larger keeps
  // the relaxed network closer to the discrete one (softmax 0.57 at 3, 0.78 at 4, 0.91 at 5) but
  // makes it slower to move a gate to another function.
  double init_logit = 3.0;
  TrainOptions train;  // epochs, lr, batch, optimizer, schedule, val_split, seed, threads, ...
};

struct LogicFinetuneResult {
  logic::Netlist net;     // the best epoch's functions on the input's wiring, then simplified
  logic::Netlist wiring;  // the same before logic::simplify: the input's gates, wiring, outputs
  // start_metric: the input's discrete validation top-1; per epoch the discrete top-1.
  TrainResult train;
  int64_t parameters = 0;         // 16 per gate
  std::vector<int64_t> val_rows;  // the samples of d held out for validation
};

// d.x must have net.encoder's features; labels are class ids below net.classes. InputError for
// data or labels that do not fit, a network without gates, bad options or a diverging run;
// Interrupted when interrupted() became true.
LogicFinetuneResult finetune_logic(const logic::Netlist& net, const LogicData& d,
                                   const LogicFinetuneOptions& o,
                                   const ProgressFn& progress = nullptr);

// The starting point of finetune_logic, untrained: its discretisation (the input netlist's gates
// unless the initialisation is wrong) and its hard forward's class per sample of d (what the
// evaluator gives on the input), for the tests.
logic::Netlist logic_finetune_start(const logic::Netlist& net, const LogicData& d,
                                    double init_logit, std::vector<int64_t>* hard_classes);

}  // namespace prunesim::train
