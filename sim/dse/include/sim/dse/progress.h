// How the engines report back without knowing the terminal: progress(done, total, label) and a
// warning line (the CLI's turns into an error under --strict).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace prunesim::dse {

using ProgressFn = std::function<void(size_t done, size_t total, const std::string& label)>;
using WarnFn = std::function<void(const std::string& what)>;

}  // namespace prunesim::dse
