// The flat zone table: packed RDATA lists, self-contained rendered slots, the name index, and a
// compiled zone big enough to exercise index growth, empty non-terminals and large RRsets.
#include "understudy/zone/snapshot.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../support/zone_builder.h"
#include "understudy/dns/name.h"
#include "understudy/zone/compile.h"

namespace understudy::zone {
namespace {

using namespace std::string_literals;

TEST(RdataList, IteratesPackedRecordsInOrder) {
  std::string packed;
  appendPacked(packed, "\x01\x02\x03\x04"s);
  appendPacked(packed, ""s);
  appendPacked(packed, std::string(300, 'x'));
  RdataList list(reinterpret_cast<const uint8_t*>(packed.data()),
                 static_cast<uint32_t>(packed.size()), 3);
  ASSERT_EQ(list.size(), 3u);
  std::vector<std::string> seen;
  for (std::string_view r : list) seen.emplace_back(r);
  EXPECT_EQ(seen, (std::vector<std::string>{"\x01\x02\x03\x04"s, ""s, std::string(300, 'x')}));
  EXPECT_EQ(list.front(), "\x01\x02\x03\x04"s);
  EXPECT_EQ(list[2].size(), 300u);
  EXPECT_EQ(list.strings(), seen);
  EXPECT_TRUE(RdataList().empty());
  EXPECT_EQ(RdataList().begin(), RdataList().end());
}

TEST(RenderedRrset, CopiesAndMovesKeepTheirOwnRdata) {
  RenderedRrset a;
  a.rrset.type = 1;
  a.rrset.ttl = 30;
  a.add("\xc0\x00\x02\x01"s);
  a.add("\xc0\x00\x02\x02"s);
  RenderedRrset b = a;  // copy: must not point into a
  a.add("\xc0\x00\x02\x03"s);
  EXPECT_EQ(b.rrset.rdatas.strings(),
            (std::vector<std::string>{"\xc0\x00\x02\x01"s, "\xc0\x00\x02\x02"s}));
  EXPECT_EQ(a.rrset.rdatas.size(), 3u);
  RenderedRrset c = std::move(a);
  EXPECT_EQ(c.rrset.rdatas.size(), 3u);
  EXPECT_EQ(c.rrset.rdatas[2], "\xc0\x00\x02\x03"s);
  std::vector<RenderedRrset> table(3);
  table[1] = c;
  table.resize(100);  // reallocation moves every entry
  EXPECT_EQ(table[1].rrset.rdatas[0], "\xc0\x00\x02\x01"s);
  EXPECT_EQ(table[1].rrset.ttl, 30u);

  Rrset source;
  std::string packed;
  appendPacked(packed, "abc"s);
  source.type = 6;
  source.ttl = 99;
  source.slot = 4;
  source.rdatas = RdataList(reinterpret_cast<const uint8_t*>(packed.data()),
                            static_cast<uint32_t>(packed.size()), 1);
  RenderedRrset d;
  d.assign(source);
  packed.assign(packed.size(), '\0');  // d must hold its own copy
  EXPECT_EQ(d.rrset.rdatas.front(), "abc"s);
  EXPECT_EQ(d.rrset.slot, -1);
  d.firstRdata()[0] = 'X';
  EXPECT_EQ(d.rrset.rdatas.front(), "Xbc"s);
}

TEST(NameIndex, FindsEveryNameAcrossGrowthAndFoldsCase) {
  std::vector<std::string> names;
  for (int i = 0; i < 5000; ++i) {
    names.push_back(*dns::nameFromText("Host" + std::to_string(i) + ".Example.TEST.", ""));
  }
  std::vector<std::string> lowered;
  for (const auto& n : names) lowered.push_back(dns::lowered(n));
  NameIndex index;
  index.reset(1);  // forces many rehashes
  for (uint32_t i = 0; i < names.size(); ++i) {
    index.insert(hashName(lowered[i]), i, [&](uint32_t n) { return lowered[n]; });
  }
  for (uint32_t i = 0; i < names.size(); ++i) {
    auto by_lowered = [&](uint32_t n) { return std::string_view(lowered[n]); };
    auto by_stored = [&](uint32_t n) { return std::string_view(names[n]); };
    ASSERT_EQ(index.find(lowered[i], hashName(lowered[i]), by_lowered, false), int64_t{i});
    ASSERT_EQ(index.find(lowered[i], hashName(lowered[i]), by_stored, true), int64_t{i});
  }
  std::string missing = *dns::nameFromText("host5000.example.test.", "");
  EXPECT_EQ(index.find(
                missing, hashName(missing), [&](uint32_t n) { return lowered[n]; }, false),
            -1);
}

TEST(Zone, LargeZoneFindsNamesInAnyCaseWithEntsAndBigRrsets) {
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict for "x" + std::string&&.
    text += 'H';
    text += std::to_string(i) + ".deep.Sub A 192.0.2." + std::to_string(i % 250 + 1) + '\n';
  }
  // One RRset of 40 records (above the size where duplicates are found with a side table),
  // with one duplicate.
  for (int i = 0; i < 40; ++i) text += "many TXT t" + std::to_string(i) + "\n";
  text += "many TXT t7\n";
  std::vector<Diagnostic> warnings;
  auto snapshot = compile({test::zoneFromText("Example.test", text)}, {}, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].str().find("duplicate TXT record for 'many.Example.test.'"),
            std::string::npos)
      << warnings[0].str();
  const Zone& z = *snapshot->zones()[0];
  // 2000 owners + many + apex + ENTs deep.sub and sub.
  EXPECT_EQ(z.nodes().size(), 2000u + 1 + 1 + 2);
  EXPECT_EQ(z.record_count, 2000u + 40 + 1);
  for (int i = 0; i < 2000; ++i) {
    std::string name =
        dns::lowered(*dns::nameFromText("h" + std::to_string(i) + ".deep.sub.example.test.", ""));
    const Node* n = z.find(name);
    ASSERT_NE(n, nullptr) << i;
    // The owner keeps the configured case.
    EXPECT_EQ(dns::nameToText(n->owner), "H" + std::to_string(i) + ".deep.Sub.Example.test.");
    ASSERT_NE(n->find(1), nullptr);
    EXPECT_EQ(n->find(1)->rdatas.front()[3], static_cast<char>(i % 250 + 1));
  }
  const Node* ent = z.find(dns::lowered(*dns::nameFromText("deep.sub.example.test.", "")));
  ASSERT_NE(ent, nullptr);
  EXPECT_TRUE(ent->rrsets.empty());
  const Node* many = z.find(dns::lowered(*dns::nameFromText("many.example.test.", "")));
  ASSERT_NE(many, nullptr);
  EXPECT_EQ(many->find(16)->rdatas.size(), 40u);
  EXPECT_EQ(z.find(dns::lowered(*dns::nameFromText("nope.example.test.", ""))), nullptr);
  EXPECT_TRUE(z.apex->is_apex);
  EXPECT_EQ(z.apex->owner, *dns::nameFromText("Example.test.", ""));
}

TEST(ZoneSet, FindsTheLongestZoneWithFewAndManyZones) {
  for (int extra : {0, 20}) {
    std::vector<ZoneSource> zones{test::zoneFromText("example.test", ""),
                                  test::zoneFromText("sub.example.test", "")};
    for (int i = 0; i < extra; ++i) {
      zones.push_back(test::zoneFromText(std::to_string(i).insert(0, 1, 'z') + ".test", ""));
    }
    auto snapshot = compile(zones, {});
    auto find = [&](const char* text) -> std::string {
      const Zone* z = snapshot->findZone(dns::lowered(*dns::nameFromText(text, "")));
      return z ? dns::nameToText(z->origin) : "none";
    };
    EXPECT_EQ(find("a.sub.example.test."), "sub.example.test.") << extra;
    EXPECT_EQ(find("sub.example.test."), "sub.example.test.") << extra;
    EXPECT_EQ(find("xsub.example.test."), "example.test.") << extra;
    EXPECT_EQ(find("example.test."), "example.test.") << extra;
    EXPECT_EQ(find("test."), "none") << extra;
    EXPECT_EQ(find("other.example."), "none") << extra;
  }
}

}  // namespace
}  // namespace understudy::zone
