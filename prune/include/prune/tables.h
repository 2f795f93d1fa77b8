// Weight tables (format v1, extension .pwt): the self-contained file that carries a quantized,
// pruned network from the front end to the executors and simulators — topology, every
// quantization parameter, and each weight layer in a sparse encoding with its own CRC32.
// docs/weight-tables.md specifies the bytes; this header is the writer, the reader and the
// registry of encodings (one .cpp each in prune/src/encodings/, registered by name).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/crc32.h"
#include "base/params.h"
#include "base/registry.h"
#include "prune/ir.h"
#include "prune/pruning.h"
#include "prune/quant.h"

namespace prunesim {

// Version 2 adds layer kinds 13-16 (Mul, Sub, ReduceSum, ReduceMax) and the graph ops Pad,
// Slice, Squeeze, Unsqueeze, Gather, Cast, ReduceMean/Max/Sum and HardSwish; the layout is
// version 1's. A writer puts the lowest version that describes the model (1 when none of those
// occur, so such files stay readable by version-1 builds); this build reads both. Version 3
// adds the transformer kinds 18-19 (LayerNorm, MatMulAct) and the graph ops Gelu,
// LayerNormalization, Erf and Pow, same layout again.
constexpr uint16_t kTableVersion = 3;
constexpr uint16_t kTableMinVersion = 1;

struct TableSummary;

struct TableOptions {
  std::string encoding = "auto";  // "auto" or an encoding name, forced on every layer
  // The hardware the table is for (names it in errors) and the encodings it decodes, handed over
  // by whoever knows that hardware (sim: Arch::encodings()). Empty `accepts`: any encoding.
  std::string target;
  std::vector<std::string> accepts;
  // Encoding parameters by encoding, e.g. {"csr": {"index_bits": 16}}; checked against each
  // encoding's params(), the others take their defaults.
  nlohmann::json encoding_params = nlohmann::json::object();
};

// Writes q as a weight table, atomically (write_file_atomic). masks are keyed by weight
// initializer name in the initializer's layout; a weight without a mask is stored with mask =
// (int8 weight != 0). notes["layers"][<node>] supplies the geometry of the `balanced` and `nm`
// encodings. InputError "<path>: layer '<node>': ..." for a bad option, a mask that drops a
// non-zero weight, or a forced encoding that does not apply; nothing is written then.
// summary (if given) receives what read_tables would report for the file.
void write_tables(const QuantizedModel& q, const MaskMap& masks, const nlohmann::json& notes,
                  const TableOptions& opt, const std::string& path,
                  TableSummary* summary = nullptr);

// The bytes write_tables would put in the file (`path` only names it in errors).
std::string table_bytes(const QuantizedModel& q, const MaskMap& masks, const nlohmann::json& notes,
                        const TableOptions& opt, const std::string& path = "tables",
                        TableSummary* summary = nullptr);

struct TableLayerInfo {
  std::string name, op, encoding;
  Shape shape;              // QLayer::weight_shape
  int64_t nnz = 0;          // non-zero int8 weights
  int64_t total = 0;        // weights
  double sparsity = 0.0;    // 1 - nnz / total: fraction of int8 weights that are zero
  int64_t value_bytes = 0;  // bytes of stored int8 values
  int64_t meta_bytes = 0;   // bytes of metadata (indices, bitmaps, runs, seeds)
  bool crc_ok = false;      // always true in a summary read_tables returns (it throws otherwise)
  // Extensions beyond the minimum a listing needs.
  std::string weight;          // weight initializer name (the MaskMap key)
  int64_t rows = 0, cols = 0;  // matrix view: output channels x reduction
  int64_t stored = 0;          // values the encoding stores (dense: all; nm: incl. group padding)
  int64_t value_bits = 0, meta_bits = 0;  // exact, before padding to whole bytes
  int64_t offset = 0;                     // byte offset of the layer section in the file
  uint32_t crc = 0;
  nlohmann::json params;  // the encoding's parameters (index bits, balanced geometry, …)
};

struct TableSummary {
  int version = 0;
  std::string source_model;  // the model file the table was made from
  std::vector<TableLayerInfo> layers;
  int64_t file_bytes = 0;
};

// Reads a weight table back into the QuantizedModel run_int8 executes (graph.source is `path`).
// InputError "<path>: <place>: <what>" on any corruption: bad magic, unsupported version, CRC
// mismatch (naming the layer and byte offset), truncation, inconsistent lengths. masks (if
// given) receives the positions each layer's encoding records (dense: non-zero weights; nm: the
// stored slots including group padding), keyed by weight initializer name.
QuantizedModel read_tables(const std::string& path, TableSummary* summary = nullptr,
                           MaskMap* masks = nullptr);
// The same from bytes in memory (`source` names them in errors).
QuantizedModel parse_tables(const std::string& bytes, const std::string& source,
                            TableSummary* summary = nullptr, MaskMap* masks = nullptr);

// True if the file starts with the weight-table magic (false if it cannot be read).
bool is_table_file(const std::string& path);

// crc32(): the standard reflected CRC-32 of base/crc32.h (included above), shared with .lgn.

// ---- Encodings --------------------------------------------------------------------------------

// One layer's weights seen as a matrix [rows = output channels, cols = reduction], row-major:
// the canonical order every encoding works in, whatever the initializer layout was.
struct WeightMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<int8_t> values;  // rows*cols int8 codes
  std::vector<uint8_t> mask;   // rows*cols, 1 = kept (a kept weight may be 0)
};

