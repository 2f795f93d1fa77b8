#include "base/output.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "base/errors.h"

namespace prunesim {
namespace {

// Signal-safe records: the handler only reads these fixed arrays (a slot's path is written before
// its flag is set, and the flag cleared before the path is reused).
constexpr int kSlots = 128;
constexpr size_t kPathMax = 4096;
char g_temp_path[kSlots][kPathMax];
volatile sig_atomic_t g_temp_used[kSlots];
volatile pid_t g_child[kSlots];
volatile sig_atomic_t g_child_group[kSlots];
volatile sig_atomic_t g_cooperative = 0;
volatile sig_atomic_t g_interrupted = 0;  // the signal's number once one arrived
bool g_installed = false;

void write_stderr(const char* s) {
  const ssize_t r = ::write(2, s, std::strlen(s));
  (void)r;
}

extern "C" void on_interrupt(int sig) {
  // Children first (and waited for), so that none writes on after its temporary file is gone.
  for (int i = 0; i < kSlots; ++i)
    if (g_child[i] > 0) ::kill(g_child_group[i] ? -g_child[i] : g_child[i], SIGTERM);
  for (int i = 0; i < kSlots; ++i)
    if (g_child[i] > 0) ::waitpid(g_child[i], nullptr, 0);
  for (int i = 0; i < kSlots; ++i) {
    if (g_temp_used[i] == 1) ::unlink(g_temp_path[i]);
    if (g_temp_used[i] == 2) {
      // fork, execve and waitpid are async-signal-safe; a recursive removal here would not be.
      const pid_t rm = ::fork();
      if (rm == 0) {
        ::execl("/bin/rm", "rm", "-rf", g_temp_path[i], static_cast<char*>(nullptr));
        ::_exit(127);
      }
      if (rm > 0) ::waitpid(rm, nullptr, 0);
    }
  }
  if (g_cooperative) {
    g_interrupted = sig;
    return;
  }
  write_stderr(sig == SIGINT ? "prunesim: interrupted (SIGINT): temporary files removed\n"
                             : "prunesim: interrupted (SIGTERM): temporary files removed\n");
  ::_exit(128 + sig);
}

// SIGINT and SIGTERM held back while outputs are renamed into place.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &s, &old_);
  }
  ~SignalsBlocked() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

void write_to(const std::string& target, const std::string& tmp, const std::string& contents) {
  std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
  if (!f) fail(target, "", "cannot open for writing");
  f.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  f.flush();
  if (!f) fail(target, "", "write failed");
}

}  // namespace

