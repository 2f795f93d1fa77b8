// NumPy .npy reading and writing (format 1.0/2.0/3.0, C order, little-endian; dtypes float32,
// float64 and bool on read, int8, uint8, int32, int64). Anything else is an InputError naming the
// file and the header field.
#pragma once

#include <map>
#include <string>

#include "prune/ir.h"

namespace prunesim {

// Float dtypes land in Tensor::f; integer dtypes in Tensor::i (with dtype set accordingly).
Tensor load_npy(const std::string& path);
// Integer tensors loaded as float (values converted), for data/labels convenience.
Tensor load_npy_as_float(const std::string& path);
// Writes t in its dtype (F32 from f; I8/U8/I32/I64 from i). Atomic.
void save_npy(const Tensor& t, const std::string& path);
std::string npy_bytes(const Tensor& t);

}  // namespace prunesim

namespace prunesim {

// NumPy .npz (a zip of .npy members, stored or deflated — np.savez and np.savez_compressed).
// Keys are the member names without ".npy". InputError naming the file and member on any fault.
std::map<std::string, Tensor> load_npz(const std::string& path);
// The same from the archive's bytes (`path` names it in errors).
std::map<std::string, Tensor> parse_npz(const std::string& bytes, const std::string& path);
// An .npy image already in memory; `source` names it in errors.
Tensor parse_npy(const std::string& bytes, const std::string& source);

}  // namespace prunesim
