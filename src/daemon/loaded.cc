#include "loaded.h"

#include <malloc.h>

#include <cstdlib>
#include <utility>

#include "understudy/zone/compile.h"

namespace understudy::daemon {

namespace {

// Returns the free memory of this thread's malloc arena, and every free page of the others, to
// the system. malloc_trim() alone is not enough on a worker thread: it gives back free pages
// inside each arena but shrinks only the main arena's top, and a reload's loader frees its
// records (several small blocks per name) into the top of the worker's own arena, where they
// would stay resident (measured: 18 MiB for 200,000 names). Freeing a block of at least 64 KiB
// is what makes glibc consolidate a thread arena and shrink its top (heap_trim).
void releaseFreedHeap() {
  void* volatile nudge = std::malloc(256 * 1024);  // volatile: the pair must stay
  std::free(nudge);
  malloc_trim(0);
}

}  // namespace

Loaded loadAll(const std::string& path, const char* yaml,
               std::shared_ptr<std::atomic<uint64_t>> freed) {
  Loaded out;
  auto cfg = std::make_shared<config::Config>(yaml ? config::loadString(yaml, "<demo config>")
                                                   : config::loadFile(path));
  zone::ServingOptions options = config::servingOptions(cfg->server);
  std::vector<Diagnostic> warnings;
  out.snapshot = zone::compile(cfg->zones, options, &warnings);
  out.warnings = cfg->warnings;
  out.warnings.insert(out.warnings.end(), warnings.begin(), warnings.end());
  // The compiled zones hold their own copy of every record; the loader's copy (several times
  // larger: strings and source locations per record) is not needed again. Give it back, and
  // return the freed heap to the system, so a big zone does not cost its size twice.
  for (auto& z : cfg->zones) std::vector<zone::Record>().swap(z.records);
  releaseFreedHeap();
  if (freed) {
    // The zones are released by whoever drops the last snapshot: usually a serving thread, at its
    // next packet after a reload. Count that moment; the control thread trims the heap after it
    // (trimTick), as glibc keeps freed memory in its arenas rather than giving it back.
    auto snapshot = std::make_shared<zone::Snapshot>(*out.snapshot);
    std::shared_ptr<const zone::ZoneSet> zones = std::move(snapshot->zone_set);
    const zone::ZoneSet* raw = zones.get();
    snapshot->zone_set = std::shared_ptr<const zone::ZoneSet>(
        raw, [zones = std::move(zones), freed = std::move(freed)](const zone::ZoneSet*) mutable {
          zones.reset();
          freed->fetch_add(1);
        });
    out.snapshot = std::move(snapshot);
  }
  out.config = std::move(cfg);
  return out;
}

std::string summary(const zone::Snapshot& s) {
  return std::to_string(s.zones().size()) + (s.zones().size() == 1 ? " zone, " : " zones, ") +
         std::to_string(s.recordCount()) + " records";
}

}  // namespace understudy::daemon
