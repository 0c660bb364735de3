// The UDP serving loop must not allocate (DESIGN.md). This replaces the global allocator of the
// unit_server binary with one that counts the allocations made on the "udp-N" threads, and runs
// queries of every kind (answers, truncation, rate limiting, drops, a reload) through them.
#include <gtest/gtest.h>
#include <sys/prctl.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

#include "support.h"
#include "understudy/server/server.h"

namespace {
std::atomic<long> g_udp_thread_allocations{0};
int* volatile g_escape = nullptr;

bool onUdpThread() {
  char name[16] = "";
  ::prctl(PR_GET_NAME, name);
  return std::strncmp(name, "udp-", 4) == 0;
}
}  // namespace

// None of the replacements is inlined: where GCC sees malloc() in an inlined new beside a delete
// (or the other way round) it warns of a mismatched pair, at -O3 even through a noinline delete.
__attribute__((noinline)) void* operator new(size_t size) {
  if (onUdpThread()) g_udp_thread_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
__attribute__((noinline)) void operator delete(void* p) noexcept {
  std::free(p);
}
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace understudy::server {
namespace {

using namespace test;

TEST(NoAllocation, TheCounterSeesUdpThreads) {
  long before = g_udp_thread_allocations.load();
  std::thread t([] {
    ::prctl(PR_SET_NAME, "udp-probe");
    g_escape = new int(7);  // escapes: the pair cannot be optimized away
    delete g_escape;
  });
  t.join();
  EXPECT_EQ(g_udp_thread_allocations.load() - before, 1);
}

TEST(NoAllocation, UdpServingThreadsAllocateNothing) {
  zone::SnapshotHolder holder;
  holder.publish(testSnapshot());
  ServerOptions o;
  o.listen.push_back({"127.0.0.1", 0});
  o.threads = 2;
  o.rrl.enabled = true;
  o.rrl.responses_per_second = 5;
  Server server(o, holder);
  server.start();
  Endpoint to = parseEndpoint(server.bound()[0].address);
  std::vector<std::unique_ptr<UdpClient>> clients;
  for (int i = 0; i < 16; ++i) clients.push_back(std::make_unique<UdpClient>(AF_INET));
  auto round = [&](uint16_t base) {
    uint16_t id = base;
    for (auto& c : clients) {
      // Over the limit of 5 per second, most of these are dropped or slipped (truncated).
      for (const Bytes& q :
           {query("www.example.test", 1, ++id), query("www.old.example.test", 1, ++id),
            query("big.example.test", 16, ++id), query("big.example.test", 16, ++id, true),
            query("nope.example.test", 28, ++id), Bytes{1, 2, 3}}) {
        c->send(to, q);
      }
    }
    for (auto& c : clients) {
      while (c->receive(50ms)) {
      }
    }
  };
  round(0);  // warm-up: anything lazily set up on the first query
  long before = g_udp_thread_allocations.load();
  round(1000);
  holder.publish(testSnapshot("192.0.2.7"));  // the readers pick it up: no allocation either
  round(2000);
  // A reload that changes the rate-limiting settings: picked up the same way.
  RrlConfig stricter = o.rrl;
  stricter.responses_per_second = 3;
  server.setRrl(stricter);
  round(3000);
  long after = g_udp_thread_allocations.load();
  EXPECT_GT(answersOf(server.queryStats()->thread(0), query::Transport::kUdp) +
                answersOf(server.queryStats()->thread(1), query::Transport::kUdp),
            0u);
  EXPECT_EQ(after - before, 0) << "heap allocations on the UDP serving threads";
  server.stop();
}

}  // namespace
}  // namespace understudy::server
