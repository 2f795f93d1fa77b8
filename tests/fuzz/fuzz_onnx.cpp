// ONNX model bytes -> import (protobuf parse, checks, constant folding, shape inference).
#include "fuzz_common.h"
#include "prune/onnx_io.h"

PRUNESIM_FUZZ_TARGET(prunesim::parse_onnx(input, "fuzz.onnx"))
