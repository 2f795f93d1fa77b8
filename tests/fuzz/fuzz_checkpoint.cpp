// Search checkpoint bytes -> points (sim/dse/checkpoint.h, what `search --resume` reads), for a
// search space of 8 layers x 2 schemes x 10 sparsities (the ds_cae1 encoder's, as in the seeds,
// whose key is "fuzz-key"). A checkpoint the reader accepts must hold only decision vectors
// inside the space, each once: the engine indexes the space with them.
#include <cstdlib>
#include <set>

#include "fuzz_common.h"
#include "sim/dse/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace prunesim::dse;
  return prunesim::fuzz::run([&] {
    std::vector<int64_t> upper;
    for (int k = 0; k < 8; ++k) upper.insert(upper.end(), {1, 9});
    const std::vector<Point> pts =
        parse_checkpoint(prunesim::fuzz::bytes(data, size), "fuzz.json", "fuzz-key", upper);
    std::set<Decision> seen;
    for (const Point& p : pts) {
      if (p.x.size() != upper.size() || !seen.insert(p.x).second) std::abort();
      for (size_t k = 0; k < p.x.size(); ++k)
        if (p.x[k] < 0 || p.x[k] > upper[k]) std::abort();
    }
    // What the checkpoint writer makes of them reads back to the same points.
    if (parse_checkpoint(checkpoint_text("fuzz-key", 0, 0, pts), "fuzz.json", "fuzz-key", upper)
            .size() != pts.size())
      std::abort();
  });
}
