// YAML aliases may not multiply the work of loading without bound ("billion laughs"), and a
// mistake repeated many times is reported in a page, not a million lines.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "understudy/config/config.h"
#include "understudy/zone/compile.h"

namespace understudy::config {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::vector<std::string> errorsOf(const std::string& yaml) {
  try {
    loadString(yaml, "test.yaml", ".");
  } catch (const ConfigError& e) {
    std::vector<std::string> out;
    for (const Diagnostic& d : e.diagnostics()) out.push_back(d.str());
    return out;
  }
  return {};
}

// "[*a, *a, ... ]": `n` aliases of `name`.
std::string aliases(const std::string& name, int n) {
  std::string out = "[";
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ", ";
    out += "*" + name;
  }
  return out + "]";
}

TEST(YamlAliases, BillionLaughsIsRefusedAtTheAliasThatGoesOver) {
  // Nine levels of ten: 10^9 nodes from a page. Refused before anything is walked.
  std::string yaml = "zones:\n  - name: h.test\n    records: []\nx0: &l0 [lol]\n";
  for (int level = 1; level <= 9; ++level) {
    // Built by append: GCC 12 at -O3 reports a false -Wrestrict for "literal" + std::string&&.
    yaml += 'x';
    yaml += std::to_string(level);
    yaml += ": &l";
    yaml += std::to_string(level);
    yaml += ' ';
    std::string prev = "l";
    prev += std::to_string(level - 1);
    yaml += aliases(prev, 10);
    yaml += '\n';
  }
  auto started = Clock::now();
  auto errors = errorsOf(yaml);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(1));
  // The aliases of levels 1 to 5 stand for 234,560 nodes; the first alias of level 5 (211,111
  // nodes) goes over.
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0],
            "test.yaml:10:10: YAML aliases stand for more than 250000 nodes (alias '*l5' goes "
            "over the limit): write the data out, or share less of it");
}

TEST(YamlAliases, AliasesTheLoaderWalksAreCountedAsWritten) {
  // zones x records x values, each level a list of aliases: what the loader used to expand,
  // 10^6 records of which it parsed every one.
  std::string yaml = "zones: [\n  &z { name: h.test, records: [\n";
  yaml += "    &r { name: a, type: A, values: [&ip 192.0.2.1, ";
  yaml += aliases("ip", 99).substr(1);
  yaml += " },\n    ";
  yaml += aliases("r", 99).substr(1);
  yaml += " },\n  ";
  yaml += aliases("z", 99).substr(1);
  yaml += "\n";
  auto started = Clock::now();
  auto errors = errorsOf(yaml);
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(1));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("YAML aliases stand for more than 250000 nodes (alias '*z' goes over"),
            std::string::npos)
      << errors[0];
}

TEST(YamlAliases, SharingWithinTheLimitLoads) {
  // A check's settings and a record list shared between zones: the uses aliases are for.
  std::string yaml =
      "checks:\n"
      "  a: &web { type: http, port: 8080, path: /healthz, interval: 5s }\n"
      "  b: *web\n"
      "zones:\n"
      "  - { name: a.test, records: &common [{name: www, type: A, value: 192.0.2.1},\n"
      "                                      {name: '@', type: MX, value: 10 mail}] }\n";
  for (int i = 0; i < 1000; ++i) {
    yaml += "  - { name: z" + std::to_string(i) + ".test, records: *common }\n";
  }
  Config c = loadString(yaml, "test.yaml", ".");
  EXPECT_EQ(c.checks.size(), 2u);
  EXPECT_EQ(c.checks[1].path, "/healthz");
  EXPECT_EQ(c.zones.size(), 1001u);
}

TEST(YamlAliases, TheLimitHoldsForAllTheFilesTogether) {
  fs::path dir = fs::temp_directory_path() / ("understudy-alias-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Each file's aliases stand for 999 x 156 = 155,844 nodes: one file is fine, two are not.
  auto write = [&](const std::string& name, const std::string& zone, const std::string& extra) {
    std::string text = extra;
    text += "zones:\n  - name: ";
    text += zone;
    text += "\n    records: [&r { name: a, type: TXT, values: [x";
    for (int i = 0; i < 149; ++i) text += ", y";
    text += "] }, ";
    text += aliases("r", 999).substr(1);
    text += "\n";
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  std::string inc = write("inc.yaml", "b.test", "");
  std::string main = write("main.yaml", "a.test", "include: inc.yaml\n");
  try {
    loadFile(main);
    FAIL() << "loaded";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u) << e.what();
    EXPECT_EQ(e.diagnostics()[0].where.file, inc);
    EXPECT_NE(e.diagnostics()[0].message.find("YAML aliases stand for more than 250000 nodes"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(dir);
}

TEST(ReportedDiagnostics, AHundredErrorsAndHowManyMore) {
  std::string yaml = "zones:\n  - name: h.test\n    records:\n";
  for (int i = 0; i < 150; ++i) yaml += "      - { name: a, type: A, value: 192.0.2.300 }\n";
  auto errors = errorsOf(yaml);
  ASSERT_EQ(errors.size(), 101u);
  EXPECT_EQ(errors[0],
            "test.yaml:4:36: zones[0].records[0].value: not a valid IPv4 address "
            "'192.0.2.300'");
  EXPECT_EQ(errors[100], "test.yaml: 50 more errors not shown");
}

TEST(ReportedDiagnostics, AHundredWarningsAndHowManyMore) {
  std::string yaml = "zones:\n  - name: h.test\n    records:\n";
  for (int i = 0; i < 151; ++i) yaml += "      - { name: a, type: A, value: 192.0.2.1 }\n";
  Config c = loadString(yaml, "test.yaml", ".");
  std::vector<Diagnostic> warnings;
  zone::compile(c.zones, {}, &warnings);
  ASSERT_EQ(warnings.size(), 101u);
  EXPECT_NE(warnings[0].message.find("duplicate A record"), std::string::npos);
  EXPECT_EQ(warnings[100].str(), "test.yaml: 50 more warnings not shown");
}

}  // namespace
}  // namespace understudy::config
