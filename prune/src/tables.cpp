// The registry of weight-table encodings (one .cpp each in prune/src/encodings/, registered by
// name and by the id written into files). The writer, the reader and the byte I/O are
// tables_writer.cpp, tables_reader.cpp and byte_io.{h,cpp}.
#include "prune/tables.h"

#include <map>
#include <memory>
#include <stdexcept>

namespace prunesim {

// ---------------------------------------------------------------------------------- registry
namespace {
struct Registry {
  std::map<std::string, std::unique_ptr<Encoding>> by_name;
  std::map<uint8_t, const Encoding*> by_id;
};
Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace

EncodingRegistrar::EncodingRegistrar(const std::string& name, EncodingFactory f) {
  auto e = f();
  Registry& r = registry();
  // Ids are written into files: two encodings with one id would make old files ambiguous.
  if (r.by_id.count(e->id()) || r.by_name.count(name))
    throw std::logic_error("weight-table encoding '" + name + "' or its id " +
                           std::to_string(e->id()) + " is registered twice");
  r.by_id[e->id()] = e.get();
  r.by_name[name] = std::move(e);
}

const Encoding* find_encoding(const std::string& name) {
  auto it = registry().by_name.find(name);
  return it == registry().by_name.end() ? nullptr : it->second.get();
}

const Encoding* find_encoding(uint8_t id) {
  auto it = registry().by_id.find(id);
  return it == registry().by_id.end() ? nullptr : it->second;
}

std::vector<std::string> encoding_names() {
  std::vector<std::string> r;
  for (const auto& kv : registry().by_id) r.push_back(kv.second->name());
  return r;
}

std::vector<std::string> table_targets() {
  return {"", "raman"};
}

}  // namespace prunesim
