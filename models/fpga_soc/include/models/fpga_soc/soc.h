// FPGA-SoC hyperspectral segmentation pipeline (Zynq UltraScale+ MPSoC, Kria K26 defaults): a
// snapshot-mosaic sensor, preprocessing steps each placed on the PS (A53 cost model) or the PL
// (HLS kernels of hls/hsi.h), a DPU-like int8 accelerator running the U-Net layer by layer from
// the weight tables, the argmax, all sharing one DDR through AXI. The model counts time and
// activity; power and FPGA resources are turned into watts and LUTs by sim/arch/fpga_soc.cpp from
// the technology table (sim/power/data/k26.json). docs/fpga-soc.md is the specification.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "models/params.h"
#include "prune/ir.h"
#include "prune/quant.h"

namespace prunesim {
namespace fpga_soc {

// Every parameter of the model: name, unit, default, range, meaning, source.
std::vector<ParamSpec> param_specs();

enum class Place { PS, PL };

// DPUCZDX8G-like size: pixel x input-channel x output-channel parallelism (AMD PG338 table 1).
struct DpuSize {
  std::string name;  // "B512" ... "B4096"
  int pp = 8, icp = 16, ocp = 16;
  int64_t macs_per_cycle() const { return int64_t{pp} * icp * ocp; }
};
const std::vector<DpuSize>& dpu_sizes();

// One preprocessing / postprocessing step.
enum class Step { Demosaic, Normalise, Crop, Argmax };
const char* step_name(Step s);

struct SocConfig {
  // clocks and processors
  double ps_clock_hz = 1.2e9, pl_clock_hz = 300e6, dpu_clock_hz = 300e6, ddr_clock_hz = 300e6;
  int ps_cores = 4;
  DpuSize dpu;
  int64_t dpu_layer_overhead_cycles = 0;  // instruction fetch, pipeline fill per layer
  double dpu_launch_s = 0;                // PS-side job submission per frame (runner, cache sync)
  int64_t dpu_weight_buffer_bytes = 0, dpu_feature_buffer_bytes = 0;
  bool dpu_uram = true;
  // DDR and interconnect
  double ddr_bytes_per_cycle = 64, ddr_efficiency = 0.7;
  int64_t ddr_latency_cycles = 30, ddr_burst_bytes = 4096;
  // sensor
  int64_t raw_h = 120, raw_w = 240;
  int mosaic = 5, bits = 10;
  double sensor_fps = 0;  // 0 = free-running (as fast as the pipeline accepts)
  double dark_dn = 64, white_dn = 1000;
  // crop / resize to the network's input
  std::string resize = "crop";            // crop | nearest
  int64_t crop_top = -1, crop_left = -1;  // -1 = centred
  // placement and costs
  Place place[4] = {Place::PL, Place::PL, Place::PL, Place::PL};
  bool pl_fuse = true;  // consecutive PL steps chained by AXI-Stream (no DDR round trip)
  int pl_lanes = 4;     // samples per PL clock of the streaming kernels
  double ps_cycles_per_elem[4] = {1.5, 2.5, 0.75, 1.2};
  int64_t pl_latency_cycles[4] = {40, 60, 20, 30};
  // run
  int64_t buffers = 2;  // frame buffers between stages (2 = double buffering)
  int64_t frames = 0;   // 0 = every frame of the input
  bool check_reference = true;

