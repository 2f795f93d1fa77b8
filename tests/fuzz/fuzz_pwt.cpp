// Weight-table (.pwt) bytes -> QuantizedModel (header, model section, directory, every layer
// section and its encoding's decoder; the fuzz build skips CRC comparison). A table the reader
// accepts must also run: the int8 executor runs it once on a zero input, so a reader rule that
// lets through what the executor cannot take is a finding too.
#include "fuzz_common.h"
#include "prune/quant.h"
#include "prune/tables.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace prunesim;
  return fuzz::run([&] {
    TableSummary summary;
    MaskMap masks;
    const QuantizedModel q = parse_tables(fuzz::bytes(data, size), "fuzz.pwt", &summary, &masks);
    const Shape& s = q.graph.shape(q.input);
    // Keep an iteration fast: the zoo's tables are far below this.
    if (numel(s) > (int64_t{1} << 16)) return;
    for (const auto& L : q.layers)
      if (numel(q.graph.shape(L.output)) > (int64_t{1} << 20)) return;
    run_int8(q, Tensor(s));
  });
}
