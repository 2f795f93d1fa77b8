// Parameters of the FPGA-SoC model: the K26 defaults, each with its unit, range, meaning and the
// source of the default (docs/fpga-soc.md lists the assumptions behind the unsourced ones).
#include <cmath>

#include "models/fpga_soc/soc.h"

namespace prunesim {
namespace fpga_soc {

const std::vector<DpuSize>& dpu_sizes() {
  // AMD PG338 table 1 "Parallelism for Different Convolution Architectures".
  static const std::vector<DpuSize> s = {
      {"B512", 4, 8, 8},    {"B800", 4, 10, 10},  {"B1024", 8, 8, 8},   {"B1152", 4, 12, 12},
      {"B1600", 8, 10, 10}, {"B2304", 8, 12, 12}, {"B3136", 8, 14, 14}, {"B4096", 8, 16, 16}};
  return s;
}

const char* step_name(Step s) {
  switch (s) {
    case Step::Demosaic:
      return "demosaic";
    case Step::Normalise:
      return "normalise";
    case Step::Crop:
      return "crop";
    case Step::Argmax:
      return "argmax";
    case Step::Quantize:
      return "quantize";
  }
  return "?";
}

namespace {
const char* kDs987 = "AMD DS987 Kria K26 SOM data sheet";
const char* kAssume = "assumption, docs/fpga-soc.md";
}  // namespace

// Long by design: one entry per parameter (name, default, range, unit, source), a table a reader
// scans, not logic to split.
std::vector<ParamSpec> param_specs() {
  std::vector<std::string> sizes;
  for (const auto& d : dpu_sizes()) sizes.push_back(d.name);
  std::vector<ParamSpec> p = {
      choice_param("input", "auto", {"auto", "mosaic", "tensor"},
                   "what --input holds: raw snapshot-mosaic frames [N, H, W] of integer DNs "
                   "(demosaic, normalise, crop before the DPU) or the network's own float input "
                   "[N, C, H, W] / [N, C, L] (quantized to int8 before the DPU); auto: tensor when "
                   "the samples have the network's input shape (for a 25-band network only if they "
                   "are not all integers: "
                   "an integer band cube is a mistake for raw frames), else mosaic",
                   "Vitis AI runner: float input quantized on the CPU (UG1414)"),
      choice_param("postprocess", "auto", {"auto", "argmax", "none"},
                   "after the DPU: argmax over the class scores (per pixel for segmentation) or "
                   "nothing (the output codes are the result); auto: argmax for a classifier "
                   "[N, K] and a 2-D segmentation network [N, K, H, W] of the input's H, W, else "
                   "none (tensor mode); mosaic mode is always argmax",
                   ""),
      choice_param("dpu", "B3136", sizes,
                   "DPU size: pixel x input-channel x output-channel parallelism",
                   "Kria K26 reference designs (smartcam) use a B3136; PG338 table 1"),
      real_param("dpu_clock_hz", 300e6, 50e6, 400e6, "Hz", "DPU compute clock",
                 "Kria smartcam design: DPU at 300 MHz"),
      int_param("dpu.layer_overhead_cycles", 600, 0, 1e7, "cycles",
                "fixed cost per layer: instruction fetch/decode, pipeline fill and drain", kAssume),
      real_param(
          "dpu.launch_us", 150, 0, 1e6, "us",
          "PS-side cost of one DPU job per frame (runner call, cache maintenance, interrupt)",
          kAssume),
      int_param("dpu.weight_buffer_kb", 288, 1, 65536, "KiB",
                "on-chip weight buffer; a layer with more weights refetches them per output row",
                kAssume),
      int_param("dpu.feature_buffer_kb", 576, 1, 65536, "KiB",
                "on-chip feature buffer; a layer whose input rows do not fit rereads its input "
                "per output-channel tile",
                kAssume),
      bool_param("dpu.uram", true, "map DPU buffers to UltraRAM (as the K26 designs do)",
                 "Kria smartcam design: URAM enabled"),
      real_param("ps_clock_hz", 1.333e9, 100e6, 1.5e9, "Hz", "Cortex-A53 clock", kDs987),
      int_param("ps_cores", 4, 1, 4, "1", "A53 cores available to the PS stages", kDs987),
      real_param("pl_clock_hz", 300e6, 50e6, 600e6, "Hz", "clock of the PL (HLS) kernels",
                 "same clock as the DPU (one PL clock domain), assumption"),
      real_param("ddr.clock_hz", 300e6, 50e6, 3.2e9, "Hz",
                 "clock of the DDR model: controller/AXI side, 1:4 of the DDR4-2400 I/O clock",
                 "Zynq UltraScale+ DDR controller runs at a quarter of the I/O clock (UG1085); "
                 "assumption"),
      real_param("ddr.bandwidth_gbs", 19.2, 0.5, 51.2, "GB/s", "peak DDR bandwidth",
                 "K26: 2400 MT/s x 8 B (DS987)"),
      real_param("ddr.efficiency", 0.7, 0.05, 1.0, "1",
                 "fraction of the peak the controller sustains on long bursts", kAssume),
      real_param("ddr.latency_ns", 100, 0, 10000, "ns", "latency of one DMA request through AXI",
                 kAssume),
      int_param("ddr.burst_bytes", 4096, 64, 1 << 20, "B",
                "arbitration granularity: requests are served round-robin in bursts of this size",
                kAssume),
      int_param("sensor.rows", 120, 5, 20000, "px", "raw mosaic frame height (multiple of 5)",
                "zoo/hsi_unet frames (HSI-Drive 192x384 cube scaled down 8x)"),
      int_param("sensor.cols", 240, 5, 20000, "px", "raw mosaic frame width (multiple of 5)",
                "zoo/hsi_unet frames"),
      int_param("sensor.bits", 10, 8, 16, "bit", "ADC resolution of the raw samples",
                "scripts/zoo/hsi_synth.py (10-bit sensor)"),
      real_param("sensor.fps", 0, 0, 100000, "frames/s",
                 "sensor frame rate; 0 = free-running, as fast as the pipeline accepts", kAssume),
      real_param("sensor.dark_dn", 64, 0, 65535, "DN", "black level subtracted by normalisation",
                 "scripts/zoo/hsi_synth.py DARK_DN"),
      real_param("sensor.white_dn", 1000, 1, 65535, "DN", "white reference level",
                 "scripts/zoo/hsi_synth.py WHITE_DN"),
      choice_param("resize", "crop", {"crop", "nearest"},
                   "fit the cube to the network input: crop a window or nearest resize", ""),
      int_param("crop.top", -1, -1, 20000, "px", "crop window top row (-1 = centred)", ""),
      int_param("crop.left", -1, -1, 20000, "px", "crop window left column (-1 = centred)", ""),
  };
  const char* steps[kSteps] = {"demosaic", "normalise", "crop", "argmax", "quantize"};
  const char* what[kSteps] = {
      "cube building from the 5x5 mosaic (mosaic input)",
      "reflectance normalisation (mosaic input)", "crop/resize to the network input (mosaic input)",
      "argmax of the class scores", "float -> int8 input quantization (tensor input)"};
  const double cpe[kSteps] = {1.5, 2.5, 0.75, 1.2, 4.0};
  const int64_t lat[kSteps] = {40, 60, 20, 30, 40};
  for (int s = 0; s < kSteps; ++s) {
    // The mosaic steps default to the PL (the paper's hardware-aware preprocessing); the input
    // quantization of tensor mode to the PS, where a Vitis AI runner does it.
    const bool q = s == static_cast<int>(Step::Quantize);
    p.push_back(choice_param(std::string("place.") + steps[s], q ? "ps" : "pl", {"ps", "pl"},
                             std::string("where ") + what[s] + " runs",
                             q ? "Vitis AI runner: input quantization on the CPU (UG1414)"
                               : "paper: hardware-aware preprocessing on the PL"));
    p.push_back(real_param(std::string("ps.cpe.") + steps[s], cpe[s], 0.01, 10000, "cycles",
                           std::string("A53 cycles per element of ") + what[s] +
                               (s == 3 ? " (per pixel and class)" : ""),
                           kAssume));
    p.push_back(int_param(std::string("pl.latency.") + steps[s], lat[s], 0, 1e6, "cycles",
                          std::string("pipeline depth of the HLS kernel for ") + what[s], kAssume));
  }
  p.push_back(real_param("ps.cpm.layer", 2.0, 0.01, 10000, "cycles",
                         "A53 cycles per MAC of a convolution or fully connected layer the DPU "
                         "does not run (CPU subgraph; scalar int8 loop, no NEON)",
                         kAssume));
  p.push_back(real_param("ps.cpe.layer", 4.0, 0.01, 10000, "cycles",
                         "A53 cycles per output element (pooling: per window tap) of another "
                         "layer the DPU does not run (tables, adds, moves, pooling)",
                         kAssume));
  p.push_back(real_param("ps.cpe.softmax", 40.0, 0.01, 10000, "cycles",
                         "A53 cycles per element of a softmax on the PS (exp table, sum, one "
                         "integer division per element)",
                         kAssume));
  p.push_back(bool_param("pl.fuse", true,
                         "chain consecutive PL steps by AXI-Stream (no DDR round trip between)",
                         kAssume));
  p.push_back(int_param("pl.lanes", 4, 1, 64, "samples/cycle",
                        "samples each streaming PL kernel takes per clock (II = 1)", kAssume));
  p.push_back(int_param("buffers", 2, 1, 16, "frames",
                        "frame buffers between stages (2 = double buffering)", ""));
  p.push_back(int_param("frames", 0, 0, 1e6, "frames",
                        "frames to simulate (0 = every frame of the input; more repeats them)",
                        ""));
  p.push_back(bool_param("check_reference", true,
                         "compare every mask with the integer reference executor", ""));
  return p;
}

SocConfig make_config(const ParamValues& v) {
  SocConfig c;
  for (const auto& d : dpu_sizes())
    if (d.name == v.s("dpu")) c.dpu = d;
  c.dpu_clock_hz = v.d("dpu_clock_hz");
  c.dpu_layer_overhead_cycles = v.i("dpu.layer_overhead_cycles");
  c.dpu_launch_s = v.d("dpu.launch_us") * 1e-6;
  c.dpu_weight_buffer_bytes = v.i("dpu.weight_buffer_kb") * 1024;
  c.dpu_feature_buffer_bytes = v.i("dpu.feature_buffer_kb") * 1024;
  c.dpu_uram = v.b("dpu.uram");
  c.ps_clock_hz = v.d("ps_clock_hz");
  c.ps_cores = static_cast<int>(v.i("ps_cores"));
  c.pl_clock_hz = v.d("pl_clock_hz");
  c.ddr_clock_hz = v.d("ddr.clock_hz");
  c.ddr_bytes_per_cycle = v.d("ddr.bandwidth_gbs") * 1e9 / c.ddr_clock_hz;
  c.ddr_efficiency = v.d("ddr.efficiency");
  c.ddr_latency_cycles = std::llround(v.d("ddr.latency_ns") * 1e-9 * c.ddr_clock_hz);
  c.ddr_burst_bytes = v.i("ddr.burst_bytes");
  c.raw_h = v.i("sensor.rows");
  c.raw_w = v.i("sensor.cols");
  c.bits = static_cast<int>(v.i("sensor.bits"));
  c.sensor_fps = v.d("sensor.fps");
  c.dark_dn = v.d("sensor.dark_dn");
  c.white_dn = v.d("sensor.white_dn");
  c.resize = v.s("resize");
  c.crop_top = v.i("crop.top");
  c.crop_left = v.i("crop.left");
  const char* steps[kSteps] = {"demosaic", "normalise", "crop", "argmax", "quantize"};
  for (int s = 0; s < kSteps; ++s) {
    c.place[s] = v.s(std::string("place.") + steps[s]) == "ps" ? Place::PS : Place::PL;
    c.ps_cycles_per_elem[s] = v.d(std::string("ps.cpe.") + steps[s]);
    c.pl_latency_cycles[s] = v.i(std::string("pl.latency.") + steps[s]);
  }
  c.input = v.s("input");
  c.postprocess = v.s("postprocess");
  c.ps_cycles_per_mac = v.d("ps.cpm.layer");
  c.ps_cycles_per_layer_elem = v.d("ps.cpe.layer");
  c.ps_cycles_per_softmax_elem = v.d("ps.cpe.softmax");
  c.pl_fuse = v.b("pl.fuse");
  c.pl_lanes = static_cast<int>(v.i("pl.lanes"));
  c.buffers = v.i("buffers");
  c.frames = v.i("frames");
  c.check_reference = v.b("check_reference");
  return c;
}

}  // namespace fpga_soc
}  // namespace prunesim
