// The parts of the weight-table format both the writer and the reader need.
#include "tables_format.h"

namespace prunesim::pwt {

// Returns "" or what is inconsistent (a file could carry a shape no quantizer produced).
std::string layer_map(const QLayer& L, const Node& n, LayerMap* m) {
  const Shape& ws = L.weight_shape;
  if (ws.size() < 2) return "weight shape " + shape_str(ws) + " has rank < 2";
  // Bounded before multiplying: a damaged shape must not overflow.
  int64_t total = 1;
  for (int64_t d : ws) {
    if (d < 1 || d > kMaxWeights || total * d > kMaxWeights)
      return "weight shape " + shape_str(ws) + " is empty or has more than 2^28 weights";
    total *= d;
  }
  if (static_cast<int64_t>(L.weight.size()) != total && !L.weight.empty())
    return "weight has " + std::to_string(L.weight.size()) + " values, shape " + shape_str(ws);
  if (L.kind == QLayer::Kind::Conv) {
    // [M, C/group, k...]: one output channel's reduction is contiguous.
    m->rows = ws[0];
    m->cols = total / m->rows;
  } else if (L.kind == QLayer::Kind::ConvTranspose) {
    const int64_t group = n.attr_i("group", 1);
    if (group < 1 || ws[0] % group != 0)
      return "group " + std::to_string(group) + " does not divide " + std::to_string(ws[0]) +
             " input channels";
    m->layout = LayerMap::Layout::ConvTranspose;
    m->mpg = ws[1];
    m->cpg = ws[0] / group;
    m->ksz = total / (ws[0] * ws[1]);
    m->rows = m->mpg * group;
    m->cols = m->cpg * m->ksz;
  } else {
    // QLayer weight is [N, K] whatever transB was; the initializer is [N, K] only for Gemm with
    // transB = 1 (decided by the attribute: a square matrix's shape cannot tell).
    if (ws.size() != 2) return "Gemm weight shape " + shape_str(ws) + " is not 2-D";
    m->rows = ws[0];
    m->cols = ws[1];
    if (!(n.op == "Gemm" && n.attr_i("transB", 0) != 0)) m->layout = LayerMap::Layout::KN;
  }
  return "";
}

TableLayerInfo layer_info(const QLayer& L, const Section& s, int64_t offset) {
  TableLayerInfo i;
  i.name = L.name;
  i.op = L.op;
  i.encoding = s.enc->name();
  i.shape = L.weight_shape;
  i.total = s.map.rows * s.map.cols;
  i.nnz = s.nnz;
  i.sparsity = i.total ? 1.0 - static_cast<double>(i.nnz) / static_cast<double>(i.total) : 0.0;
  i.value_bytes = static_cast<int64_t>(s.e.values.size());
  i.meta_bytes = static_cast<int64_t>(s.e.meta.size());
  i.crc_ok = true;
  i.weight = s.weight;
  i.rows = s.map.rows;
  i.cols = s.map.cols;
  i.stored = s.e.stored;
  i.value_bits = s.e.value_bits;
  i.meta_bits = s.e.meta_bits;
  i.offset = offset;
  i.crc = static_cast<uint32_t>(get_le(s.bytes.data() + s.bytes.size() - 4, 4));  // the CRC
  i.params = s.enc->describe(s.e);
  return i;
}

}  // namespace prunesim::pwt
