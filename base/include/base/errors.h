// Errors caused by what the user handed us (files, flags, shapes). The CLI turns an InputError
// into one line on stderr and exit code 2; anything else is a bug and exits 1.
// Messages read "<file>: <place>: <what is wrong>" so a user can go straight to the fault.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace prunesim {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& msg) : std::runtime_error(msg) {}
};

// The model uses an op, attribute value or data type we do not implement (a subclass so the
// conformance walk can tell "skip: unsupported" from "fail: broken file").
class UnsupportedError : public InputError {
 public:
  explicit UnsupportedError(const std::string& msg) : InputError(msg) {}
};

// "<file>: <place>: <what>" (place may be empty).
[[noreturn]] void fail(const std::string& file, const std::string& place, const std::string& what);
[[noreturn]] void unsupported(const std::string& file, const std::string& place,
                              const std::string& what);

// Write `contents` to `path` through a temporary name in the same folder and rename it into
// place, so an interrupted or failed run never leaves a half-written output (base/output.h: the
// temporary name is removed on SIGINT/SIGTERM; several outputs go together in an OutputBatch).
void write_file_atomic(const std::string& path, const std::string& contents);

// Several outputs of one command, all or none: every file is written to its temporary name
// first, and only when all are complete are they renamed into place (a failure removes the
// temporaries and leaves every path as it was).
void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace prunesim
