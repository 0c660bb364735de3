// The whole answer path, bytes in -> bytes out, over UDP and TCP, against answer_fixture.yaml.
// Beyond "no crash, no sanitizer report", every response must:
//   - parse (ldns_wire2pkt), be a response (QR) with the query's ID and opcode;
//   - echo the question exactly (name with its case, type, class) when the query had one;
//   - respect the size limit: 512 without EDNS, min(max(EDNS size, 512), edns_udp_size) with
//     (RFC 6891 §6.2.5), 65535 over TCP;
//   - be produced only for queries: a message shorter than a header or with QR=1 gets nothing.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "fixture.h"
#include "understudy/dns/message.h"
#include "understudy/dns/types.h"
#include "understudy/query/answer.h"

// Last: ldns's headers define macros (bool, __is_signed users) that break C++ headers after them.
#include <ldns/ldns.h>

using namespace understudy;

namespace {

[[noreturn]] void fail(const char* what, size_t n) {
  std::fprintf(stderr, "answer_fuzzer: %s (response %zu bytes)\n", what, n);
  std::abort();
}

void check(std::span<const uint8_t> request, const zone::Snapshot* snapshot,
           query::Transport transport) {
  static std::vector<uint8_t> out(query::kMaxResponseSize);
  query::AnswerInfo info;
  size_t n = query::answer(request, snapshot, transport, out, &info);

  dns::Query q;
  dns::ParseStatus status = dns::parseQuery(request, q);
  bool is_query = request.size() >= dns::kHeaderSize && (request[2] & 0x80) == 0;
  if (n == 0) {
    if (status != dns::ParseStatus::kDrop) fail("a parsable query was dropped", n);
    return;
  }
  if (!is_query) fail("answered a response or a runt", n);
  if (n < dns::kHeaderSize || n > out.size()) fail("response size out of range", n);

  size_t limit = dns::kMaxMessageSize;
  if (transport == query::Transport::kUdp) {
    limit = dns::kClassicUdpSize;
    if (status == dns::ParseStatus::kOk && q.has_edns) {
      size_t ours = snapshot ? snapshot->options.edns_udp_size : 1232;
      limit = std::min(std::max<size_t>(q.edns_udp_size, dns::kClassicUdpSize),
                       std::max<size_t>(ours, dns::kClassicUdpSize));
    }
  }
  if (n > limit) fail("response larger than the transport allows", n);

  if (dns::readU16(out.data()) != dns::readU16(request.data())) fail("ID differs", n);
  if ((out[2] & 0x80) == 0) fail("QR not set", n);
  if (((out[2] >> 3) & 0xf) != ((request[2] >> 3) & 0xf)) fail("opcode not echoed", n);

  uint16_t qd = dns::readU16(out.data() + 4);
  if (status == dns::ParseStatus::kOk && qd != 1) fail("question missing from the answer", n);
  if (qd > 1) fail("more than one question", n);
  if (qd == 1) {
    if (q.qname_len == 0) fail("a question echoed that the query did not have", n);
    size_t end = dns::kHeaderSize + q.qname_len;
    if (end + 4 > n) fail("question cut short", n);
    if (std::memcmp(out.data() + dns::kHeaderSize, q.qname, q.qname_len) != 0)
      fail("question name differs (or lost its case)", n);
    if (dns::readU16(out.data() + end) != q.qtype || dns::readU16(out.data() + end + 2) != q.qclass)
      fail("question type or class differs", n);
  }

  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, out.data(), n) != LDNS_STATUS_OK) fail("ldns cannot parse it", n);
  if (status == dns::ParseStatus::kOk && q.has_edns && !ldns_pkt_edns(pkt))
    fail("EDNS query answered without OPT", n);
  ldns_pkt_free(pkt);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::shared_ptr<const zone::Snapshot> snapshot = fuzz::loadFixture();
  if (size > dns::kMaxMessageSize) return -1;
  std::span<const uint8_t> request(data, size);
  check(request, snapshot.get(), query::Transport::kUdp);
  check(request, snapshot.get(), query::Transport::kTcp);
  check(request, nullptr, query::Transport::kUdp);  // nothing loaded yet: REFUSED, same rules
  return 0;
}
