// Subcommand registry of the prunesim program (a Registry<T>, base/registry.h). Each subcommand is
// one cmd_*.cpp that registers a setup function with a static Registrar (a second one of the same
// name stops the program at start-up); run_cli() builds the CLI11 app from the registry, runs it
// and maps errors to exit codes (InputError → 2 with one line on stderr, bugs → 1).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace prunesim::cli {

// Adds its subcommand to `app`; the subcommand's callback does the work and may call
// set_exit_code() (e.g. `verify` reporting a mismatch with 1).
using SetupFn = void (*)(CLI::App& app);

struct Registrar {
  Registrar(const char* name, SetupFn fn);
};

void set_exit_code(int code);

// The subcommand group `name` of `app` (`prunesim lgn train`, `prunesim lgn eval`, ...), created
// by whichever of its files' setup runs first, so that each member stays one cmd_*.cpp file that
// registers itself (as "lgn train") without a shared file listing the members.
CLI::App& group(CLI::App& app, const std::string& name, const std::string& description);
int run_cli(int argc, char** argv);

// A result that falls short of the request: one line "warning: <what>" on stderr. With
// `--strict` the same text is an InputError (exit 2), so call it before any output is written.
void warn(const std::string& what);

// --threads N: worker threads of the fast reference executors over samples (prune/fast_exec.h;
// default all hardware threads). For the commands that evaluate whole data sets.
void add_threads_option(CLI::App* c);
// --train-data X.npy and --train-labels Y.npy, the data of a command's --finetune.
void add_train_data_options(CLI::App* c, std::string* data, std::string* labels);
bool strict();

}  // namespace prunesim::cli
