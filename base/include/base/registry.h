// One registry for every swappable part (DESIGN.md habit 2): pruning schemes, weight-table
// encodings, architectures and CLI subcommands each keep a Registry<T> of instances by name. A
// part registers with a macro that also defines its name() (Registered<C>), so the name is
// written once; a second registration under one name is a bug and stops the program at start-up;
// the "unknown ... (known: ...)" error is built here for all of them.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "base/errors.h"

namespace prunesim {

template <class T>
class Registry {
 public:
  // `kind` names an entry in errors: "scheme", "encoding", "architecture", "subcommand".
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  // Takes `item` under item->name(); std::logic_error when that name is taken.
  const T& add(std::unique_ptr<T> item) {
    const std::string name = item->name();
    if (!items_.emplace(name, std::move(item)).second)
      throw std::logic_error(kind_ + " '" + name + "' is registered twice");
    return *items_.at(name);
  }
  const T* find(const std::string& name) const {
    auto it = items_.find(name);
    return it == items_.end() ? nullptr : it->second.get();
  }
  // find(name), or InputError "<where>: unknown <kind> '<name>' (known: a, b)".
  const T& get(const std::string& name, const std::string& where) const {
    if (const T* t = find(name)) return *t;
    throw InputError(unknown(name, where));
  }
  // The message get() throws, for callers that add to it.
  std::string unknown(const std::string& name, const std::string& where) const {
    return where + ": unknown " + kind_ + " '" + name + "' (known: " + known() + ")";
  }
  std::vector<std::string> names() const {  // sorted
    std::vector<std::string> r;
    for (const auto& kv : items_) r.push_back(kv.first);
    return r;
  }
  std::vector<const T*> items() const {  // in name order
    std::vector<const T*> r;
    for (const auto& kv : items_) r.push_back(kv.second.get());
    return r;
  }
  std::string known() const {  // "a, b, c"
    std::string r;
    for (const auto& kv : items_) r += (r.empty() ? "" : ", ") + kv.first;
    return r;
  }
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, std::unique_ptr<T>> items_;
};

// A registered part: C with name() returning the name it was registered under, so a part's
// class never spells its own name (C declares `std::string name() const` pure in its interface).
template <class C>
class Registered final : public C {
 public:
  explicit Registered(std::string name) : name_(std::move(name)) {}
  std::string name() const override { return name_; }

 private:
  std::string name_;
};

// Registers CLASS under NAME in the Registry<T>& returned by REGISTRY() at static
// initialisation (the libraries are linked whole, so the linker keeps every registration).
#define PRUNESIM_REGISTER_IN(REGISTRY, NAME, CLASS)                        \
  static const bool prunesim_registered_##CLASS = [] {                     \
    REGISTRY().add(std::make_unique<::prunesim::Registered<CLASS>>(NAME)); \
    return true;                                                           \
  }()

}  // namespace prunesim
