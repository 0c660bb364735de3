// The immutable, query-ready form of every served zone (DESIGN.md "The data"). Built once per
// config (or health change), published through SnapshotHolder, only read by serving threads.
//
// Memory layout: a zone is a handful of flat arrays, not a node-per-allocation map, so a
// million-name zone costs about 180 bytes a name and one hash probe finds a name:
//   nodes_   every name (owners and empty non-terminals), each pointing into
//   names_   their owner names (wire format, case as configured),
//   rrsets_  their RRsets, sorted by type within a node, each pointing into
//   rdata_   packed RDATA: [2-byte length][RDATA] per record, in configuration order;
//   index_   an open-addressing hash table over the lowercased owner names.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace understudy::zone {

// The records of one RRset: a read-only view of packed [u16 length][RDATA] entries.
class RdataList {
 public:
  class iterator {
   public:
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(const uint8_t* p) : p_(p) {}
    std::string_view operator*() const noexcept {
      return std::string_view(reinterpret_cast<const char*>(p_ + 2), length());
    }
    iterator& operator++() noexcept {
      p_ += 2 + length();
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const noexcept { return p_ == o.p_; }

   private:
    size_t length() const noexcept { return static_cast<size_t>(p_[0] << 8 | p_[1]); }
    const uint8_t* p_ = nullptr;
  };

  RdataList() = default;
  RdataList(const uint8_t* data, uint32_t bytes, uint32_t count) noexcept
      : data_(data), bytes_(bytes), count_(count) {}

  size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  iterator begin() const noexcept { return iterator(data_); }
  iterator end() const noexcept { return iterator(data_ + bytes_); }
  std::string_view front() const noexcept { return *begin(); }
  // Linear: for tests and diagnostics, not the query path.
  std::string_view operator[](size_t i) const noexcept;
  std::vector<std::string> strings() const;
  const uint8_t* data() const noexcept { return data_; }
  uint32_t bytes() const noexcept { return bytes_; }

 private:
  const uint8_t* data_ = nullptr;
  uint32_t bytes_ = 0;
  uint32_t count_ = 0;
};

// Appends one record to a packed RDATA buffer (RDATA is at most 65535 octets by construction).
void appendPacked(std::string& packed, std::string_view rdata);

struct Rrset {
  uint16_t type = 0;
  uint32_t ttl = 0;
  RdataList rdatas;   // points into the zone's arena, or into a RenderedRrset
  int32_t slot = -1;  // -1: static; else its content is rendered per publish: Snapshot::rendered
};

// The content of a rendered slot: a pooled RRset as the failover controller decided it, or the SOA
// of a `serial: auto` zone with the serial of the last publish. Owns its RDATA.
struct RenderedRrset {
  enum class Mode : uint8_t {
    kAnswer,    // serve `rrset`
    kNoData,    // behave as if the RRset did not exist (NODATA)
    kServFail,  // answer SERVFAIL (when_all_down: servfail)
  };
  Mode mode = Mode::kNoData;
  Rrset rrset;  // type and ttl are set directly; rdatas through add() and assign()

  RenderedRrset() = default;
  RenderedRrset(const RenderedRrset& o) : mode(o.mode), rrset(o.rrset), packed_(o.packed_) {
    repoint();
  }
  RenderedRrset(RenderedRrset&& o) noexcept
      : mode(o.mode), rrset(o.rrset), packed_(std::move(o.packed_)) {
    repoint();
  }
  RenderedRrset& operator=(const RenderedRrset& o) {
    if (this != &o) {
      mode = o.mode;
      rrset = o.rrset;
      packed_ = o.packed_;
      repoint();
    }
    return *this;
  }
  RenderedRrset& operator=(RenderedRrset&& o) noexcept {
    mode = o.mode;
    rrset = o.rrset;
    packed_ = std::move(o.packed_);
    repoint();
    return *this;
  }

  void add(std::string_view rdata) {
    appendPacked(packed_, rdata);
    rrset.rdatas = RdataList(nullptr, 0, static_cast<uint32_t>(rrset.rdatas.size() + 1));
    repoint();
  }
  // A copy of `from` (type, TTL and RDATA), static (slot = -1).
  void assign(const Rrset& from) {
    packed_.assign(reinterpret_cast<const char*>(from.rdatas.data()), from.rdatas.bytes());
    rrset.type = from.type;
    rrset.ttl = from.ttl;
    rrset.slot = -1;
    rrset.rdatas = RdataList(nullptr, 0, static_cast<uint32_t>(from.rdatas.size()));
    repoint();
  }
  // The bytes of the first record, writable (the controller stamps the SOA serial there).
  std::span<char> firstRdata() noexcept {
    if (rrset.rdatas.empty()) return {};
    return std::span<char>(packed_.data() + 2, rrset.rdatas.front().size());
  }

