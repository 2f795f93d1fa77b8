// Registry of simulated architectures (DESIGN.md habit 2). An Arch adapts one hardware model
// (models/raman, models/fpga_soc) to the simulator: it declares its parameters, runs the model
// on a weight table and an input, and returns the report (the contract of DESIGN.md "Interfaces"
// plus its own keys). `prunesim simulate`, `config --dump` and `sweep` reach models only through
// this interface. One .cpp per arch in sim/arch/, registered with PRUNESIM_REGISTER_ARCH.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/params.h"
#include "base/registry.h"
#include "models/stats.h"
#include "prune/ir.h"
#include "prune/pruning.h"
#include "prune/quant.h"
#include "prune/tables.h"

namespace prunesim {

struct SimInput {
  std::string tables_path;  // the weight table (names it in errors)
  QuantizedModel model;     // read_tables(tables_path)
  TableSummary summary;     // its per-layer encodings
  MaskMap masks;            // positions each encoding records
  Tensor input;             // float [N, ...] as loaded from input_path (checked finite)
  std::string input_path;
  ParamValues params;      // resolved against Arch::params()
  std::string mode;        // one of Arch::modes()
  std::string trace_path;  // VCD (or FST) trace, "" = none
  // Where the model writes that trace: a temporary name the caller renames into place with its
  // other outputs (base/output.h OutputBatch). "" = the model writes a temporary of its own and
  // renames it to trace_path when the run succeeded.
  std::string trace_write_path;
  double rate_hz = 0;  // inferences per second for power; 0 = the arch's default
  bool quiet = false;  // no progress output
};

struct SimOutput {
  // At least: arch, mode, clock_hz, latency_cycles, latency_s, energy_j, power_w, area_mm2,
  // layers[{name, cycles, macs_dense, macs_executed, energy_j}], components[{name, area_mm2,
  // energy_j}]. Everything with a unit says it in the key (_s, _j, _w, _mm2, _hz) or in a
  // "units" object.
  nlohmann::json report;
  Tensor output;        // dequantized float output [N, ...] (written by --output)
  Tensor output_int8;   // the int8 codes
  StatGroup stats;      // everything, for the terminal table and report["stats"]
  std::string summary;  // a short human summary printed by `simulate`
};

class Arch {
 public:
  virtual ~Arch() = default;
  virtual std::string name() const = 0;  // defined by PRUNESIM_REGISTER_ARCH
  virtual std::string description() const = 0;
  virtual std::vector<ParamSpec> params() const = 0;
  // The weight-table encodings the hardware decodes, in the order its refusals list them; the
  // table writer takes only these for `prune --target NAME`. Empty: the architecture takes any
  // table (and is no --target).
  virtual std::vector<std::string> encodings() const { return {}; }
  virtual std::vector<std::string> modes() const = 0;  // the first is the default
  // Default inference rate for power (inferences per second) and its justification.
  virtual double default_rate_hz() const = 0;
  // Throws InputError for anything wrong with the input (naming file and place); never writes.
  virtual SimOutput simulate(const SimInput& in) const = 0;
  // `simulate --fit`: in.params with the sizes (memories, accumulator width) set to what the
  // model in `in` needs. InputError for an architecture that cannot size itself.
  virtual ParamValues fit(const SimInput& in) const;

  // Scheme hints: the scheme options a table must be pruned with to be decodable on this
  // hardware, from the resolved params (raman: the balanced scheme's PE mapping, {"pes",
  // "cluster"}), keyed by the schemes' option names; a scheme that does not declare a key ignores
  // it. The sweep engine asks at every point, so it never names an architecture's parameters.
  // The default: none.
  virtual nlohmann::json scheme_hints(const ParamValues& params) const;
};

Registry<Arch>& arch_registry();
const Arch* find_arch(const std::string& name);  // nullptr if unknown
std::vector<std::string> arch_names();           // sorted
// find_arch or InputError "--arch: unknown architecture 'x' (known: a, b)".
const Arch& get_arch(const std::string& name);

// The table target `--target NAME` names: its encodings (Arch::encodings()), or InputError
// "<where>: unknown target 'x' (known: raman, or none for any)" when no architecture of that name
// declares any. "" is no target: {}.
std::vector<std::string> target_encodings(const std::string& target, const std::string& where);

#define PRUNESIM_REGISTER_ARCH(NAME, CLASS) \
  PRUNESIM_REGISTER_IN(::prunesim::arch_registry, NAME, CLASS)

}  // namespace prunesim
