// `mask` (alias `polarization`): import masks produced elsewhere — by training with a
// polarization regulariser, lottery-ticket search or any other tool. From an .npz, each member
// is named after a layer (node) or its weight initializer and holds non-zero where a weight is
// kept; from an ONNX file, the zeros of the same-named layers' weights are the mask.
//
// PyTorch state-dict keys ("layer1.0.conv1.weight") are accepted too: the exporter names each
// node by its module scope ("/layer1/layer1.0/conv1/Conv"), while the weight initializer is often
// renamed ("onnx::Conv_497") when Conv and BatchNorm are fused, so the key is rebuilt from the
// node name (torch_key below).
#include <set>
#include <string>
#include <vector>

#include "prune/errors.h"
#include "prune/npy.h"
#include "prune/onnx_io.h"
#include "prune/pruning.h"

namespace prunesim {
namespace {

// The PyTorch module path of a node named by torch.onnx's scopes, + ".weight". Each scope part is
// either a child of the previous part's module ("conv") or the previous part extended by a child
// index ("features" -> "features.1", "conv.0" -> "conv.0.0"); the op name comes last.
std::string torch_key(const std::string& node) {
  if (node.size() < 2 || node[0] != '/') return "";
  std::vector<std::string> parts;
  size_t a = 1;
  for (size_t b; (b = node.find('/', a)) != std::string::npos; a = b + 1)
    parts.push_back(node.substr(a, b - a));
  if (parts.empty()) return "";
  std::vector<std::string> path;
  for (const auto& p : parts) {
    if (!path.empty() && p.size() > path.back().size() &&
        p.compare(0, path.back().size(), path.back()) == 0 && p[path.back().size()] == '.')
      path.back() = p;
    else
      path.push_back(p);
  }
  std::string k;
  for (const auto& p : path) k += (k.empty() ? "" : ".") + p;
  return k + ".weight";
}

ParamSpec mask_file_param() {
  return text_param("mask_file", "", "file", ".npz or .onnx holding the masks to import");
}

class MaskImport : public Scheme {
 public:
  std::string description() const override {
    return "import masks from --mask-file (.npz keyed by layer or weight name, or an ONNX "
           "whose zero weights are the mask)";
  }
  std::vector<ParamSpec> params() const override { return {mask_file_param()}; }
  SchemeResult run(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                   const PruneData&) const override {
    const std::string f = o.params.s("mask_file");
    if (f.empty()) throw InputError("--mask-file: the " + name() + " scheme needs a mask file");
    const bool onnx = f.size() > 5 && f.compare(f.size() - 5, 5, ".onnx") == 0;
    std::map<std::string, Tensor> src;  // key -> mask tensor (non-zero = keep)
    if (onnx) {
      Graph m = load_onnx(f);
      for (const auto& l : prunable_layers(m)) src[l.node] = m.init(l.weight);
    } else {
      src = load_npz(f);
    }
    SchemeResult r;
    const auto sel = select_layers(g, layers);
    std::map<std::string, bool> used;
    for (const auto& kv : src) used[kv.first] = false;
    for (const auto& l : sel) {
      auto it = src.find(l.node);
      if (it == src.end()) it = src.find(l.weight);
      if (it == src.end()) it = src.find(torch_key(l.node));
      if (it == src.end()) {
        r.notes["layers"][l.node]["mask"] = "none in file: left dense";
        continue;
      }
      r.notes["layers"][l.node]["mask_key"] = it->first;
      used[it->first] = true;
      const Tensor& t = it->second;
      if (t.size() != numel(l.shape))
        fail(f, "mask '" + it->first + "'",
             "has " + std::to_string(t.size()) + " elements, layer '" + l.node + "' weight " +
                 shape_str(l.shape) + " has " + std::to_string(numel(l.shape)));
      auto& m = r.masks[l.weight];
      m.resize(static_cast<size_t>(t.size()));
      for (size_t k = 0; k < m.size(); ++k) m[k] = t.is_float() ? t.f[k] != 0.f : t.i[k] != 0;
    }
    // Every key that names nothing is listed (a misspelt or foreign key is a request that cannot
    // be honoured); the layers the file does not cover are noted "left dense", for the caller's
    // warning.
    std::string unmatched;
    int n_unmatched = 0;
    // A key is foreign when it names no prunable layer of the whole model (the selection may
    // leave out layers the file rightly holds masks for).
    std::set<std::string> known;
    for (const auto& l : prunable_layers(g)) known.insert({l.node, l.weight, torch_key(l.node)});
    if (!onnx)
      for (const auto& kv : used)
        if (!kv.second && !known.count(kv.first)) {
          if (n_unmatched < 6) unmatched += (n_unmatched ? ", '" : "'") + kv.first + "'";
          ++n_unmatched;
        }
    const std::string forms =
        " (keys are layer names such as '" + (sel.empty() ? std::string("conv1") : sel[0].node) +
        "', weight initializer names, or PyTorch state-dict names such as '" +
        (sel.empty() ? std::string("conv1.weight") : torch_key(sel[0].node)) + "')";
    if (n_unmatched)
      fail(f, std::to_string(n_unmatched) + " key" + (n_unmatched == 1 ? "" : "s"),
           unmatched + (n_unmatched > 6 ? ", ..." : "") + " name no prunable layer or weight of " +
               g.source + forms);
    if (r.masks.empty()) fail(f, "", "holds no mask for any selected layer of " + g.source + forms);
    r.graph = apply_masks(g, r.masks);
    return r;
  }
};

// Polarization trains its gates (prune/train/src/polarize.cpp, reached through
// PruneData::train_scheme, which only the commands that train set) or, with --mask-file, imports
// the masks such training produced elsewhere.
class Polarization : public MaskImport {
 public:
  std::string description() const override {
    return "train per-weight or per-channel gates with the polarization regulariser to "
           "--sparsity in one pass (needs --finetune and --train-data), or import --mask-file";
  }
  std::vector<ParamSpec> params() const override {
    return {mask_file_param(), choice_param("granularity", "weight", {"weight", "channel"},
                                            "what a trained gate multiplies: one weight or one "
                                            "output channel")};
  }
  SchemeTraits traits() const override { return {false, true}; }
  std::string shortfall_reason(const ParamValues& p) const override {
    return p.s("granularity") == "channel"
               ? "channel gates keep a layer whose channels are the graph's output whole"
               : "";
  }
  SchemeResult run(const Graph& g, const std::vector<std::string>& layers, const SchemeOptions& o,
                   const PruneData& d) const override {
    if (!o.params.s("mask_file").empty()) return MaskImport::run(g, layers, o, d);
    if (!d.train_scheme)
      throw InputError(
          "polarization: trains gates, so it needs --finetune epochs=N and "
          "--train-data (or --mask-file to import masks trained elsewhere)");
    check_sparsity(o.sparsity);
    SchemeResult r = d.train_scheme(name(), g, layers, o);
    r.notes["trained"] = true;
    return r;
  }
};

}  // namespace
PRUNESIM_REGISTER_SCHEME("mask", MaskImport);
PRUNESIM_REGISTER_SCHEME("polarization", Polarization);
}  // namespace prunesim
