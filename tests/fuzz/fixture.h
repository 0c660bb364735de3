// The snapshot the answer-path fuzzers query: answer_fixture.yaml, compiled once per process,
// with the pooled records' rendered slots filled in by hand (one answering, one SERVFAIL, one
// NODATA) as the failover controller would publish them.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "understudy/common/diagnostic.h"
#include "understudy/config/config.h"
#include "understudy/zone/compile.h"
#include "understudy/zone/snapshot.h"

namespace understudy::fuzz {

inline std::shared_ptr<const zone::Snapshot> loadFixture() {
  std::string path = std::string(UNDERSTUDY_FUZZ_DIR) + "/answer_fixture.yaml";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  try {
    config::Config cfg = config::loadString(text.str(), path, UNDERSTUDY_FUZZ_DIR);
    zone::ServingOptions options = config::servingOptions(cfg.server);
    auto compiled = zone::compile(cfg.zones, options);
    auto snapshot = std::make_shared<zone::Snapshot>(*compiled);
    for (size_t i = 0; i < cfg.pool_records.size(); ++i) {
      // The slot zone::compile gave pooled record i (failover::BindingTable reads it the same).
      const int32_t slot = snapshot->zone_set->pooled.at(i).slot;
      zone::RenderedRrset& d = snapshot->rendered.at(static_cast<size_t>(slot));
      d.rrset.type = cfg.pool_records[i].type;
      d.rrset.ttl = cfg.pool_records[i].ttl;
      switch (i % 3) {
        case 0:
          d.mode = zone::RenderedRrset::Mode::kAnswer;
          d.add(d.rrset.type == 1 ? std::string("\xc0\x00\x02\x0a", 4)
                                  : std::string(15, '\x20') + '\x10');
          break;
        case 1:
          d.mode = zone::RenderedRrset::Mode::kServFail;
          break;
        default:
          d.mode = zone::RenderedRrset::Mode::kNoData;
          break;
      }
    }
    return snapshot;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "fixture %s: %s\n", path.c_str(), e.what());
    std::abort();
  }
}

}  // namespace understudy::fuzz
