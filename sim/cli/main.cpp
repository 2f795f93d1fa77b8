#include "registry.h"

int main(int argc, char** argv) {
  return prunesim::cli::run_cli(argc, argv);
}
