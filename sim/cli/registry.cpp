#include "registry.h"

#include <csignal>
#include <iostream>

#include "base/output.h"
#include "base/registry.h"
#include "prune/errors.h"
#include "prune/fast_exec.h"

namespace prunesim::cli {
namespace {
// A subcommand: its name and the function that adds it to the app.
struct Subcommand {
  std::string n;
  SetupFn setup;
  std::string name() const { return n; }
};
Registry<Subcommand>& registry() {
  static Registry<Subcommand> r("subcommand");
  return r;
}
int g_exit_code = 0;
bool g_strict = false;
}  // namespace

void add_threads_option(CLI::App* c) {
  c->add_option_function<int>(
       "--threads", [](const int& n) { set_exec_threads(n); },
       "threads of the reference executors over samples (default: all; the result does not "
       "depend on it)")
      ->check(CLI::Range(1, 1024));
}

void add_train_data_options(CLI::App* c, std::string* data, std::string* labels) {
  c->add_option("--train-data", *data, "--finetune: training inputs .npy")
      ->check(CLI::ExistingFile);
  c->add_option("--train-labels", *labels,
                "--finetune: class ids or targets (without: distillation from the dense model)")
      ->check(CLI::ExistingFile);
}

void warn(const std::string& what) {
  if (g_strict) throw InputError(what + " (--strict)");
  std::cerr << "warning: " << what << "\n";
}
bool strict() {
  return g_strict;
}

Registrar::Registrar(const char* name, SetupFn fn) {
  registry().add(std::make_unique<Subcommand>(Subcommand{name, fn}));
}
CLI::App& group(CLI::App& app, const std::string& name, const std::string& description) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return *sub;
  }
  CLI::App* g = app.add_subcommand(name, description);
  g->require_subcommand(1);
  return *g;
}

void set_exit_code(int code) {
  g_exit_code = code;
}

int run_cli(int argc, char** argv) {
  // Every output is a temporary file until the end: SIGINT/SIGTERM remove them (base/output.h).
  install_output_guard();
  CLI::App app{"prunesim — prune neural networks and simulate them on accelerator models"};
  app.set_version_flag("--version", std::string("prunesim ") + PRUNESIM_VERSION);
  app.require_subcommand(1);
  // Before or after the subcommand: `prunesim --strict prune ...` or `prunesim prune ... --strict`.
  app.add_flag("--strict", g_strict,
               "a result that falls short of the request (a warning) is an error: exit 2, no "
               "output written");
  app.fallthrough();
  // One line per error, like every other bad-input path.
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return std::string("prunesim: error: ") + e.what() + " (see --help)\n";
  });
  // Every --help shows each option's default ("[0.5]"): subcommands inherit these settings.
  app.option_defaults()->always_capture_default();
  for (const Subcommand* s : registry().items()) s->setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    // Usage errors (unknown flag, missing value) are bad input too: exit code 2.
    return rc == 0 ? 0 : 2;
  } catch (const Interrupted&) {
    // Outputs are renamed into place only at the end: an interrupted run leaves none.
    std::cerr << "prunesim: interrupted: no output written\n";
    return 128 + (interrupt_signal() ? interrupt_signal() : SIGINT);
  } catch (const InputError& e) {
    std::cerr << "prunesim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "prunesim: internal error: " << e.what() << "\n";
    return 1;
  }
  return g_exit_code;
}

}  // namespace prunesim::cli
