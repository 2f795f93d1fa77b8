// What `sweep` and `search` check and load the same way: the architecture, its simulation mode,
// table target and rate into a dse::Context, then the calibration set, the evaluation split (with
// labels, or the dense model's outputs as the reference) and the simulated input.
#pragma once

#include <string>

#include "sim/dse/sweep.h"

namespace prunesim::cli {

// c.arch, c.specs, c.mode (mode, or analytical when "" and the arch has it), c.target, c.rate;
// InputError naming --arch / --mode / --rate.
void check_dse_arch(const std::string& arch, const std::string& mode, double rate, dse::Context& c);

// c.calib, c.data, c.labels / c.labels_p (or c.dense_out), c.input (--input, or the first sample
// of --data) and c.input_path; c.g must be loaded.
void load_dse_data(const std::string& calib, const std::string& data, const std::string& labels,
                   const std::string& input, dse::Context& c);

}  // namespace prunesim::cli
