// Samples for the lgn passes and reports: a data set encoded by the network's own thermometer
// encoder into input bits, with class ids when labels are given. Errors name the file.
#pragma once

#include <string>
#include <vector>

#include "logic/eval.h"
#include "logic/netlist.h"

namespace prunesim::cli {

struct LgnSamples {
  logic::BitMatrix bits;  // rows == net.inputs
  size_t n = 0;
  std::vector<int64_t> labels;  // empty without --labels
};

// `data` any [N, ...] .npy flattened to [N, features]; features must equal the encoder's;
// labels (optional, "" = none) [N] class ids below net.classes.
LgnSamples load_lgn_samples(const logic::Netlist& net, const std::string& net_path,
                            const std::string& data, const std::string& labels);

}  // namespace prunesim::cli
