// FPGA-SoC pipeline (Zynq UltraScale+ MPSoC, Kria K26 defaults). Mosaic input: a snapshot-mosaic
// sensor, preprocessing steps each placed on the PS (A53 cost model) or the PL (HLS kernels of
// hls/hsi.h). Tensor input: the network's own float input, quantized on the PS or PL. Then a
// DPU-like int8 accelerator running the network layer by layer from the weight tables (layers
// it cannot run on the A53s, as a Vitis AI CPU subgraph), the argmax, all sharing one DDR. The
// model counts time and activity; power and FPGA resources are turned into watts and LUTs by
// sim/arch/fpga_soc.cpp from the technology table (sim/power/data/k26.json). docs/fpga-soc.md is
// the specification.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/params.h"
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

// One preprocessing / postprocessing step. Mosaic input: demosaic, normalise, crop, [DPU],
// argmax; tensor input: quantize, [DPU], argmax (or nothing, postprocess=none).
enum class Step { Demosaic, Normalise, Crop, Argmax, Quantize };
constexpr int kSteps = 5;
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
  Place place[kSteps] = {Place::PL, Place::PL, Place::PL, Place::PL, Place::PS};
  bool pl_fuse = true;  // consecutive PL steps chained by AXI-Stream (no DDR round trip)
  int pl_lanes = 4;     // samples per PL clock of the streaming kernels
  double ps_cycles_per_elem[kSteps] = {1.5, 2.5, 0.75, 1.2, 4.0};
  int64_t pl_latency_cycles[kSteps] = {40, 60, 20, 30, 40};
  // input mode: "mosaic" (raw sensor frames), "tensor" (the network's input), "auto" (chosen
  // from the input by resolve_input_mode)
  std::string input = "auto";
  std::string postprocess = "auto";  // auto | argmax | none
  // layers the DPU does not run, on the PS (Vitis AI CPU subgraph): A53 cycles per MAC (conv,
  // gemm), per element or window tap (pooling, tables, moves), per element of a softmax
  double ps_cycles_per_mac = 2.0, ps_cycles_per_layer_elem = 4.0, ps_cycles_per_softmax_elem = 40;
  // run
  int64_t buffers = 2;  // frame buffers between stages (2 = double buffering)
  int64_t frames = 0;   // 0 = every frame of the input
  bool check_reference = true;

  Place placement(Step s) const { return place[static_cast<int>(s)]; }
};

// Resolved values -> configuration (the values were validated by sim/core).
SocConfig make_config(const ParamValues& v);

// One layer of the DPU program (a QLayer of the weight table), placed on a DPU engine or, when
// the DPU cannot run it, on the PS as part of a CPU subgraph (Vitis AI graph partitioning).
struct DpuLayer {
  size_t qlayer = 0;
  std::string name, op;
  // engine: conv | deconv | pool | eltwise | move (free: folded into addressing) | ps
  std::string engine;
  Place place = Place::PL;      // PL = on the DPU, PS = CPU subgraph
  std::string ps_reason;        // why the DPU does not run it (PS layers)
  bool launch = false;          // first DPU layer of a DPU subgraph: the PS submits a job first
  int64_t overhead_cycles = 0;  // DPU instruction overhead (0 for free moves and PS layers)
  int64_t ps_cycles = 0;        // A53 cycles (PS layers)
  int64_t ps_work = 0;          // PS cost units other than MACs (pooling: window taps)
  Shape in_shape, out_shape;
  int64_t macs = 0;            // executed multiply-accumulates (the tables are channel-pruned)
  int64_t params = 0;          // weights + biases
  int64_t compute_cycles = 0;  // DPU clock cycles of the compute engine (no memory stall)
  int64_t ddr_read_bytes = 0, ddr_write_bytes = 0;  // weights + features, with buffer refetches
  double mac_efficiency = 0;                        // macs / (compute_cycles * peak MAC/cycle)
};

struct DpuProgram {
  std::vector<DpuLayer> layers;
  int64_t macs = 0;                      // DPU layers only (the array's work)
  int64_t params = 0;                    // weights + biases of every layer
  int64_t ps_macs = 0;                   // MACs of PS layers
  int64_t in_c = 0, in_h = 0, in_w = 0;  // network input [1, C, H, W] (1-D: H = 1)
  Shape in_shape, out_shape;             // the network's (batch 1)
  int64_t in_elems = 0, out_elems = 0;
  int64_t classes = 0;     // output channels (class scores)
  int64_t out_pixels = 1;  // positions an argmax runs over (H*W, L, or 1 for a classifier)
  bool argmax = true;      // postprocessing: argmax over classes, else the codes are the output
  std::string input_mode = "mosaic";  // resolved: mosaic | tensor
  int64_t dpu_layers = 0, ps_layers = 0, move_layers = 0, subgraphs = 0;
  float input_scale = 1.f;
};

