// Configuration in two layers (DESIGN.md habit 3): raw user input (a JSON file, --set k=v) is
// checked against an architecture's ParamSpecs and resolved into ParamValues with defaults.
// Unknown keys, wrong types and out-of-range values are InputErrors naming the key and where it
// came from.
#pragma once

#include <string>
#include <vector>

#include "models/params.h"

namespace prunesim {

// Applies, in order: defaults, the JSON object in config_file (if not empty; keys are parameter
// names, values numbers/bools/strings), then each "key=value" of sets. Errors:
// "<file>: key 'x': unknown parameter of <arch>" / "--set pe_count=0: pe_count must be in [1,
// 1024]".
ParamValues resolve_params(const std::string& arch, const std::vector<ParamSpec>& specs,
                           const std::string& config_file, const std::vector<std::string>& sets);

// One value from text (a --set right-hand side): validated and converted to the spec's type.
// `where` names it in errors.
nlohmann::json parse_param_value(const ParamSpec& spec, const std::string& text,
                                 const std::string& where);
// Validates a JSON value against spec (type and range); returns it converted.
nlohmann::json check_param_value(const ParamSpec& spec, const nlohmann::json& v,
                                 const std::string& where);

// `config --dump`: a table of name, type, default, unit, range/choices, meaning (and source).
std::string dump_params_table(const std::string& arch, const std::vector<ParamSpec>& specs);
nlohmann::json dump_params_json(const std::string& arch, const std::vector<ParamSpec>& specs);

}  // namespace prunesim
