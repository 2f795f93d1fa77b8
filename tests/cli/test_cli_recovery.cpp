// Recovery as a user runs it, at small settings (the full figures: bench/recovery.sh and
// docs/training.md): a pruned zoo model, fine-tuned by `prune --finetune`, scored in int8 from its
// weight tables by `eval`, comes back close to the dense int8 model. One thread, one seed: the
// figures are deterministic, and the bounds sit a little below what these settings reach.
#include <nlohmann/json.hpp>

#include "common/cli_fixture.h"

namespace prunesim::testing {
namespace {

class Recovery : public CliFixture {
 protected:
  static std::string zoo(const std::string& m) {
    return std::string(PRUNESIM_SOURCE_DIR) + "/zoo/" + m + "/";
  }
  // The int8 headline of `eval ... --json`: top-1 in %, or SNDR in dB.
  double metric(const std::string& args) {
    const Result r = run("eval " + args + " --json");
    EXPECT_EQ(r.code, 0) << r.err;
    if (r.code != 0) return -1e9;
    const auto j = nlohmann::json::parse(r.out)["int8"];
    return j.contains("top1") ? 100 * j["top1"].get<double>() : j["sndr_db"].get<double>();
  }
};

// RAMAN's case: the encoder balanced-pruned for 16 PEs and distilled from the dense encoder's
// latent without labels, then the whole autoencoder in int8 with the unchanged offline decoder.
TEST_F(Recovery, Ds_cae1BalancedEncoderComesBackWithinTwoDecibels) {
  const std::string z = zoo("ds_cae1");
  ASSERT_EQ(
      run("infer " + z + "encoder.onnx --input " + z + "calib.npy --output " + path("lat.npy"))
          .code,
      0);
  const std::string then = " --then " + z + "decoder.onnx --then-calib " + path("lat.npy") +
                           " --data " + z + "eval.npy --labels " + z + "eval.npy";
  const double dense = metric(z + "encoder.onnx --int8 --calib " + z + "calib.npy" + then);
  const std::string prune = "prune " + z + "encoder.onnx --scheme balanced --sparsity 0.5 " +
                            "--pes 16 --calib " + z + "calib.npy --quiet -o ";
  ASSERT_EQ(run(prune + path("once.pwt")).code, 0);
  const Result r = run(prune + path("ft.pwt") + " --schedule agp --steps 2 --train-data " + z +
                       "train.npy --finetune epochs=16,lr=3e-3,batch=32,qat,threads=1");
  ASSERT_EQ(r.code, 0) << r.err;
  const double once = metric(path("once.pwt") + then), tuned = metric(path("ft.pwt") + then);
  EXPECT_LT(once, 3.0) << "one-shot balanced pruning breaks the encoder";
  EXPECT_GT(tuned, dense - 2.0) << "dense " << dense << " dB, one-shot " << once << " dB";
}

// Magnitude 70 % on the digits classifier, gradual, on labels with the dense model mixed in.
TEST_F(Recovery, DigitsMagnitude70ComesBackWithinTwoPoints) {
  const std::string z = zoo("digits_dscnn");
  const std::string ev = " --data " + z + "eval.npy --labels " + z + "eval_labels.npy";
  const double dense = metric(z + "digits_dscnn.onnx --int8 --calib " + z + "calib.npy" + ev);
  const Result r =
      run("prune " + z + "digits_dscnn.onnx --scheme magnitude --sparsity 0.7 " +
          "--schedule agp --steps 4 --train-data " + z + "train.npy --train-labels " + z +
          "train_labels.npy --finetune epochs=15,lr=1e-2,batch=32,qat," +
          "distill=0.5,threads=1 --quiet --calib " + z + "calib.npy -o " + path("d.pwt"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(metric(path("d.pwt") + ev), dense - 2.0);
}

}  // namespace
}  // namespace prunesim::testing
