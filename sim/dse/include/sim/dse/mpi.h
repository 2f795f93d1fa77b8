// Evaluations farmed over MPI ranks (OpenMPI through Boost.MPI): rank 0 runs the search and owns
// the population; every batch is broadcast, rank r evaluates the points k with k mod size == r,
// and rank 0 gathers them back into batch order. A point's figures depend only on its decision
// vector, so the search is the same at any rank count.
#pragma once

#include <memory>

#include "sim/dse/search.h"

namespace prunesim::dse {

// True when this process was started by mpirun / an MPI launcher (its environment says so);
// without one, prunesim never initialises MPI.
bool mpi_launched();

class MpiFarm {
 public:
  MpiFarm();   // initialises MPI
  ~MpiFarm();  // rank 0: releases the workers if stop() was not called; finalises MPI
  MpiFarm(const MpiFarm&) = delete;
  MpiFarm& operator=(const MpiFarm&) = delete;
  int rank() const;
  int size() const;
  // Rank 0: the batch function that farms over every rank (rank 0 takes its share).
  BatchFn batch(const Context& c, const Space& s);
  // Ranks > 0: evaluate the batches rank 0 broadcasts until it stops.
  void serve(const Context& c, const Space& s);
  // Rank 0: tells the workers to return from serve (idempotent).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace prunesim::dse
