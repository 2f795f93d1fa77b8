// One stimulus format for a block in both languages: a table with one row per clock cycle and
// one column per block input (port name and width, clk excluded), stored as 64-bit words. The
// same rows drive the Verilated RTL and its SystemC twin (they share the input signals), and the
// text form lets an external testbench replay them. Generators make seeded constrained-random
// stimulus per block; the same seed always gives the same rows (no std:: distributions).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace prunesim::cosim {

struct Field {
  std::string name;
  int width = 1;  // bits
  int words() const { return (width + 63) / 64; }
};

class Stimulus {
 public:
  Stimulus() = default;
  Stimulus(std::string block, std::vector<Field> fields);

  const std::string& block() const { return block_; }
  const std::vector<Field>& fields() const { return fields_; }
  size_t cycles() const { return stride_ ? data_.size() / stride_ : 0; }
  // Index of the field named `name`; std::invalid_argument naming block and field if absent.
  size_t field(const std::string& name) const;

  void add_cycle();  // appends an all-zero row
  // Word `word` (bits [64*word, 64*word+63]) of field f at cycle c; bits above the field's width
  // are masked off on write.
  void set(size_t c, size_t f, uint64_t value, size_t word = 0);
  uint64_t get(size_t c, size_t f, size_t word = 0) const;
  const uint64_t* row(size_t c, size_t f) const { return &data_[c * stride_ + offset_[f]]; }

  // Text form: "# prunesim stimulus v1 <block>", "fields <name>:<width> ...", then one line per
  // cycle of hexadecimal field values (most significant digit first) in field order.
  void write(std::ostream& out) const;
  // InputError-style std::runtime_error "<source>: line N: ..." on malformed text.
  static Stimulus read(std::istream& in, const std::string& source);

  bool operator==(const Stimulus& o) const {
    return block_ == o.block_ && data_ == o.data_ && stride_ == o.stride_;
  }

 private:
  std::string block_;
  std::vector<Field> fields_;
  std::vector<size_t> offset_;  // first word of each field in a row
  size_t stride_ = 0;           // words per row
  std::vector<uint64_t> data_;
};

// Seeded constrained-random stimulus, `cycles` rows, for the blocks of rtl/raman/ (field lists
// equal the port lists; constraints in the .cpp and docs/raman.md "RTL blocks and ports").
Stimulus pe_stimulus(uint64_t seed, size_t cycles);
Stimulus requant_stimulus(uint64_t seed, size_t cycles);
Stimulus decoder_stimulus(uint64_t seed, size_t cycles);
Stimulus pe_array_stimulus(uint64_t seed, size_t cycles);
Stimulus act_mem_stimulus(uint64_t seed, size_t cycles);

}  // namespace prunesim::cosim
