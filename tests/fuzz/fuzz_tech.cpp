// Technology-table JSON text -> TechTable.
#include "base/limits.h"
#include "fuzz_common.h"
#include "sim/tech.h"

PRUNESIM_FUZZ_TARGET(prunesim::parse_tech_table(prunesim::parse_json_input(input, "fuzz.json"),
                                                "fuzz.json"))
