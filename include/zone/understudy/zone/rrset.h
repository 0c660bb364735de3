// An RRset as a zone stores it (its RDATA in the zone's arena, or rendered per publish) and as
// rendered per publish (owning its RDATA).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "understudy/zone/rdata_list.h"

namespace understudy::zone {

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

}  // namespace understudy::zone
