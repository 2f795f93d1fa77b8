// Fork-and-pipe isolation of one SystemC simulation (SystemC elaborates once per process).
// The child writes a status byte and its payload to a pipe and leaves with _exit so nothing of
// the parent's state (buffered streams, atexit handlers) runs twice.
#include "models/isolate.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "base/output.h"
#include "prune/errors.h"

namespace prunesim {
namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace

std::string run_isolated(const std::function<std::string()>& fn) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("run_isolated: pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("run_isolated: fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    char status = 'O';
    std::string payload;
    try {
      payload = fn();
    } catch (const InputError& e) {
      status = 'I';
      payload = e.what();
    } catch (const std::exception& e) {
      status = 'E';
      payload = e.what();
    }
    write_all(fds[1], std::string(1, status) + payload);
    ::close(fds[1]);
    ::_exit(0);
  }
  // A signal to this process stops the simulation too (and waits for it): no child runs on.
  track_child(pid);
  ::close(fds[1]);
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  forget_child(pid);
  if (data.empty())
    throw std::runtime_error("run_isolated: the simulation process died (status " +
                             std::to_string(st) + ")");
  const std::string payload = data.substr(1);
  if (data[0] == 'I') throw InputError(payload);
  if (data[0] == 'E') throw std::runtime_error(payload);
  return payload;
}

}  // namespace prunesim