  Place placement(Step s) const { return place[static_cast<int>(s)]; }
};

// Resolved values -> configuration (the values were validated by sim/core).
SocConfig make_config(const ParamValues& v);

// One layer of the DPU program (a QLayer of the weight table).
struct DpuLayer {
  size_t qlayer = 0;
  std::string name, op, engine;  // engine: conv | deconv | pool | eltwise
  Shape in_shape, out_shape;
  int64_t macs = 0;            // executed multiply-accumulates (the tables are channel-pruned)
  int64_t params = 0;          // weights + biases
  int64_t compute_cycles = 0;  // DPU clock cycles of the compute engine (no memory stall)
  int64_t ddr_read_bytes = 0, ddr_write_bytes = 0;  // weights + features, with buffer refetches
  double mac_efficiency = 0;                        // macs / (compute_cycles * peak MAC/cycle)
};

struct DpuProgram {
  std::vector<DpuLayer> layers;
  int64_t macs = 0, params = 0;
  int64_t in_c = 0, in_h = 0, in_w = 0;  // network input [1, C, H, W]
  int64_t classes = 0;                   // output channels (class scores)
  float input_scale = 1.f;
};

// Checks the network against the DPU (supported layers, kernel/stride/channel limits of PG338)
// and costs each layer. InputError "<source>: layer '<name>' (<op>): ..." otherwise.
DpuProgram compile_dpu(const QuantizedModel& q, const SocConfig& cfg, const std::string& source);

// Raw frames [N, H, W] (or [N, 1, H, W]) of integer digital numbers in [0, 2^bits - 1], checked
// against the configured sensor; InputError "<source>: ..." naming the shape or element.
struct Frames {
  int64_t n = 0, h = 0, w = 0;
  std::vector<uint16_t> dn;  // n * h * w
  const uint16_t* frame(int64_t k) const { return dn.data() + k * h * w; }
};
Frames load_frames(const Tensor& x, const SocConfig& cfg, const DpuProgram& prog,
                   const std::string& source);

// The data of one frame between stages (what the DDR frame buffers hold); a step consumes its
// input buffer and fills its output.
struct FrameData {
  std::vector<uint16_t> cube;  // demosaic -> [bands][cube_h][cube_w] DN
  std::vector<int8_t> norm;    // normalise -> input codes of the whole cube
  std::vector<int8_t> x;       // crop/resize -> network input [25][H][W]
  std::vector<int8_t> scores;  // DPU -> class scores [classes][H][W]
  std::vector<uint8_t> mask;   // argmax -> class ids [H][W]
};
// One preprocessing/postprocessing step on the PL kernels (the PS runs the same integer
// functions); run_network runs the DPU layer program (x -> scores).
void run_step(Step step, const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
              const uint16_t* raw, FrameData& d);
void run_network(const QuantizedModel& q, const DpuProgram& prog, FrameData& d);

// The whole functional datapath: one raw frame -> mask [H*W] through the PL kernels
// (hls/hsi.h, hls/pl_conv.h) and the DPU layer runner.
std::vector<uint8_t> run_datapath(const QuantizedModel& q, const DpuProgram& prog,
                                  const SocConfig& cfg, const uint16_t* raw);
// Independent reference: plain loops for the preprocessing and run_int8 (the integer reference
// executor) for the network, then numpy-style argmax. run_datapath must equal it bit for bit.
std::vector<uint8_t> reference_mask(const QuantizedModel& q, const DpuProgram& prog,
                                    const SocConfig& cfg, const uint16_t* raw);

// Busy time and traffic of one resource (a stage, a PS core, the DPU, the DDR).
struct Activity {
  std::string name, kind;  // kind: sensor | ps | pl | dpu | ddr
  double busy_s = 0;       // time doing work
  double service_s = 0;    // mean time per frame from start to finish of the stage (incl. stalls)
  int64_t frames = 0;
  int64_t ddr_bytes = 0;
  int64_t ops = 0;  // elements processed (PS/PL) or MACs (DPU)
};

struct SocResult {
  std::string mode;                         // cycle | analytical
  std::vector<std::vector<uint8_t>> masks;  // per frame, H*W class ids
  std::vector<Activity> stages;             // in pipeline order
  std::vector<Activity> resources;          // ps cores, pl kernels, dpu, ddr
  std::vector<int64_t> layer_cycles;        // per DPU layer, DPU cycles of one frame (mean)
  double sim_time_s = 0;                    // simulated time until the last mask is written
  double throughput_fps = 0;                // steady state: frames / time between first and last
  double latency_mean_s = 0, latency_min_s = 0, latency_max_s = 0;  // sensor capture -> mask
  double inference_s = 0;  // DPU stage per frame (launch + layers)
  int64_t frames = 0;
  bool reference_checked = false, bit_exact = false;
  int64_t mismatched_pixels = 0;

  nlohmann::json to_json() const;
  static SocResult from_json(const nlohmann::json& j);
};

// The SystemC model (real clocked processes). Elaborates: once per process (use run_isolated).
SocResult run_cycle(const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
                    const Frames& frames);
// The analytical twin: the same cost formulas, no events (stage times in closed form, DDR
// bandwidth shared in proportion to demand). Any number of calls per process.
SocResult run_analytical(const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
                         const Frames& frames);

// Cost of a preprocessing step for one frame, used by both modes.
struct StepCost {
  Step step;
  Place place;
  int64_t elements = 0;  // samples processed
  int64_t cycles = 0;    // on its clock (PS or PL), compute only
  double clock_hz = 0;
  int64_t read_bytes = 0, write_bytes = 0;  // DDR traffic if not fused
};
std::vector<StepCost> step_costs(const SocConfig& cfg, const DpuProgram& prog);

// Pipeline stages after PL fusion: consecutive PL steps become one streaming stage.
struct StageDef {
  std::string name;  // e.g. "demosaic+normalise (PL)"
  std::string kind;  // sensor | ps | pl | dpu
  std::vector<Step> steps;
  double compute_s = 0;  // per frame, without memory stalls
  int64_t read_bytes = 0, write_bytes = 0;
  int core = -1;  // PS core
};
std::vector<StageDef> plan_stages(const SocConfig& cfg, const DpuProgram& prog);

}  // namespace fpga_soc
}  // namespace prunesim
