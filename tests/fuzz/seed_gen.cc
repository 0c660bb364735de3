// Writes the DNS seed corpora for message, answer, tcp_connection and tcp_framer into DIR/<target>/
// (queries built with ldns for the names in answer_fixture.yaml, plus a few hand-made malformed
// ones). Run once by hand; the output is checked in:  fuzz_seed_gen tests/fuzz/corpus
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

// After the C++ headers: clang 14 trips over libstdc++'s __is_signed otherwise.
#include <ldns/ldns.h>

namespace {

using Bytes = std::vector<uint8_t>;

struct Spec {
  const char* name;
  ldns_rr_type type;
  int edns = -1;  // UDP size, -1 = no OPT
  bool do_bit = false;
  uint8_t version = 0;
  ldns_pkt_opcode opcode = LDNS_PACKET_QUERY;
  ldns_rr_class klass = LDNS_RR_CLASS_IN;
  bool nsid = false;  // an empty NSID option in the OPT (RFC 5001)
};

Bytes build(const Spec& s, uint16_t id) {
  ldns_pkt* pkt = nullptr;
  ldns_pkt_query_new_frm_str(&pkt, s.name, s.type, s.klass, LDNS_RD);
  ldns_pkt_set_id(pkt, id);
  ldns_pkt_set_opcode(pkt, s.opcode);
  if (s.edns >= 0) {
    ldns_pkt_set_edns_udp_size(pkt, static_cast<uint16_t>(s.edns));
    ldns_pkt_set_edns_version(pkt, s.version);
    if (s.do_bit) ldns_pkt_set_edns_do(pkt, true);
    // ldns only writes an OPT when some EDNS field differs from its defaults or data is set.
    static const uint8_t kNsid[] = {0, 3, 0, 0};
    ldns_rdf* data = s.nsid ? ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, sizeof kNsid, kNsid)
                            : ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, 0, "");
    ldns_pkt_set_edns_data(pkt, data);
  }
  uint8_t* wire = nullptr;
  size_t size = 0;
  ldns_pkt2wire(&wire, pkt, &size);
  Bytes out(wire, wire + size);
  LDNS_FREE(wire);
  ldns_pkt_free(pkt);
  return out;
}

void write(const std::filesystem::path& dir, const std::string& name, const Bytes& b) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// A TCP stream: as it is for tcp_connection, and after a split plan for tcp_framer (3 chunk
// sizes: 1 octet, 5 octets, then all the framer has room for; see tcp_framer_fuzzer.cc).
void writeTcp(const std::filesystem::path& root, const std::string& name, const Bytes& stream) {
  write(root / "tcp_connection", name, stream);
  Bytes planned{3, 1, 5, 0};
  planned.insert(planned.end(), stream.begin(), stream.end());
  write(root / "tcp_framer", name, planned);
}

