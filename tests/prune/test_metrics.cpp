// The segmentation metrics and score(): hand-counted cases, the unlabelled class ignored, and the
// metric chosen from the reference's shape.
#include <gtest/gtest.h>

#include "prune/metrics.h"

using namespace prunesim;

TEST(Metrics, MiouCountsEveryClassOnceAndIgnoresUnlabelledPixels) {
  // One frame of 6 pixels. Labels 0 (unlabelled), 1, 1, 2, 2, 3; predictions 2, 1, 2, 2, 0, 3.
  Tensor labels = Tensor::ints({1, 6}, {0, 1, 1, 2, 2, 3});
  Tensor pred({1, 6}, {2, 1, 2, 2, 0, 3});
  // Scored: pixels 1..5. Class 1: inter 1, union {1,2} = 2 -> 1/2. Class 2: inter 1 (pixel 3),
  // union {2 (pred), 3, 4 (label)} = 3 -> 1/3. Class 3: 1/1. The prediction 2 on the unlabelled
  // pixel 0 counts for nothing; predicting 0 on pixel 4 only widens class 2's union.
  EXPECT_DOUBLE_EQ(miou(pred, labels, 0), (0.5 + 1.0 / 3.0 + 1.0) / 3.0);
  EXPECT_DOUBLE_EQ(pixel_accuracy(pred, labels, 0), 3.0 / 5.0);
  // A perfect map scores 1 whatever the unlabelled pixels predict.
  Tensor perfect({1, 6}, {7, 1, 1, 2, 2, 3});
  EXPECT_DOUBLE_EQ(miou(perfect, labels, 0), 1.0);
}

TEST(Metrics, ArgmaxClassesAndScorePickTheMetricByShape) {
  // Logits [1, 3 classes, 2 pixels]: pixel 0 -> class 2, pixel 1 -> class 0.
  Tensor logits({1, 3, 2}, {0.1f, 0.9f, 0.2f, 0.3f, 0.7f, 0.4f});
  Tensor cls = argmax_classes(logits);
  EXPECT_EQ(cls.shape, (Shape{1, 2}));
  EXPECT_EQ(cls.f, (std::vector<float>{2.f, 0.f}));
  auto s = score(logits, Tensor::ints({1, 2}, {2, 1}));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].first, "miou");
  EXPECT_DOUBLE_EQ(s[0].second, 0.5);  // class 2 right (IoU 1), class 1 missed (IoU 0)
  EXPECT_EQ(score(Tensor({2, 2}, {1, 0, 0, 1}), Tensor::ints({2}, {0, 0})).front().first, "top1");
  EXPECT_EQ(score(Tensor({1, 2}, {1, 2}), Tensor({1, 2}, {1, 2})).front().first, "sndr_db");
}
