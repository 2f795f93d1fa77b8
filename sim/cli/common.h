// Helpers shared by subcommands: loading models and data with the file named in every error,
// and number formatting for the human tables.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "prune/ir.h"
#include "sim/arch.h"
#include "sim/text.h"

namespace prunesim::cli {

// ONNX model → IR (import, checks, BN folding, shape inference).
Graph load_model(const std::string& path);
// .npy as float32 with NaN/Inf rejected; if g is given, the shape must fit its input.
Tensor load_data(const std::string& path, const Graph* g);
// Labels for a model's output on N samples: class ids [N] (integers in [0, classes)), per-pixel
// class ids [N, H, W] for an output [N, classes, H, W], or targets shaped like the output.
// InputError naming the file otherwise.
Tensor load_labels(const std::string& path, const Graph& g, int64_t n);
// Every output must land in an existing, writable folder: checked before any work, so a bad
// last output cannot leave the earlier ones behind.
void check_writable(const std::string& path, const std::string& flag);

// The weight table (checked to be one) and the input of a simulation into `in` (tables_path,
// model, summary, masks, input_path, input; the architecture checks the input's shape).
void load_table_and_input(const std::string& tables, const std::string& input, SimInput* in);
// parse_number_list and with_commas: sim/text.h.

// The progress bar of long work, "[#####.....] 12/30 what": on stderr and only when it is a
// terminal, so logs and pipes stay clean; a newline when done == total.
void progress(size_t done, size_t total, const std::string& what);

// A report as the text every command prints or writes (2-space indent, newline-terminated).
// Names are checked as UTF-8 at import; a byte that still is not becomes U+FFFD rather than
// nlohmann's type_error 316 after outputs were written.
std::string json_text(const nlohmann::json& j);

// f (a whole-batch executor: run_float, run_int8) over x in chunks of samples along dim 0, the
// outputs concatenated: the same result as f(x) — every executor runs sample by sample — with
// a progress bar between chunks.
Tensor run_in_chunks(const Tensor& x, const std::string& what,
                     const std::function<Tensor(const Tensor&)>& f);

}  // namespace prunesim::cli
