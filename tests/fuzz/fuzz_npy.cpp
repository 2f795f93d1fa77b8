// .npy bytes -> tensor.
#include "fuzz_common.h"
#include "prune/npy.h"

PRUNESIM_FUZZ_TARGET(prunesim::parse_npy(input, "fuzz.npy"))