 private:
  void repoint() noexcept {
    rrset.rdatas = RdataList(reinterpret_cast<const uint8_t*>(packed_.data()),
                             static_cast<uint32_t>(packed_.size()),
                             static_cast<uint32_t>(rrset.rdatas.size()));
  }
  std::string packed_;
};

struct Node {
  std::string_view owner;          // wire format, case as configured
  std::span<const Rrset> rrsets;   // sorted by type; empty for an empty non-terminal
  const Node* cut = nullptr;       // delegation point at or above this node (never the apex)
  const Node* wildcard = nullptr;  // the "*.<this>" child, if there is one
  bool is_apex = false;

  const Rrset* find(uint16_t type) const noexcept {
    for (const auto& r : rrsets) {
      if (r.type == type) return &r;
      if (r.type > type) break;
    }
    return nullptr;
  }
  bool isDelegation() const noexcept { return cut == this; }
};

// Hash of a wire-format name (already lowercased by the caller when used as a key).
uint64_t hashName(std::string_view wire) noexcept;

// Open addressing over names: each slot holds the high 32 bits of the name's hash and the
// element's index + 1 (0 = empty). Capacity is a power of two, at least twice the element count.
class NameIndex {
 public:
  void reset(size_t expected);
  // The element whose lowercased name equals `lowered`, or -1. `nameOf(i)` gives element i's
  // name; `fold` says whether that name must be lowercased to compare.
  template <typename NameOf>
  int64_t find(std::string_view lowered, uint64_t hash, NameOf&& nameOf, bool fold) const noexcept;
  // Inserts element `index` (not checked for duplicates). Grows when over half full.
  template <typename NameOf>
  void insert(uint64_t hash, uint32_t index, NameOf&& nameOf);
  size_t memoryBytes() const noexcept { return slots_.capacity() * sizeof(uint64_t); }

 private:
  static bool sameName(std::string_view lowered, std::string_view stored, bool fold) noexcept;
  std::vector<uint64_t> slots_;
  size_t used_ = 0;
};

class ZoneBuilder;

class Zone {
 public:
  std::string origin;  // wire, lowercased
  const Node* apex = nullptr;
  const Rrset* soa = nullptr;
  uint32_t negative_ttl = 0;  // RFC 2308 §3: min(SOA TTL, SOA MINIMUM)
  int32_t serial_slot = -1;   // >= 0 with `serial: auto`: the SOA's rendered slot
  size_t record_count = 0;

  Zone() = default;
  Zone(const Zone&) = delete;
  Zone& operator=(const Zone&) = delete;

  // `lowered_name` must be lowercased wire format.
  const Node* find(std::string_view lowered_name) const noexcept {
    return find(lowered_name, hashName(lowered_name));
  }
  const Node* find(std::string_view lowered_name, uint64_t hash) const noexcept;
  std::span<const Node> nodes() const noexcept { return nodes_; }
  size_t memoryBytes() const noexcept;

 private:
  friend class ZoneBuilder;
  std::vector<Node> nodes_;
  std::vector<char> names_;
  std::vector<Rrset> rrsets_;
  std::vector<uint8_t> rdata_;
  NameIndex index_;
};

struct ServingOptions {
  uint16_t edns_udp_size = 1232;  // the most we send over UDP to an EDNS client
  // Wire forms built once per config, so a query only copies bytes. Empty: not configured.
  std::string nsid_option;   // RFC 5001: the whole EDNS option (code 3, length, identity)
  std::string identity_txt;  // RFC 4892: TXT RDATA for CH id.server. and hostname.bind.
  std::string version_txt;   // TXT RDATA for CH version.server. and version.bind.

