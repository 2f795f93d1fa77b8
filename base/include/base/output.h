// Outputs that appear whole or not at all, also when the run is interrupted.
//
// Every output is written under a temporary name in its own folder and renamed into place at the
// end. The temporary names and the child processes a command starts are recorded here, in
// storage a signal handler can read; on SIGINT or SIGTERM the handler removes every recorded
// temporary file, stops every recorded child (and waits for it, so none runs on) and ends the
// process with 128 + the signal's number — unless a training loop has asked to unwind on its own
// (cooperative mode: the handler then only sets the flag the loop checks between batches, after
// the same clean-up).
//
// A command with several outputs stages them in one OutputBatch and commits them together: the
// renames run with SIGINT/SIGTERM blocked, so a signal lands before the first rename (nothing
// written) or after the last (everything written).
#pragma once

#include <sys/types.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace prunesim {

// Thrown where a cooperative loop (training) or a commit finds that SIGINT/SIGTERM arrived; the
// CLI turns it into one line and exit code 128 + the signal's number.
class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

// Installs the SIGINT/SIGTERM handler (idempotent). The CLI calls it at start-up.
void install_output_guard();
// Cooperative mode for loops that unwind themselves (training): the handler cleans up and sets the
// flag; interrupt_requested() reports it.
void set_cooperative_interrupt(bool on);
bool interrupt_requested();
// The signal that interrupted the run (SIGINT or SIGTERM), 0 if none.
int interrupt_signal();

// Records a temporary file the handler must remove (returns a slot for forget_temp) / a child
// process it must stop. Fixed-size, signal-safe tables; paths longer than 4095 bytes are refused.
int track_temp(const std::string& path);
void forget_temp(int slot);
// A scratch folder (a Verilator build, a yosys run): on a signal the handler removes it whole
// (with /bin/rm -rf, started by fork and exec, which a signal handler may call).
int track_temp_dir(const std::string& path);
// group: the child leads a process group of its own, and the handler stops the whole group
// (a shell and the compiler it started).
void track_child(pid_t pid, bool group = false);
void forget_child(pid_t pid);

// std::system(cmd) for tools prunesim starts (Verilator, yosys, ABC): /bin/sh -c cmd in a process
// group of its own, tracked, so that SIGINT/SIGTERM to prunesim stop it and everything it
// started. Returns the exit status, -1 if it was killed or could not start.
int run_shell(const std::string& cmd);

// A unique temporary name beside `path` ("<path>.tmp.<pid>.<random>", same folder so that the
// rename is atomic), already tracked.
struct TempFile {
  std::string path;
  int slot = -1;
};
TempFile make_temp(const std::string& path);
// Removes the file and its record (no error if it is gone).
void discard_temp(TempFile& t);

// Test hook: with PRUNESIM_TEST_STALL_COMMIT_MS=N in the environment, a commit sleeps N ms after
// its outputs are staged and before it renames them, so a test can deliver a signal in that window.
void test_stall_before_commit();

// Several outputs staged to temporary files and renamed into place together.
class OutputBatch {
 public:
  OutputBatch() = default;
  OutputBatch(const OutputBatch&) = delete;
  OutputBatch& operator=(const OutputBatch&) = delete;
  ~OutputBatch();  // an uncommitted batch removes its temporary files

  // Writes `contents` to a temporary file beside `path` now (InputError naming `path` on failure);
  // returns the temporary's name (readable until the commit).
  std::string stage(const std::string& path, const std::string& contents);
  // A temporary name beside `path` for a writer that produces the file itself (a VCD tracer, an
  // external plot script); committed like a staged file, skipped if it was never created.
  std::string stage_external(const std::string& path);
  // Renames every staged file into place with the signals blocked; Interrupted (nothing renamed)
  // when a signal already arrived in cooperative mode.
  void commit();
  bool empty() const { return staged_.empty(); }

 private:
  struct Staged {
    std::string target;
    TempFile tmp;
    bool external = false;
  };
  std::vector<Staged> staged_;
};

}  // namespace prunesim
