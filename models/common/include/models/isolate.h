// SystemC elaborates once per process: a simulation cannot be started twice in one program.
// run_isolated() runs one simulation in a forked child and hands its result (a string, e.g.
// JSON) back through a pipe, so sweeps and tests can run many cycle-mode simulations.
#pragma once

#include <functional>
#include <string>

namespace prunesim {

// Runs fn in a child process and returns what it returned. If fn throws, the exception's
// message comes back as a std::runtime_error in the parent; InputError is re-thrown as
// InputError (so exit code 2 survives the fork).
std::string run_isolated(const std::function<std::string()>& fn);

}  // namespace prunesim