  // `identity` and `version` are at most 255 octets (one TXT character-string); the config
  // loader allows 128.
  void setIdentity(std::string_view identity);
  void setVersion(std::string_view version);
};

// Every zone, immutable and shared between snapshots: a health change publishes a new Snapshot
// that points at the same ZoneSet with a new (small) table of rendered slots.
struct ZoneSet {
  std::vector<std::unique_ptr<Zone>> zones;
  struct OriginHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return hashName(s); }
  };
  std::unordered_map<std::string, const Zone*, OriginHash, std::equal_to<>> by_origin;
  // Where each pooled record (indexed by zone::PooledId) was placed: its rendered slot and its
  // zone (an index in `zones`). slot -1: no record of the sources named that PooledId.
  struct PooledSlot {
    int32_t slot = -1;
    uint32_t zone = 0;
  };
  std::vector<PooledSlot> pooled;
  size_t slot_count = 0;  // rendered slots: one per pooled RRset and per `serial: auto` zone

  // The zone with the longest origin that contains `lowered_name`, or nullptr.
  const Zone* findZone(std::string_view lowered_name) const noexcept;
  size_t recordCount() const noexcept;
};

struct Snapshot {
  std::shared_ptr<const ZoneSet> zone_set;
  std::vector<RenderedRrset> rendered;  // indexed by Rrset::slot
  ServingOptions options;

  const std::vector<std::unique_ptr<Zone>>& zones() const noexcept { return zone_set->zones; }
  const Zone* findZone(std::string_view lowered_name) const noexcept {
    return zone_set->findZone(lowered_name);
  }
  size_t recordCount() const noexcept { return zone_set->recordCount(); }

  // The SOA to serve for `zone` (its serial may be rendered per publish).
  const Rrset* soa(const Zone& zone) const noexcept {
    const Rrset* r = resolve(zone.soa);
    return r ? r : zone.soa;
  }

  // The content to serve for `rrset`: itself when static, else its rendered slot; nullptr when
  // the pooled RRset is currently empty (NODATA). `servfail` is set for kServFail.
  // `negative_ttl_cap` receives the pooled record's TTL when it is empty by rule (nodata), so
  // resolvers do not cache the empty answer longer than they would cache a failover answer.
  const Rrset* resolve(const Rrset* rrset, bool* servfail = nullptr,
                       uint32_t* negative_ttl_cap = nullptr) const noexcept {
    if (!rrset || rrset->slot < 0) return rrset;
    if (static_cast<size_t>(rrset->slot) >= rendered.size()) return nullptr;
    const RenderedRrset& d = rendered[rrset->slot];
    if (d.mode == RenderedRrset::Mode::kAnswer && !d.rrset.rdatas.empty()) return &d.rrset;
    if (d.mode == RenderedRrset::Mode::kServFail && servfail) *servfail = true;
    if (d.mode == RenderedRrset::Mode::kNoData && negative_ttl_cap) *negative_ttl_cap = d.rrset.ttl;
    return nullptr;
  }
};

// ---------------------------------------------------------------------------------------------

inline bool NameIndex::sameName(std::string_view lowered, std::string_view stored,
                                bool fold) noexcept {
  if (lowered.size() != stored.size()) return false;
  if (!fold) return std::memcmp(lowered.data(), stored.data(), lowered.size()) == 0;
  for (size_t i = 0; i < lowered.size(); ++i) {
    uint8_t c = static_cast<uint8_t>(stored[i]);
    if (c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c + 32);
    if (c != static_cast<uint8_t>(lowered[i])) return false;
  }
  return true;
}

template <typename NameOf>
int64_t NameIndex::find(std::string_view lowered, uint64_t hash, NameOf&& nameOf,
                        bool fold) const noexcept {
  if (slots_.empty()) return -1;
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = hash >> 32;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint64_t s = slots_[i];
    if (s == 0) return -1;
    if ((s >> 32) == tag) {
      uint32_t index = static_cast<uint32_t>(s) - 1;
      if (sameName(lowered, nameOf(index), fold)) return index;
    }
  }
}

template <typename NameOf>
void NameIndex::insert(uint64_t hash, uint32_t index, NameOf&& nameOf) {
  if ((used_ + 1) * 2 > slots_.size()) {
    std::vector<uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, 0);
    const size_t mask = slots_.size() - 1;
    for (uint64_t s : old) {
      if (s == 0) continue;
      // The low bits of the hash are not stored: recompute them from the element's name.
      uint64_t h = hashName(nameOf(static_cast<uint32_t>(s) - 1));
      size_t i = h & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = (hash >> 32) << 32 | (static_cast<uint64_t>(index) + 1);
  ++used_;
}

}  // namespace understudy::zone
