// Logic-network (.lgn) bytes -> Netlist (header, encoder, gate and output tables, meta text; the
// fuzz build skips CRC comparison). A network the reader accepts must also work: it is encoded
// and evaluated on a few samples, simplified (what every `lgn prune` starts with), and written
// and read back to the same structure, so a reader rule that lets through what the evaluator or
// the passes cannot take is a finding too.
#include <cstdlib>
#include <vector>

#include "fuzz_common.h"
#include "logic/eval.h"
#include "logic/format.h"
#include "logic/simplify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return prunesim::fuzz::run([&] {
    using namespace prunesim::logic;
    const Netlist n = parse_lgn(prunesim::fuzz::bytes(data, size), "fuzz.lgn");
    // Keep an iteration fast: the trained networks are far below this.
    if (n.gates.size() > (size_t{1} << 16) || n.encoder.thresholds.size() > (size_t{1} << 14))
      return;
    const size_t samples = 3, features = n.encoder.thresholds.size();
    std::vector<float> x(samples * features);
    for (size_t k = 0; k < x.size(); ++k) x[k] = static_cast<float>(k % 7) - 3.0f;
    const BitMatrix in = encode(n.encoder, x.data(), samples, features);
    const std::vector<int32_t> cls = classify(n, in, samples);
    for (int32_t c : cls)
      if (c < 0 || static_cast<uint32_t>(c) >= n.classes) std::abort();
    const Netlist s = simplify(n);
    if (classify(s, in, samples) != cls) std::abort();  // simplify must keep the function
    const Netlist back = parse_lgn(serialize_lgn(n, "fuzz.lgn"), "fuzz.lgn");
    if (back.gates.size() != n.gates.size() || back.outputs != n.outputs) std::abort();
  });
}