struct EncodeContext {
  std::string layer;     // node name
  std::string op;        // its op
  nlohmann::json notes;  // notes["layers"][layer], or null
  ParamValues params;    // the encoding's own params(), resolved (TableOptions::encoding_params)
};

// An encoded layer: fixed per-encoding parameters, the value bytes and the metadata bytes.
struct EncodedLayer {
  std::string params, values, meta;
  int64_t stored = 0;  // number of int8 values in `values`
  int64_t value_bits = 0, meta_bits = 0;
  int64_t bits() const { return value_bits + meta_bits; }
  int64_t bytes() const { return static_cast<int64_t>(values.size() + meta.size()); }
};

class Encoding {
 public:
  virtual ~Encoding() = default;
  virtual std::string name() const = 0;  // defined by PRUNESIM_REGISTER_ENCODING
  virtual uint8_t id() const = 0;        // stored in the file: never reuse or renumber
  virtual std::string description() const = 0;
  // The encoding's parameters (CLI flag --<encoding>-<name with - for _>, e.g. --csr-index-bits).
  virtual std::vector<ParamSpec> params() const { return {}; }
  // Encodes w; returns "" on success, else why the encoding does not apply to this layer.
  virtual std::string encode(const WeightMatrix& w, const EncodeContext& c,
                             EncodedLayer* out) const = 0;
  // Rebuilds w (rows, cols preset by the caller) from e. Throws InputError "<place>: <what>"
  // when the data is inconsistent (it may come from a damaged file).
  virtual void decode(const EncodedLayer& e, WeightMatrix* w, const std::string& place) const = 0;
  // The parameters in e.params as JSON (reports, `tables inspect --json`).
  virtual nlohmann::json describe(const EncodedLayer& e) const = 0;
};

// Encodings by name, and by the id files store (a second encoding with a taken id is refused at
// start-up: old files would become ambiguous).
class EncodingRegistry : public Registry<Encoding> {
 public:
  EncodingRegistry() : Registry<Encoding>("encoding") {}
  const Encoding& add(std::unique_ptr<Encoding> e);
  using Registry<Encoding>::find;
  const Encoding* find(uint8_t id) const;
};
EncodingRegistry& encoding_registry();
// nullptr if unknown.
const Encoding* find_encoding(const std::string& name);
const Encoding* find_encoding(uint8_t id);
std::vector<std::string> encoding_names();  // sorted by id
// The command-line flag of an encoding parameter: "--csr-index-bits".
std::string encoding_flag(const std::string& encoding, const std::string& param);
// The params of `e`, resolved from opt.encoding_params (InputError "<path>: --csr-index-bits: ..."
// for an unknown key or a bad value).
ParamValues encoding_params(const Encoding& e, const nlohmann::json& given,
                            const std::string& path);

#define PRUNESIM_REGISTER_ENCODING(NAME, CLASS) \
  PRUNESIM_REGISTER_IN(::prunesim::encoding_registry, NAME, CLASS)

}  // namespace prunesim
