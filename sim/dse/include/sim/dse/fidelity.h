// Fidelity of an int8 model as the sweep, `prune` and `finetune` report it: {"top1"} for
// class-id labels, else {"sndr_db", "r2"} (or {"miou", ...} for per-pixel labels) against the
// targets or, without labels, against the dense float model.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "prune/ir.h"
#include "prune/quant.h"

namespace prunesim::dse {

// dense_out, if given, is the dense model's output on data (a sweep computes it once).
nlohmann::json int8_fidelity(const Graph& dense, const QuantizedModel& q, const Tensor& data,
                             const Tensor* labels, const Tensor* dense_out = nullptr);

// The headline number of a record (top-1 and mIoU in %, SNDR in dB) and its name with the unit
// ("top1_pct", "miou_pct", "sndr_db").
double fidelity_headline(const nlohmann::json& f, std::string* metric = nullptr);

}  // namespace prunesim::dse
