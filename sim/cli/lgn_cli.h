// What the `lgn` subcommands share: a data set as flat features and class ids (any [N, ...] .npy
// flattened to [N, features]; labels [N] of integers), checked with the file named in errors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "prune/ir.h"
#include "train/logic_train.h"

namespace prunesim::cli {

// The samples of `data` as float32 (NaN/Inf rejected); InputError when it has no samples along
// dimension 0.
Tensor load_logic_samples(const std::string& data);

// Class ids: exactly n non-negative integers (integral floats accepted), or InputError naming
// `labels` ("<k> labels for <n> samples of <data>", "element k: ... not a class id").
std::vector<int64_t> load_class_ids(const std::string& labels, int64_t n, const std::string& data);

// Both of the above as the training set of `lgn train` and `--finetune`.
train::LogicData load_logic_data(const std::string& data, const std::string& labels);

}  // namespace prunesim::cli
