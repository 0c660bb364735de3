// The UDP query path must not allocate (DESIGN.md). This replaces the global allocator of the
// unit_query binary with a counting one and answers a mix of queries inside a counted window.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "../support/zone_builder.h"
#include "understudy/query/answer.h"

namespace {
std::atomic<long> g_allocations{0};
}

// None of the replacements is inlined: where GCC sees malloc() in an inlined new beside a delete
// (or the other way round) it warns of a mismatched pair, at -O3 even through a noinline delete.
__attribute__((noinline)) void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
__attribute__((noinline)) void operator delete(void* p) noexcept {
  std::free(p);
}
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace understudy::query {
namespace {

std::vector<uint8_t> makeQuery(const std::string& wire_name, uint16_t qtype, bool edns,
                               uint16_t qclass = 1, bool nsid = false) {
  std::string q = std::string("\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00", 11);
  q += static_cast<char>(edns ? 1 : 0);
  q += wire_name;
  q += static_cast<char>(qtype >> 8);
  q += static_cast<char>(qtype & 0xff);
  q += static_cast<char>(qclass >> 8);
  q += static_cast<char>(qclass & 0xff);
  if (edns && nsid) {
    q += std::string("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x04\x00\x03\x00\x00", 15);
  } else if (edns) {
    q += std::string("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 11);
  }
  return std::vector<uint8_t>(q.begin(), q.end());
}

TEST(NoAllocation, UdpAnswerPathAllocatesNothing) {
  using std::string_literals::operator""s;
  zone::ServingOptions options;
  options.setIdentity("ns-noalloc-1");
  options.setVersion("understudy test");
  auto snapshot = test::snapshotFromText("example.test", R"(
@       NS    ns1
ns1     A     192.0.2.53
www     A     192.0.2.1
alias   CNAME www
*.wild  A     192.0.2.9
sub     NS    ns.sub
ns.sub  A     192.0.2.10
old     DNAME example.test.
long    DNAME lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll.lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll.lllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllll.example.test.
)",
                                         options);
  // 64 octets below "long": rewritten, 270 octets (YXDOMAIN).
  std::string overflowing(1, 63);
  overflowing.append(63, 'q');
  overflowing += "\4long\7example\4test\0"s;
  std::vector<std::vector<uint8_t>> queries = {
      makeQuery("\3www\7example\4test\0"s, 1, true),
      makeQuery("\3WWW\7example\4test\0"s, 28, false),
      makeQuery("\5alias\7example\4test\0"s, 1, true),
      makeQuery("\1x\4wild\7example\4test\0"s, 1, true),
      makeQuery("\4nope\7example\4test\0"s, 1, true),
      makeQuery("\1a\3sub\7example\4test\0"s, 1, true),
      makeQuery("\7example\4test\0"s, 2, true),
      makeQuery("\3www\7example\3com\0"s, 1, true),
      // DNAME: synthesis, the chain followed on (www.old -> www), and YXDOMAIN.
      makeQuery("\3www\3old\7example\4test\0"s, 1, true),
      makeQuery("\5alias\3OLD\7example\4test\0"s, 1, false),
      makeQuery(overflowing, 1, true),
      // The NSID, and CHAOS identity and version (class 3).
      makeQuery("\3www\7example\4test\0"s, 1, true, 1, /*nsid=*/true),
      makeQuery("\2id\6server\0"s, 16, true, 3, /*nsid=*/true),
      makeQuery("\7VERSION\4bind\0"s, 16, false, 3),
  };
  std::vector<uint8_t> out(kMaxResponseSize);
  long before = g_allocations.load();
  size_t answered = 0;
  for (int round = 0; round < 100; ++round) {
    for (const auto& q : queries) {
      answered += answer(q, snapshot.get(), Transport::kUdp, out) > 0;
    }
  }
  long after = g_allocations.load();
  EXPECT_EQ(answered, 100 * queries.size());
  EXPECT_EQ(after - before, 0) << "heap allocations on the answer path";
  // The DNAME queries took the paths they are here for: DNAME + CNAME + A, and YXDOMAIN.
  ASSERT_GT(answer(queries[8], snapshot.get(), Transport::kUdp, out), 12u);
  EXPECT_EQ(out[7], 3) << "ANCOUNT of www.old.example.test A";
  ASSERT_GT(answer(queries[10], snapshot.get(), Transport::kUdp, out), 12u);
  EXPECT_EQ(out[3] & 0xf, 6) << "YXDOMAIN";
  // And the identity ones theirs: the OPT grew by the NSID option, CHAOS answered.
  size_t plain = answer(queries[0], snapshot.get(), Transport::kUdp, out);
  size_t with_nsid = answer(queries[11], snapshot.get(), Transport::kUdp, out);
  EXPECT_EQ(with_nsid, plain + 4 + 12);
  ASSERT_GT(answer(queries[12], snapshot.get(), Transport::kUdp, out), 12u);
  EXPECT_EQ(out[3] & 0xf, 0) << "id.server CH TXT";
  EXPECT_EQ(out[7], 1) << "ANCOUNT of id.server CH TXT";
}

}  // namespace
}  // namespace understudy::query
