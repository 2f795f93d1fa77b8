// What the `lgn` subcommands share: a data set as flat features and class ids (any [N, ...] .npy
// flattened to [N, features]; labels [N] of integers), checked with the file named in errors.
#pragma once

#include <string>

#include "train/logic_train.h"

namespace prunesim::cli {

// InputError "<file>: ..." for unreadable data, NaN/Inf, labels that are not integers or whose
// count differs from the samples'.
train::LogicData load_logic_data(const std::string& data, const std::string& labels);

}  // namespace prunesim::cli
