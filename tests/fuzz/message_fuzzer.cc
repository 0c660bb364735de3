// The query parser (dns::parseQuery) and the name reader under it (dns::readName), with the
// invariants the answer path relies on:
//   - kOk means one question whose name is a valid wire name, its lowercase copy matches, and the
//     question ends inside the message;
//   - kFormErr / kNotImp carry a question only if it is a valid name;
//   - a name readName accepts is valid, and survives nameToText -> nameFromText unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "understudy/dns/message.h"
#include "understudy/dns/name.h"
#include "understudy/dns/types.h"

using namespace understudy;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "message_fuzzer: %s\n", what);
  std::abort();
}

std::string_view view(const uint8_t* p, size_t n) {
  return std::string_view(reinterpret_cast<const char*>(p), n);
}

void checkName(std::string_view wire) {
  if (!dns::isValidWireName(wire)) fail("accepted name is not a valid wire name");
  std::string text = dns::nameToText(wire);
  std::string error;
  auto back = dns::nameFromText(text, std::string_view("\0", 1), &error);
  if (!back) {
    std::fprintf(stderr, "'%s': %s\n", text.c_str(), error.c_str());
    fail("nameToText output is not accepted by nameFromText");
  }
  if (*back != wire) {
    std::fprintf(stderr, "'%s'\n", text.c_str());
    fail("name does not survive nameToText -> nameFromText");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > dns::kMaxMessageSize) return -1;
  dns::Query q;
  dns::ParseStatus status = dns::parseQuery(std::span<const uint8_t>(data, size), q);
  switch (status) {
    case dns::ParseStatus::kDrop:
      if (size >= dns::kHeaderSize && (data[2] & 0x80) == 0) fail("a query was dropped");
      break;
    case dns::ParseStatus::kOk:
      if (q.header.qdcount != 1 || q.qname_len == 0) fail("kOk without a question");
      if (q.question_end > size) fail("question ends past the message");
      [[fallthrough]];
    case dns::ParseStatus::kFormErr:
    case dns::ParseStatus::kNotImp:
      if (q.qname_len) {
        checkName(view(q.qname, q.qname_len));
        for (size_t i = 0; i < q.qname_len; ++i) {
          if (q.qname_lower[i] != dns::lowerByte(q.qname[i])) fail("qname_lower is not lowercase");
        }
      }
      break;
  }

  // Every name in the message, compressed or not, starting anywhere.
  uint8_t name[dns::kMaxNameLength];
  for (size_t offset = dns::kHeaderSize; offset < size && offset < 512; ++offset) {
    size_t len = 0, next = 0;
    if (dns::readName(data, size, offset, name, &len, &next)) {
      if (next <= offset || next > size) fail("readName: next outside (offset, size]");
      checkName(view(name, len));
    }
  }
  return 0;
}
