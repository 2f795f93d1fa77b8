// Internal to prune/train: the relaxed logic-gate network in libtorch. Each gate holds logits over
// the 16 two-input functions (Petersen IDs); its soft output is the expectation of their
// real-valued relaxations under the softmax, which is multilinear: c0 + c1·a + c2·b + c3·a·b with
// c = softmax(logits) · C (C: each function's coefficients, from its truth table), so a layer
// costs one [G,16]x[16,4] product plus elementwise work instead of 16 relaxations.
#pragma once

#include <torch/torch.h>

#include "logic/netlist.h"
#include "train/logic_train.h"
#include "train_internal.h"

namespace prunesim::train {

class LogicLayer {
 public:
  // Wiring and logits drawn from torch's generator (seeded by the caller).
  LogicLayer(int64_t in, int64_t out, const LogicNetOptions& o);
  // x: [in, B] in [0, 1] (signals as rows) -> [out, B]. hard: one-hot gates and connections
  // (the discretised network).
  torch::Tensor forward(const torch::Tensor& x, bool hard) const;
  std::vector<torch::Tensor> parameters() const;
  int64_t in() const { return in_; }
  int64_t out() const { return out_; }
  // The discretised gates: input indices into the previous layer and Petersen IDs.
  void discretise(std::vector<int64_t>* a, std::vector<int64_t>* b, std::vector<int>* ids) const;

 private:
  torch::Tensor inputs(const torch::Tensor& x, const torch::Tensor& idx, const torch::Tensor& w,
                       bool hard) const;
  torch::Tensor chosen(const torch::Tensor& idx, const torch::Tensor& w) const;
  int64_t in_, out_;
  bool learned_;
  torch::Tensor logits_;   // [out, 16]
  torch::Tensor ia_, ib_;  // random: [out]; learned: [out, K] candidate indices
  torch::Tensor wa_, wb_;  // learned: [out, K] connection logits
};

// The network as the training loop's module: layers, then the group sum / tau.
class LogicModule : public Trainable {
 public:
  LogicModule(int64_t input_bits, int64_t classes, const LogicNetOptions& o);
  torch::Tensor forward(const torch::Tensor& x) override { return run(x, false); }
  torch::Tensor evaluate(const torch::Tensor& x) override { return run(x, true); }
  std::vector<torch::Tensor> parameters() override;
  void keep_best() override;
  void restore_best();
  int64_t parameter_count();
  // The discretised network (encoder, gates, class-major outputs, tau).
  logic::Netlist to_netlist(const logic::Encoder& e) const;

 private:
  torch::Tensor run(const torch::Tensor& x, bool hard) const;
  std::vector<LogicLayer> layers_;
  int64_t inputs_, classes_;
  double tau_;
  std::vector<torch::Tensor> best_;
};

// Shared by train_logic and finetune_logic (logic_train.cpp). The validation rows: a seeded
// share of d's samples; the rest are the training rows.
void split_rows(const LogicData& d, const TrainOptions& o, std::vector<int64_t>* tr,
                std::vector<int64_t>* val);
// Rows of d, thermometer-encoded by the evaluator's encoder, as 0/1 floats [rows, bits].
torch::Tensor encoded(const LogicData& d, const logic::Encoder& e,
                      const std::vector<int64_t>& rows);
torch::Tensor label_tensor(const LogicData& d, const std::vector<int64_t>& rows);
// Row id = Petersen ID: the function's multilinear coefficients (1, a, b, ab) [16, 4].
torch::Tensor relaxation_coefficients();

}  // namespace prunesim::train