Bytes frame(const Bytes& m) {
  Bytes out{static_cast<uint8_t>(m.size() >> 8), static_cast<uint8_t>(m.size())};
  out.insert(out.end(), m.begin(), m.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  std::filesystem::path root(argv[1]);
  const Spec specs[] = {
      {"www.example.test.", LDNS_RR_TYPE_A},
      {"WwW.ExAmPlE.TeSt.", LDNS_RR_TYPE_AAAA, 1232},
      {"www.example.test.", LDNS_RR_TYPE_TXT, 4096, true},
      {"example.test.", LDNS_RR_TYPE_SOA},
      {"example.test.", LDNS_RR_TYPE_NS, 1232},
      {"example.test.", LDNS_RR_TYPE_MX},
      {"example.test.", LDNS_RR_TYPE_ANY, 1232},
      {"example.test.", LDNS_RR_TYPE_AXFR},
      {"example.test.", LDNS_RR_TYPE_IXFR},
      {"app.example.test.", LDNS_RR_TYPE_A},
      {"chain1.example.test.", LDNS_RR_TYPE_A, 1232},
      {"loop1.example.test.", LDNS_RR_TYPE_A},
      {"other.example.test.", LDNS_RR_TYPE_A},
      {"x.wild.example.test.", LDNS_RR_TYPE_A},
      {"exists.wild.example.test.", LDNS_RR_TYPE_AAAA},
      {"a.b.wcname.example.test.", LDNS_RR_TYPE_A},
      {"deep.ent.example.test.", LDNS_RR_TYPE_A},
      {"x.sub1.went.example.test.", LDNS_RR_TYPE_A},
      {"_sip._tcp.example.test.", LDNS_RR_TYPE_SRV, 1232},
      {"www.sub.example.test.", LDNS_RR_TYPE_A},
      {"sub.example.test.", LDNS_RR_TYPE_NS},
      {"secure.example.test.", LDNS_RR_TYPE_DS, 1232, true},
      {"hinfo.example.test.", LDNS_RR_TYPE_HINFO},
      {"bigtxt.example.test.", LDNS_RR_TYPE_TXT},
      {"bigtxt.example.test.", LDNS_RR_TYPE_TXT, 1232},
      {"many.example.test.", LDNS_RR_TYPE_A, 600},
      {"pooled.example.test.", LDNS_RR_TYPE_A},
      {"pooled.example.test.", LDNS_RR_TYPE_AAAA, 1232},
      {"empty.example.test.", LDNS_RR_TYPE_A},
      {"nx.example.test.", LDNS_RR_TYPE_A, 1232, true},
      {"host.other.test.", LDNS_RR_TYPE_A},
      {"other.test.", LDNS_RR_TYPE_SOA},
      {"outside.invalid.", LDNS_RR_TYPE_A},
      {".", LDNS_RR_TYPE_NS},
      {"www.example.test.", LDNS_RR_TYPE_A, 1232, false, 1},  // BADVERS
      {"www.example.test.", LDNS_RR_TYPE_A, 100},             // EDNS size below 512
      {"www.example.test.", LDNS_RR_TYPE_OPT},
      {"www.example.test.", LDNS_RR_TYPE_A, -1, false, 0, LDNS_PACKET_NOTIFY},
      {"www.example.test.", LDNS_RR_TYPE_A, -1, false, 0, LDNS_PACKET_QUERY, LDNS_RR_CLASS_CH},
      {"www.example.test.", LDNS_RR_TYPE_A, -1, false, 0, LDNS_PACKET_QUERY, LDNS_RR_CLASS_ANY},
  };
  std::vector<Bytes> queries;
  uint16_t id = 0x1000;
  for (const Spec& s : specs) queries.push_back(build(s, id++));

  // Hand-made shapes the parser must reject or survive.
  Bytes base = queries[0];
  Bytes qr = base;
  qr[2] |= 0x80;
  queries.push_back(qr);
  Bytes trailing = base;
  trailing.push_back(0xff);
  queries.push_back(trailing);
  Bytes loop = base;
  loop[7] = 1;  // ancount 1: an answer whose owner points at itself
  size_t at = loop.size();
  loop.insert(loop.end(), {0xc0, 0x00, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0});
  loop[at + 1] = static_cast<uint8_t>(at);
  queries.push_back(loop);
  Bytes pointer = base;
  pointer[11] = 1;  // arcount 1: owner is a pointer to the question name
  pointer.insert(pointer.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1});
  queries.push_back(pointer);
  queries.push_back(Bytes(base.begin(), base.begin() + 12));  // header only
  // DNAME synthesis, chained, and overflowing (YXDOMAIN); last, so earlier seeds keep their names.
  const Spec dname_specs[] = {
      {"www.old.example.test.", LDNS_RR_TYPE_A, 1232},
      {"a.www.away.example.test.", LDNS_RR_TYPE_CNAME},
      {"qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq.long.example.test.",
       LDNS_RR_TYPE_A, 1232},
  };
  for (const Spec& s : dname_specs) queries.push_back(build(s, id++));
  // NSID asked for, and CHAOS identity and version.
  const Spec identity_specs[] = {
      {"www.example.test.", LDNS_RR_TYPE_A, 1232, false, 0, LDNS_PACKET_QUERY, LDNS_RR_CLASS_IN,
       true},
      {"id.server.", LDNS_RR_TYPE_TXT, 1232, false, 0, LDNS_PACKET_QUERY, LDNS_RR_CLASS_CH, true},
      {"version.bind.", LDNS_RR_TYPE_TXT, -1, false, 0, LDNS_PACKET_QUERY, LDNS_RR_CLASS_CH},
  };
  for (const Spec& s : identity_specs) queries.push_back(build(s, id++));

  for (size_t i = 0; i < queries.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "q%02zu", i);
    write(root / "message", name, queries[i]);
    write(root / "answer", name, queries[i]);
  }
  // TCP: single frames, pipelines, a short frame, a zero-length frame, a partial frame.
  for (size_t i = 0; i < queries.size(); i += 3) {
    char name[32];
    std::snprintf(name, sizeof name, "t%02zu", i);
    Bytes stream = frame(queries[i]);
    if (i + 1 < queries.size()) {
      Bytes f2 = frame(queries[i + 1]);
      stream.insert(stream.end(), f2.begin(), f2.end());
    }
    writeTcp(root, name, stream);
  }
  Bytes pipeline;
  for (size_t i = 0; i < 8; ++i) {
    Bytes f = frame(queries[i]);
    pipeline.insert(pipeline.end(), f.begin(), f.end());
  }
  writeTcp(root, "pipeline8", pipeline);
  Bytes shortframe = frame(queries[0]);
  shortframe.insert(shortframe.end(), {0, 5, 1, 2, 3, 4, 5});
  writeTcp(root, "short_frame", shortframe);
  writeTcp(root, "zero_length", Bytes{0, 0});
  Bytes partial = frame(queries[1]);
  partial.resize(partial.size() - 3);
  writeTcp(root, "partial", partial);
  Bytes oversized{0xff, 0xff};
  oversized.insert(oversized.end(), base.begin(), base.end());
  writeTcp(root, "oversized_length", oversized);
  return 0;
}
