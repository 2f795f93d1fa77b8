// The --int8/--calib/--calib-method/--percentile options shared by `infer` and `eval`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "prune/quant.h"

namespace prunesim::cli {

struct Int8Opts {
  bool int8 = false;
  std::string calib;
  std::string method = "minmax";
  double percentile = 99.99;

  void add_to(CLI::App* c) {
    c->add_flag("--int8", int8, "run the bit-exact integer reference (needs --calib)");
    c->add_option("--calib", calib, "calibration set .npy [N, ...input shape]")
        ->check(CLI::ExistingFile);
    c->add_option("--calib-method", method, "activation range: minmax or percentile")
        ->check(CLI::IsMember({"minmax", "percentile"}));
    c->add_option("--percentile", percentile, "percentile of |activation| kept (percentile method)")
        ->check(CLI::Range(50.0, 100.0));
  }
  QuantOptions options() const {
    QuantOptions q;
    q.calib =
        method == "percentile" ? QuantOptions::Calib::Percentile : QuantOptions::Calib::MinMax;
    q.percentile = percentile;
    q.calib_source = calib;
    return q;
  }
};

}  // namespace prunesim::cli