// The input mode for this input tensor: cfg.input unless "auto" — "tensor" when its samples
// have the network's input shape, "mosaic" when it looks like raw frames [N, H, W] /
// [N, 1, H, W]; InputError "<source>: shape [..]: ..." when it is neither.
std::string resolve_input_mode(const QuantizedModel& q, const SocConfig& cfg, const Tensor& x,
                               const std::string& source);

// Places every layer on the DPU (supported layers within PG338's limits, costed) or the PS (the
// rest, costed on the A53 model), and checks the network against the input mode (cfg.input:
// mosaic needs a 25-band segmentation network; "auto" is taken as mosaic when the network
// takes 25 bands, else tensor). InputError "<source>: layer '<name>' (<op>): ..." otherwise.
DpuProgram compile_dpu(const QuantizedModel& q, const SocConfig& cfg, const std::string& source);

// Raw frames [N, H, W] (or [N, 1, H, W]) of integer digital numbers in [0, 2^bits - 1], checked
// against the configured sensor; InputError "<source>: ..." naming the shape or element.
// Tensor mode: `per` floats a sample, checked finite and shaped like the network's input.
struct Frames {
  int64_t n = 0, h = 0, w = 0;
  std::vector<uint16_t> dn;  // n * h * w
  const uint16_t* frame(int64_t k) const { return dn.data() + k * h * w; }
  bool tensor = false;
  int64_t per = 0;
  std::vector<float> x;  // n * per
  const float* sample(int64_t k) const { return x.data() + k * per; }
};
Frames load_frames(const Tensor& x, const SocConfig& cfg, const DpuProgram& prog,
                   const std::string& source);

// The data of one frame between stages (what the DDR frame buffers hold); a step consumes its
// input buffer and fills its output.
struct FrameData {
  std::vector<uint16_t> cube;  // demosaic -> [bands][cube_h][cube_w] DN
  std::vector<int8_t> norm;    // normalise -> input codes of the whole cube
  std::vector<int8_t> x;       // crop/resize or quantize -> network input codes
  std::vector<int8_t> scores;  // DPU -> output codes (class scores [classes][pixels])
  std::vector<uint8_t> mask;   // argmax -> class ids [pixels]
};
// One preprocessing/postprocessing step on the PL kernels (the PS runs the same integer
// functions) on frame k; run_network runs the layer program (x -> scores): DPU layers on the DPU
// kernels, PS layers with the integer reference's own arithmetic (run_int8_layer).
void run_step(Step step, const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
              const Frames& frames, int64_t k, FrameData& d);
void run_network(const QuantizedModel& q, const DpuProgram& prog, FrameData& d);

// Frame k through the whole functional datapath of the resolved mode: mask (argmax) or scores.
FrameData run_frame(const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
                    const Frames& frames, int64_t k);
// The independent reference of frame k: plain loops for the mosaic preprocessing (or the
// executor's own input quantization), run_int8 for the network, numpy-style argmax.
FrameData reference_frame(const QuantizedModel& q, const DpuProgram& prog, const SocConfig& cfg,
                          const Frames& frames, int64_t k);

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
  std::vector<std::vector<uint8_t>> masks;  // per frame, class ids (argmax)
  std::vector<std::vector<int8_t>> codes;   // per frame, output codes (postprocess=none)
  std::vector<Activity> stages;             // in pipeline order
  std::vector<Activity> resources;          // ps cores, pl kernels, dpu, ddr
  std::vector<int64_t> layer_cycles;        // per DPU layer, DPU cycles of one frame (mean)
  double sim_time_s = 0;                    // simulated time until the last mask is written
  double throughput_fps = 0;                // steady state: frames / time between first and last
  double latency_mean_s = 0, latency_min_s = 0, latency_max_s = 0;  // sensor capture -> mask
  double inference_s = 0;  // DPU stage per frame (launch + layers)
  int64_t frames = 0;
  bool reference_checked = false, bit_exact = false;
  int64_t mismatched_pixels = 0;  // class ids (or output codes) that differ from the reference

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
  int core = -1;  // PS core (dpu: the core running its CPU subgraphs)
};
std::vector<StageDef> plan_stages(const SocConfig& cfg, const DpuProgram& prog);

}  // namespace fpga_soc
}  // namespace prunesim
