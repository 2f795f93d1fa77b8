#include "dse_cli.h"

#include <algorithm>
#include <cmath>

#include "common.h"
#include "prune/errors.h"
#include "prune/executor.h"
#include "prune/fast_exec.h"
#include "prune/npy.h"
#include "train/finetune.h"

namespace prunesim::cli {
namespace {

// The simulated inference's input: the first sample of --data.
Tensor first_sample(const Graph& g, const Tensor& x, const std::string& source) {
  Shape sample;
  split_samples(g, x, source, &sample);
  const int64_t n = numel(sample);
  return Tensor(sample, std::vector<float>(x.f.begin(), x.f.begin() + n));
}

}  // namespace

void check_dse_arch(const std::string& arch, const std::string& mode, double rate,
                    dse::Context& c) {
  c.arch = &get_arch(arch);
  c.specs = c.arch->params();
  const auto modes = c.arch->modes();
  // Analytical by default: a sweep or search wants many points fast; cycle mode on request.
  c.mode = mode.empty()
               ? (std::count(modes.begin(), modes.end(), "analytical") ? "analytical" : modes.at(0))
               : mode;
  if (!std::count(modes.begin(), modes.end(), c.mode)) {
    std::string known;
    for (const auto& m : modes) known += (known.empty() ? "" : ", ") + m;
    throw InputError("--mode " + c.mode + ": not a mode of " + arch + " (known: " + known + ")");
  }
  // Tables hold only encodings the architecture decodes (it lists none: any encoding).
  c.target = c.arch->encodings().empty() ? "" : arch;
  if (!(rate >= 0) || !std::isfinite(rate))
    throw InputError("--rate: must be a finite number >= 0 inferences/s");
  c.rate = rate;
}

void load_dse_data(const std::string& calib, const std::string& data, const std::string& labels,
                   const std::string& input, dse::Context& c) {
  c.calib = load_data(calib, &c.g);
  c.data = load_data(data, &c.g);
  if (!labels.empty()) {
    c.labels = load_labels(labels, c.g, c.data.shape[0]);
    c.labels_p = &c.labels;
  } else {
    c.dense_out = run_float_batch(c.g, c.data);
  }
  // The architecture checks the input's shape: its input need not be the model's (fpga-soc
  // takes raw sensor frames and preprocesses them).
  c.input = input.empty() ? first_sample(c.g, c.data, data) : load_data(input, nullptr);
  c.input_path = input.empty() ? data : input;
}

}  // namespace prunesim::cli

namespace prunesim::cli {

dse::FinetuneFn make_dse_finetune(const std::string& spec, const std::string& train_data,
                                  const std::string& train_labels, const Graph& dense,
                                  const Tensor* calib, DseFinetune& holder) {
  if (spec.empty()) {
    if (!train_data.empty() || !train_labels.empty())
      throw InputError("--train-data/--train-labels: only used with --finetune epochs=N");
    return nullptr;
  }
  train::parse_train_spec(spec, "--finetune", &holder.ft.opt);
  if (train_data.empty()) throw InputError("--finetune: needs --train-data X.npy");
  holder.x = load_data(train_data, &dense);
  holder.ft.x = &holder.x;
  if (!train_labels.empty()) {
    holder.y = load_npy_as_float(train_labels);
    check_finite(holder.y, train_labels, "labels");
    holder.ft.labels = &holder.y;
  }
  holder.ft.dense = &dense;
  holder.ft.calib = calib;
  holder.ft.quiet = true;
  LoopFinetune* ft = &holder.ft;
  train::install_interrupt_handler();
  return [ft](const Graph& g, const MaskMap& m, const std::string& label) {
    return (*ft)(g, m, label);
  };
}

}  // namespace prunesim::cli
