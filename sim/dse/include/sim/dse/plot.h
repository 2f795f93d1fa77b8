// The sweep plot: scripts/plot_sweep.py drawn by Debian's system python3 with matplotlib, run
// without a shell. check_plot fails before any work when the plot could not be drawn.
#pragma once

#include <string>
#include <vector>

namespace prunesim::dse {

// The path of scripts/<name> (plot_sweep.py: the sweep's, plot_search.py: the search's);
// InputError "--plot: ..." when the script, /usr/bin/python3 or its matplotlib is missing.
std::string check_plot(const std::string& name = "plot_sweep.py");
// Draws `png` from the sweep CSV `csv` with `script` (check_plot's); min_fidelity (NaN: none)
// becomes the plot's line; `title` names the sweep in the plot's title ("": the CSV's file name —
// pass the final name when `csv` is a temporary one); `extra` goes to the script as it is.
// std::runtime_error if the script fails.
void draw_plot(const std::string& script, const std::string& csv, const std::string& png,
               double min_fidelity, const std::string& title = "",
               const std::vector<std::string>& extra = {});

}  // namespace prunesim::dse
