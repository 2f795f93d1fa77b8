// Umbrella header of the int8 datapath kernels (arith, conv, pool, eltwise). The arithmetic is
// specified in docs/quantization.md; every function here is deterministic integer code.
#pragma once

#include "hls/arith.h"
#include "hls/conv.h"
#include "hls/eltwise.h"
#include "hls/pool.h"
