// `include:` — checks, pools and zones split over several files, each error naming its own file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "understudy/config/config.h"

namespace understudy::config {
namespace {

namespace fs = std::filesystem;

class Include : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("understudy-include-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "zones.d");
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::string errors(const std::string& main) {
    try {
      loadFile(main);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

TEST_F(Include, ChecksPoolsAndZonesFromSeveralFiles) {
  write("checks.yaml", "checks:\n  web: { type: tcp, port: 80 }\n");
  write("zones.d/a.yaml",
        "zones:\n  - name: a.test\n    records:\n"
        "      - { name: app, type: A, pool: app }\n");
  write("zones.d/b.yaml", "zones:\n  - name: b.test\n");
  std::string main = write("main.yaml",
                           "include: [checks.yaml, \"zones.d/*.yaml\"]\n"
                           "pools:\n  app: { check: web, endpoints: [{address: 192.0.2.1}] }\n");
  Config c = loadFile(main);
  ASSERT_EQ(c.checks.size(), 1u);
  ASSERT_EQ(c.zones.size(), 2u);
  EXPECT_EQ(c.pool_records.size(), 1u);
  EXPECT_NE(c.zones[0].where.file.find("a.yaml"), std::string::npos);
}

TEST_F(Include, ErrorsNameTheIncludedFile) {
  std::string inc = write("bad.yaml",
                          "zones:\n  - name: x.test\n    records:\n"
                          "      - { name: www, type: A, value: 192.0.2.300 }\n");
  std::string main = write("main.yaml", "include: bad.yaml\n");
  EXPECT_EQ(errors(main), inc +
                              ":4:38: zones[0].records[0].value: not a valid IPv4 address "
                              "'192.0.2.300'");
}

TEST_F(Include, ServerSettingsOnlyInTheMainFile) {
  std::string inc = write("inc.yaml", "server: { threads: 2 }\n");
  std::string main = write("main.yaml", "include: inc.yaml\n");
  EXPECT_EQ(errors(main), inc + ":1:1: unknown key 'server'");
}

TEST_F(Include, LoopsAreRefused) {
  std::string a = write("a.yaml", "include: b.yaml\n");
  std::string b = write("b.yaml", "include: a.yaml\n");
  std::string err = errors(a);
  EXPECT_NE(err.find(b + ":1:10: include: include loop: "), std::string::npos) << err;
  EXPECT_NE(err.find("a.yaml -> "), std::string::npos) << err;
}

TEST_F(Include, MissingFileAndDuplicateDefinitions) {
  std::string main = write("main.yaml", "include: [nope.yaml]\n");
  std::string err = errors(main);
  EXPECT_NE(err.find(main + ":1:11: include[0]: cannot open included file"), std::string::npos)
      << err;
  write("z1.yaml", "zones:\n  - name: dup.test\n");
  write("z2.yaml", "zones:\n  - name: dup.test\n");
  std::string main2 = write("main2.yaml", "include: [z1.yaml, z2.yaml]\n");
  err = errors(main2);
  EXPECT_NE(err.find("duplicate zone 'dup.test.' (first defined at " + (dir_ / "z1.yaml").string()),
            std::string::npos)
      << err;
}

TEST_F(Include, EmptyGlobIsFine) {
  std::string main = write("main.yaml", "include: \"zones.d/*.yaml\"\nzones:\n  - name: m.test\n");
  EXPECT_EQ(loadFile(main).zones.size(), 1u);
}

}  // namespace
}  // namespace understudy::config
