// .npz (zip of .npy) bytes -> tensors.
#include "fuzz_common.h"
#include "prune/npy.h"

PRUNESIM_FUZZ_TARGET(prunesim::parse_npz(input, "fuzz.npz"))
