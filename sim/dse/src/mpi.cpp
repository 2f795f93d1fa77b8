// The MPI farm (sim/dse/mpi.h). Batches and points travel as JSON text (point_state), which
// carries every double exactly, so a farmed point equals one evaluated in place.
#include "sim/dse/mpi.h"

#include <boost/mpi/collectives.hpp>
#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <cstdlib>
#include <string>

namespace prunesim::dse {

using nlohmann::json;

bool mpi_launched() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

struct MpiFarm::Impl {
  // abort_on_exception off: an InputError on rank 0 unwinds through here to its one-line message
  // and exit 2 (the workers were released by stop() in ~MpiFarm) instead of MPI_Abort.
  boost::mpi::environment env{boost::mpi::threading::single, false};
  boost::mpi::communicator world;
  bool stopped = false;
};

MpiFarm::MpiFarm() : impl_(std::make_unique<Impl>()) {}

MpiFarm::~MpiFarm() {
  try {
    stop();
  } catch (...) {
    // MPI already torn down (mpirun aborting): nothing left to release.
  }
}

int MpiFarm::rank() const {
  return impl_->world.rank();
}
int MpiFarm::size() const {
  return impl_->world.size();
}

namespace {

// Rank r's share of a batch: the points k with k mod size == r, as one JSON array.
std::string evaluate_share(const Context& c, const Space& s, const std::vector<Decision>& xs,
                           int rank, int size) {
  json out = json::array();
  for (size_t k = static_cast<size_t>(rank); k < xs.size(); k += static_cast<size_t>(size))
    out.push_back(point_state(evaluate(c, s, xs[k])));
  return out.dump();
}

}  // namespace

BatchFn MpiFarm::batch(const Context& c, const Space& s) {
  return [this, &c, &s](const std::vector<Decision>& xs) {
    auto& w = impl_->world;
    std::string msg = json(xs).dump();
    boost::mpi::broadcast(w, msg, 0);
    const std::string mine = evaluate_share(c, s, xs, 0, w.size());
    std::vector<std::string> parts;
    boost::mpi::gather(w, mine, parts, 0);
    std::vector<Point> out(xs.size());
    for (int r = 0; r < w.size(); ++r) {
      const json a = json::parse(parts[static_cast<size_t>(r)]);
      size_t k = static_cast<size_t>(r);
      for (const auto& j : a) {
        out[k] = point_from_state(j);
        k += static_cast<size_t>(w.size());
      }
    }
    return out;
  };
}

void MpiFarm::serve(const Context& c, const Space& s) {
  auto& w = impl_->world;
  for (;;) {
    std::string msg;
    boost::mpi::broadcast(w, msg, 0);
    if (msg.empty()) return;  // rank 0 is done
    const std::vector<Decision> xs = json::parse(msg).get<std::vector<Decision>>();
    const std::string mine = evaluate_share(c, s, xs, w.rank(), w.size());
    boost::mpi::gather(w, mine, 0);
  }
}

void MpiFarm::stop() {
  if (impl_->stopped || impl_->world.rank() != 0) return;
  impl_->stopped = true;
  if (impl_->world.size() > 1) {
    std::string none;
    boost::mpi::broadcast(impl_->world, none, 0);
  }
}

}  // namespace prunesim::dse