void install_output_guard() {
  if (g_installed) return;
  g_installed = true;
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  // The other signal is held while the handler runs: one clean-up, not two interleaved.
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

void set_cooperative_interrupt(bool on) {
  install_output_guard();
  g_cooperative = on ? 1 : 0;
}
bool interrupt_requested() {
  return g_interrupted != 0;
}
int interrupt_signal() {
  return g_interrupted;
}

namespace {
int track(const std::string& path, sig_atomic_t kind) {
  if (path.size() >= kPathMax) fail(path, "", "path too long for a temporary file");
  SignalsBlocked hold;
  for (int i = 0; i < kSlots; ++i)
    if (!g_temp_used[i]) {
      std::memcpy(g_temp_path[i], path.c_str(), path.size() + 1);
      g_temp_used[i] = kind;
      return i;
    }
  // More outputs in flight than slots: a bug, not bad input.
  throw std::runtime_error("track_temp: more than 128 temporary files at once");
}
}  // namespace

int track_temp(const std::string& path) {
  return track(path, 1);
}
int track_temp_dir(const std::string& path) {
  return track(path, 2);
}
void forget_temp(int slot) {
  if (slot >= 0 && slot < kSlots) g_temp_used[slot] = 0;
}
void track_child(pid_t pid, bool group) {
  SignalsBlocked hold;
  for (int i = 0; i < kSlots; ++i)
    if (g_child[i] <= 0) {
      g_child_group[i] = group ? 1 : 0;
      g_child[i] = pid;
      return;
    }
}

int run_shell(const std::string& cmd) {
  std::fflush(nullptr);
  // Tracked before it can run: the signal that arrives between fork and track_child would
  // otherwise miss it, so both are done with the signals held (the child restores its mask).
  SignalsBlocked hold;
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    ::setpgid(0, 0);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    ::sigaction(SIGINT, &dfl, nullptr);
    ::sigaction(SIGTERM, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: the group exists before the first kill, whoever runs first
  track_child(pid, true);
  int st = 0;
  {
    // The wait with signals deliverable again (a signal's handler then stops the group).
    sigset_t none;
    sigemptyset(&none);
    sigset_t old;
    ::pthread_sigmask(SIG_SETMASK, &none, &old);
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  forget_child(pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
void forget_child(pid_t pid) {
  for (int i = 0; i < kSlots; ++i)
    if (g_child[i] == pid) g_child[i] = 0;
}

TempFile make_temp(const std::string& path) {
  TempFile t;
  // "<stem>.tmp.<pid>.<random><ext>": the extension stays last, for writers that insist on it
  // (SystemC's VCD tracer appends ".vcd" to the name it is given).
  const size_t slash = path.find_last_of('/');
  const size_t dot = path.find_last_of('.');
  const bool has_ext =
      dot != std::string::npos && dot > 0 && (slash == std::string::npos || dot > slash + 1);
  const std::string stem = has_ext ? path.substr(0, dot) : path;
  const std::string ext = has_ext ? path.substr(dot) : "";
  t.path = stem + ".tmp." + std::to_string(::getpid()) + "." +
           std::to_string(std::random_device{}()) + ext;
  t.slot = track_temp(t.path);
  return t;
}
void discard_temp(TempFile& t) {
  if (t.path.empty()) return;
  std::remove(t.path.c_str());
  forget_temp(t.slot);
  t.slot = -1;
}

void test_stall_before_commit() {
  static const long ms = [] {
    const char* v = std::getenv("PRUNESIM_TEST_STALL_COMMIT_MS");
    return v ? std::strtol(v, nullptr, 10) : 0L;
  }();
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void write_file_atomic(const std::string& path, const std::string& contents) {
  OutputBatch b;
  b.stage(path, contents);
  b.commit();
}

void write_files_atomic(const std::vector<std::pair<std::string, std::string>>& files) {
  OutputBatch b;
  for (const auto& [path, contents] : files) b.stage(path, contents);
  b.commit();
}

OutputBatch::~OutputBatch() {
  for (auto& s : staged_) discard_temp(s.tmp);
}

std::string OutputBatch::stage(const std::string& path, const std::string& contents) {
  Staged s{path, make_temp(path), false};
  try {
    write_to(path, s.tmp.path, contents);
  } catch (...) {
    discard_temp(s.tmp);
    throw;
  }
  staged_.push_back(std::move(s));
  return staged_.back().tmp.path;
}

std::string OutputBatch::stage_external(const std::string& path) {
  staged_.push_back({path, make_temp(path), true});
  return staged_.back().tmp.path;
}

void OutputBatch::commit() {
  test_stall_before_commit();
  SignalsBlocked hold;
  // In cooperative mode the handler removed the staged files and returned: nothing to rename.
  if (interrupt_requested()) throw Interrupted();
  for (auto& s : staged_) {
    if (s.external && ::access(s.tmp.path.c_str(), F_OK) != 0) {
      forget_temp(s.tmp.slot);
      s.tmp.path.clear();
      continue;
    }
    if (std::rename(s.tmp.path.c_str(), s.target.c_str()) != 0)
      fail(s.target, "", "cannot rename temporary file into place");
    forget_temp(s.tmp.slot);
    s.tmp.path.clear();
  }
  staged_.clear();
}

}  // namespace prunesim
