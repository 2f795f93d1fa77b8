// InputError and the atomic writer live in the bottom library (base/errors.h), so that the
// parameter resolution every layer shares can throw them; this header keeps prune's spelling.
#pragma once

#include "base/errors.h"
