// Configuration in two layers (DESIGN.md habit 3): resolve_params and the parameter dump live
// in the bottom library (base/params.h), shared by architectures, schemes and encodings; this
// header keeps the simulator's spelling.
#pragma once

#include "base/params.h"
