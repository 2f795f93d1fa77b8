// The sweep plot (sim/dse/plot.h): scripts/plot_sweep.py, run by fork/exec so that paths pass
// through untouched.
#include "sim/dse/plot.h"
#include "base/output.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <stdexcept>

#include "prune/errors.h"

namespace prunesim::dse {
namespace {

namespace fs = std::filesystem;

// Debian's python3-matplotlib lives under the system interpreter; the python3 first on PATH may
// be another one (pyenv, venv) without it.
constexpr const char* kPython = "/usr/bin/python3";

// Locates scripts/<name>: $PRUNESIM_SOURCE_DIR, the compile-time source folder, or the
// first ancestor of the executable's folder holding it (build trees live inside the source tree).
std::string find_plot_script(const std::string& name) {
  std::vector<fs::path> roots;
  if (const char* e = std::getenv("PRUNESIM_SOURCE_DIR")) roots.emplace_back(e);
#ifdef PRUNESIM_SOURCE_DIR
  roots.emplace_back(PRUNESIM_SOURCE_DIR);
#endif
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
      roots.push_back(p);
  for (const auto& r : roots)
    if (fs::is_regular_file(r / "scripts" / name)) return (r / "scripts" / name).string();
  return "";
}

// Runs argv (no shell: paths pass through untouched); returns the exit status (-1 if killed or
// not started). quiet sends the child's stdout/stderr to /dev/null.
int run_program(const std::vector<std::string>& args, bool quiet) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::cout.flush();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (quiet) {
      if (FILE* n = std::freopen("/dev/null", "w", stdout)) (void)n;
      if (FILE* n = std::freopen("/dev/null", "w", stderr)) (void)n;
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  track_child(pid);  // stopped with us on SIGINT/SIGTERM (base/output.h)
  int st = 0;
  const pid_t w = waitpid(pid, &st, 0);
  forget_child(pid);
  if (w < 0) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

std::string check_plot(const std::string& name) {
  const std::string script = find_plot_script(name);
  if (script.empty())
    throw InputError("--plot: scripts/" + name + " not found (set PRUNESIM_SOURCE_DIR)");
  if (::access(kPython, X_OK) != 0)
    throw InputError(std::string("--plot: ") + kPython +
                     " not found (install Debian's python3-matplotlib)");
  if (run_program({kPython, "-c", "import matplotlib"}, true) != 0)
    throw InputError(std::string("--plot: ") + kPython +
                     " lacks matplotlib (install Debian's python3-matplotlib)");
  return script;
}

void draw_plot(const std::string& script, const std::string& csv, const std::string& png,
               double min_fidelity, const std::string& title,
               const std::vector<std::string>& extra) {
  std::vector<std::string> cmd = {kPython, script, csv, png};
  cmd.insert(cmd.end(), extra.begin(), extra.end());
  if (!title.empty()) cmd.insert(cmd.end(), {"--title", title});
  if (!std::isnan(min_fidelity)) {
    char b[32];
    std::snprintf(b, sizeof b, "%.17g", min_fidelity);
    cmd.insert(cmd.end(), {"--min-fidelity", b});
  }
  const int rc = run_program(cmd, false);
  if (rc != 0)
    throw std::runtime_error("--plot: " + script + " exited with status " + std::to_string(rc) +
                             " (no output written)");
}

}  // namespace prunesim::dse
