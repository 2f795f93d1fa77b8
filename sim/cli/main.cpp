#include "registry.h"

int main(int argc, char** argv) {
  return prunesim::cli::run_cli(argc, argv);
}

// libsystemc.so carries its own main() that calls sc_main; ours takes precedence, but the
// library's reference must still resolve. SystemC simulations start with sc_start() from the
// models (run in a child process where a program needs several).
extern "C" int sc_main(int, char**) {
  return 0;
}
