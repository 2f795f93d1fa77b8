// Limits on what a file may make us do (docs/reliability.md): overflow-checked size arithmetic,
// one memory cap for any allocation a file's declared shape or length asks for, UTF-8 checks for
// names that will reach JSON, and the one JSON entry point for user files (nesting depth and
// number ranges checked). Every refusal is an InputError naming the file and the place.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace prunesim {

// a * b and a + b for non-negative operands; false (and *r untouched) on overflow or a negative
// operand, so a wrapped product can never pass a later comparison.
bool checked_mul(int64_t a, int64_t b, int64_t* r);
bool checked_add(int64_t a, int64_t b, int64_t* r);
// The element count of dims: false if a dimension is negative or the product overflows.
bool checked_numel(const std::vector<int64_t>& dims, int64_t* n);

// The largest allocation one declared shape or length may ask for, in bytes: the environment
// variable PRUNESIM_MAX_BYTES (bytes, or with a K/M/G suffix) or 4 GiB. A file on a 24 GiB
// machine must not be able to take it all.
uint64_t memory_cap_bytes();
// "4 GiB (PRUNESIM_MAX_BYTES)": the cap as printed in messages.
std::string memory_cap_text();
// InputError "<file>: <place>: <what> needs N bytes, more than the memory cap ..." unless
// elems * elem_bytes fits the cap (elems < 0 means the count itself overflowed).
void check_alloc(const std::string& file, const std::string& place, const std::string& what,
                 int64_t elems, uint64_t elem_bytes);
// The same for a shape: its element count is computed overflow-checked first.
void check_shape_alloc(const std::string& file, const std::string& place,
                       const std::vector<int64_t>& shape, uint64_t elem_bytes);

// True if s is well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
bool valid_utf8(const std::string& s);
// s with every byte that is not part of well-formed UTF-8 written as \xNN: safe for JSON and
// a terminal, and still tells two damaged names apart.
std::string utf8_escape(const std::string& s);

// Deepest nesting of arrays/objects accepted in a user JSON file (the parser and dump() recurse).
constexpr int kMaxJsonDepth = 64;
// Parses a user JSON file's text: syntax errors, nesting deeper than kMaxJsonDepth and numbers
// a double cannot hold (1e400) are InputErrors naming the file and the byte offset.
nlohmann::json parse_json_input(const std::string& text, const std::string& file);
// Reads and parses the file at path (an unreadable file is an InputError).
nlohmann::json load_json_input(const std::string& path);

}  // namespace prunesim
