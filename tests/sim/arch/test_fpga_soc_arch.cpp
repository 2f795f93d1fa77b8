// The "fpga-soc" architecture through the registry, as `prunesim simulate` uses it: the report
// carries the DESIGN.md contract keys plus throughput, stages, utilisation, resources and power;
// bad configurations (resources over the K26's, a wrong frame) are InputErrors and nothing else.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "base/params.h"
#include "prune/errors.h"
#include "prune/npy.h"
#include "prune/tables.h"
#include "sim/arch.h"

namespace prunesim {
namespace {

std::string zoo(const std::string& f) {
  const char* d = std::getenv("PRUNESIM_SOURCE_DIR");
  return std::string(d ? d : PRUNESIM_SOURCE_DIR) + "/zoo/hsi_unet/" + f;
}

SimInput input(const Arch& a, const std::vector<std::string>& sets, const std::string& mode) {
  SimInput in;
  in.tables_path = zoo("unet_pruned.pwt");
  in.model = read_tables(in.tables_path, &in.summary, &in.masks);
  in.input_path = zoo("frames.npy");
  in.input = load_npy(in.input_path);
  in.params = resolve_params("fpga-soc", a.params(), "", sets);
  in.mode = mode;
  return in;
}

TEST(FpgaSocArch, Registered) {
  const Arch* a = find_arch("fpga-soc");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->modes().front(), "cycle");
  bool has_dpu = false;
  for (const ParamSpec& p : a->params()) {
    EXPECT_FALSE(p.meaning.empty()) << p.name;
    has_dpu |= p.name == "dpu";
  }
  EXPECT_TRUE(has_dpu);
}

TEST(FpgaSocArch, ReportContract) {
  const Arch& a = get_arch("fpga-soc");
  const SimOutput o = a.simulate(input(a, {}, "cycle"));
  const auto& r = o.report;
  for (const char* k : {"arch", "mode", "clock_hz", "latency_cycles", "latency_s", "energy_j",
                        "power_w", "area_mm2", "layers", "components", "throughput_fps", "stages",
                        "utilisation", "resources", "power_breakdown_w", "dpu_time"})
    EXPECT_TRUE(r.contains(k)) << k;
  EXPECT_EQ(r["arch"], "fpga-soc");
  EXPECT_TRUE(r["bit_exact"].get<bool>());
  for (const auto& l : r["layers"])
    for (const char* k : {"name", "cycles", "macs_dense", "macs_executed", "energy_j"})
      EXPECT_TRUE(l.contains(k)) << k;
  for (const auto& c : r["components"])
    for (const char* k : {"name", "area_mm2", "energy_j"}) EXPECT_TRUE(c.contains(k)) << k;
  EXPECT_GT(r["power_w"].get<double>(), 1.0);
  EXPECT_LT(r["power_w"].get<double>(), 10.0);  // a K26 SOM draws a few watts
  EXPECT_LE(r["resources"]["total"]["lut"].get<double>(), 117120);
  EXPECT_EQ(o.output.shape, (Shape{6, 24, 48}));
}

TEST(FpgaSocArch, AnalyticalMode) {
  const Arch& a = get_arch("fpga-soc");
  const SimOutput o = a.simulate(input(a, {"dpu=B1024"}, "analytical"));
  EXPECT_EQ(o.report["mode"], "analytical");
  EXPECT_EQ(o.report["dpu"]["size"], "B1024");
  EXPECT_TRUE(o.report["bit_exact"].get<bool>());
}

TEST(FpgaSocArch, ResourcesOverTheDeviceAreAnInputError) {
  const Arch& a = get_arch("fpga-soc");
  // B4096 with every buffer in block RAM needs about 250 BRAM36; the K26 has 144.
  EXPECT_THROW(a.simulate(input(a, {"dpu=B4096", "dpu.uram=false"}, "analytical")), InputError);
  // 64 lanes of every PL kernel: far more DSPs in the normaliser than the device has.
  EXPECT_THROW(a.simulate(input(a, {"pl.lanes=64", "dpu=B4096"}, "analytical")), InputError);
}

TEST(FpgaSocArch, BadConfigurationIsAnInputError) {
  const Arch& a = get_arch("fpga-soc");
  EXPECT_THROW(input(a, {"dpu=B9999"}, "cycle"), InputError);
  EXPECT_THROW(input(a, {"ps_clock_hz=9e9"}, "cycle"), InputError);
  EXPECT_THROW(input(a, {"place.demosaic=gpu"}, "cycle"), InputError);
  EXPECT_THROW(input(a, {"no.such.key=1"}, "cycle"), InputError);
  EXPECT_THROW(a.simulate(input(a, {"sensor.rows=125"}, "analytical")), InputError);
}

}  // namespace
}  // namespace prunesim
