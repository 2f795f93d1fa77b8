// Entry point of SystemC test binaries: Debian's libsystemc defines main() and calls sc_main,
// so gtest runs from here (link GTest::gtest, not gtest_main). gtest_discover_tests runs each
// test in its own process, which SystemC needs (it elaborates once per process).
#include <gtest/gtest.h>

extern "C" int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
