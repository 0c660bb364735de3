// Counting what the YAML aliases of a configuration stand for, before anything is built from it
// (private to src/config).
#pragma once

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace understudy::config::detail {

// How many nodes the YAML aliases of one configuration (all its files together) may stand for.
// yaml-cpp shares an aliased node instead of copying it, so parsing stays cheap, but the loader
// walks every alias as if it were written out: nine levels of ten aliases ("billion laughs") turn
// a page of YAML into 10^9 nodes, and a 35 KB file took 10 s and 1.4 GB. At the limit, the worst
// case (each node an address in a `values` list: one record each) loads in about a second; a
// shared record list of ten records can still be used by 2,500 zones.
inline constexpr uint64_t kMaxAliasNodes = 250000;

// Counts, in one pass over the parser's events and without building anything, how many nodes
// each alias stands for: the size of the anchored node with the aliases inside it expanded.
// Finds the alias that takes the total past the budget. Only the first document is looked at,
// as YAML::Load reads only the first.
class AliasCounter : public YAML::EventHandler {
 public:
  explicit AliasCounter(uint64_t budget) : budget_(budget) {}

  uint64_t used() const { return used_; }
  // The alias that went over the budget, and its name.
  const std::optional<YAML::Mark>& over() const { return over_; }
  const std::string& overName() const { return over_name_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override { leaf(anchor); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    leaf(anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    uint64_t size = anchor < sizes_.size() ? sizes_[anchor] : 1;
    used_ = saturatingAdd(used_, size);
    if (used_ > budget_ && !over_) {
      over_ = mark;
      if (anchor < names_.size()) over_name_ = names_[anchor];
    }
    add(size);
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(anchor);
  }
  void OnMapEnd() override { close(); }
  void OnAnchor(const YAML::Mark&, const std::string& name) override { pending_name_ = name; }

 private:
  struct Open {
    uint64_t size;
    YAML::anchor_t anchor;
  };
  static uint64_t saturatingAdd(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
  }
  void add(uint64_t size) {
    if (!open_.empty()) open_.back().size = saturatingAdd(open_.back().size, size);
  }
  void remember(YAML::anchor_t anchor, uint64_t size) {
    if (anchor == YAML::NullAnchor) return;
    if (sizes_.size() <= anchor) {
      sizes_.resize(anchor + 1, 1);
      names_.resize(anchor + 1);
    }
    sizes_[anchor] = size;
    names_[anchor] = std::move(pending_name_);
    pending_name_.clear();
  }
  void leaf(YAML::anchor_t anchor) {
    remember(anchor, 1);
    add(1);
  }
  void open(YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) remember(anchor, 1);  // the name, before the children's
    open_.push_back(Open{1, anchor});
  }
  void close() {
    if (open_.empty()) return;
    Open done = open_.back();
    open_.pop_back();
    if (done.anchor != YAML::NullAnchor) sizes_[done.anchor] = done.size;
    add(done.size);
  }

  uint64_t budget_;
  uint64_t used_ = 0;
  std::vector<Open> open_;
  std::vector<uint64_t> sizes_;     // by anchor id: the nodes an alias of it stands for
  std::vector<std::string> names_;  // by anchor id
  std::string pending_name_;
  std::optional<YAML::Mark> over_;
  std::string over_name_;
};

}  // namespace understudy::config::detail
