// What `sweep` and `search` check and load the same way: the architecture, its simulation mode,
// table target and rate into a dse::Context, then the calibration set, the evaluation split (with
// labels, or the dense model's outputs as the reference) and the simulated input.
#pragma once

#include <string>

#include "sim/dse/sweep.h"
#include "train_cli.h"

namespace prunesim::cli {

// c.arch, c.specs, c.mode (mode, or analytical when "" and the arch has it), c.target, c.rate;
// InputError naming --arch / --mode / --rate.
void check_dse_arch(const std::string& arch, const std::string& mode, double rate, dse::Context& c);

// c.calib, c.data, c.labels / c.labels_p (or c.dense_out), c.input (--input, or the first sample
// of --data) and c.input_path; c.g must be loaded.
void load_dse_data(const std::string& calib, const std::string& data, const std::string& labels,
                   const std::string& input, dse::Context& c);

// --finetune SPEC with --train-data X.npy [--train-labels Y.npy]: the recovery hook of `sweep`'s
// points and `search`'s front, held here (the hook points into it). Without labels the
// fine-tuning distils from the dense model.
struct DseFinetune {
  Tensor x, y;
  LoopFinetune ft;
};

// Empty spec: no hook (nullptr), and train files given anyway are an InputError. Otherwise
// parses the spec, loads the files (checked against dense) and returns the hook; `calib` is the
// calibration set the tuned graph is quantized with (the context's, loaded before or after).
dse::FinetuneFn make_dse_finetune(const std::string& spec, const std::string& train_data,
                                  const std::string& train_labels, const Graph& dense,
                                  const Tensor* calib, DseFinetune& holder);

}  // namespace prunesim::cli
