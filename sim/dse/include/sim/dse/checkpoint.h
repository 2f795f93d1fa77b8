// The search checkpoint (`prunesim search --checkpoint F`, docs/search.md): every evaluated point
// as JSON, written by rank 0 after each generation, read back by `--resume`. The reader is
// SystemC- and pagmo-free so that the fuzz target (tests/fuzz/fuzz_checkpoint.cpp) runs it alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/dse/search.h"

namespace prunesim::dse {

// The points of checkpoint text `text` (read from `path`, named in errors). InputError
// "--resume <path>: ..." for text that is not JSON (or nested too deep, or a number that
// overflows), another format or version, a key other than `key` (written by a different search),
// or a point whose fields are missing or of the wrong type, whose decision vector has other than
// upper.size() entries or an entry outside [0, upper[k]], or that repeats an earlier one.
std::vector<Point> parse_checkpoint(const std::string& text, const std::string& path,
                                    const std::string& key, const std::vector<int64_t>& upper);

// The text written (what parse_checkpoint reads): format, version, key, generation, the
// evaluation count and the points.
std::string checkpoint_text(const std::string& key, int64_t generation, int64_t evaluations,
                            const std::vector<Point>& points);

}  // namespace prunesim::dse
