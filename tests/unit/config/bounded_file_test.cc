// Files named by the configuration: only regular files, never more than the limit of their kind,
// and nothing that can block (docs/configuration.md "Files and limits").
#include "understudy/common/bounded_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "understudy/config/config.h"

namespace understudy {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class BoundedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("understudy-bounded-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  // A sparse file of `size` bytes: as large as a limit, without using the disk.
  std::string sparse(const std::string& name, uint64_t size) {
    fs::path p = dir_ / name;
    std::ofstream(p).put('x');
    fs::resize_file(p, size);
    return p.string();
  }
  std::string fifo(const std::string& name) {
    fs::path p = dir_ / name;
    EXPECT_EQ(::mkfifo(p.c_str(), 0600), 0);
    return p.string();
  }
  std::string loadErrors(const std::string& main) {
    try {
      config::loadFile(main);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  fs::path dir_;
};

constexpr FileKind kSmall{"test file", "test files", 100};

TEST_F(BoundedFileTest, ReadsARegularFileWhole) {
  std::string path = write("a.txt", "hello\nworld\n");
  std::string error;
  EXPECT_EQ(readBoundedFile(path, kSmall, &error), "hello\nworld\n") << error;
  path = write("empty.txt", "");
  EXPECT_EQ(readBoundedFile(path, kSmall, &error), "") << error;
  path = write("exact.txt", std::string(100, 'x'));
  EXPECT_EQ(readBoundedFile(path, kSmall, &error), std::string(100, 'x')) << error;
}

TEST_F(BoundedFileTest, RefusesWhatIsNotARegularFile) {
  struct Case {
    std::string path;
    std::string message;
  };
  std::string pipe = fifo("pipe");
  const Case cases[] = {
      {pipe, "test file '" + pipe + "' is not a regular file (it is a FIFO)"},
      {"/dev/zero", "test file '/dev/zero' is not a regular file (it is a character device)"},
      {dir_.string(),
       "test file '" + dir_.string() + "' is not a regular file (it is a directory)"},
      {(dir_ / "missing").string(),
       "cannot open test file '" + (dir_ / "missing").string() + "': No such file or directory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    auto started = Clock::now();
    std::string error;
    EXPECT_FALSE(readBoundedFile(c.path, kSmall, &error));
    EXPECT_EQ(error, c.message);
    // A FIFO without a writer must not block the open, let alone the read.
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(1));
  }
}

TEST_F(BoundedFileTest, ASymlinkIsJudgedByWhatItPointsAt) {
  fs::create_symlink("/dev/zero", dir_ / "zero");
  std::string error;
  EXPECT_FALSE(readBoundedFile((dir_ / "zero").string(), kSmall, &error));
  EXPECT_EQ(error, "test file '" + (dir_ / "zero").string() +
                       "' is not a regular file (it is a character device)");
  fs::create_symlink(write("real", "data"), dir_ / "link");
  EXPECT_EQ(readBoundedFile((dir_ / "link").string(), kSmall, &error), "data") << error;
}

TEST_F(BoundedFileTest, RefusesAFileOverTheLimitByItsSize) {
  std::string path = write("big.txt", std::string(101, 'x'));
  std::string error;
  EXPECT_FALSE(readBoundedFile(path, kSmall, &error));
  EXPECT_EQ(error, "test file '" + path + "' is larger than the 100 bytes limit for test files");
}

// A file that grows after it was opened (a log being written, a zone file being replaced in
// place) is read only up to the limit + 1 byte, whatever its size was at the open.
TEST_F(BoundedFileTest, StopsReadingAtTheLimitWhenTheFileGrows) {
  std::string path = write("growing.txt", std::string(50, 'a'));
  std::string error;
  auto file = BoundedFile::open(path, kSmall, &error);
  ASSERT_TRUE(file) << error;
  EXPECT_EQ(file->sizeHint(), 50u);
  std::ofstream(path, std::ios::app) << std::string(1000, 'b');
  char buf[4096];
  size_t total = 0;
  ssize_t got = 0;
  while ((got = file->read(buf, sizeof buf, &error)) > 0) total += static_cast<size_t>(got);
  EXPECT_EQ(got, -1);
  EXPECT_LE(total, 100u);
  EXPECT_EQ(error, "test file '" + path + "' is larger than the 100 bytes limit for test files");
}

TEST(FormatByteSize, NamesTheLimitInItsUnit) {
  EXPECT_EQ(formatByteSize(100), "100 bytes");
  EXPECT_EQ(formatByteSize(4096), "4 KiB");
  EXPECT_EQ(formatByteSize(1536), "1536 bytes");
  EXPECT_EQ(formatByteSize(file_kind::kConfig.max_bytes), "16 MiB");
  EXPECT_EQ(formatByteSize(file_kind::kInclude.max_bytes), "16 MiB");
  EXPECT_EQ(formatByteSize(file_kind::kZone.max_bytes), "1 GiB");
  EXPECT_EQ(formatByteSize(file_kind::kToken.max_bytes), "4 KiB");
  EXPECT_EQ(formatByteSize(file_kind::kCa.max_bytes), "1 MiB");
}

// ---- every file the configuration reads goes through it

TEST_F(BoundedFileTest, TheMainConfigFile) {
  std::string pipe = fifo("understudy.yaml");
  EXPECT_EQ(loadErrors(pipe),
            pipe + ": config file '" + pipe + "' is not a regular file (it is a FIFO)");
  std::string big = sparse("big.yaml", file_kind::kConfig.max_bytes + 1);
  EXPECT_EQ(loadErrors(big),
            big + ": config file '" + big + "' is larger than the 16 MiB limit for config files");
}

TEST_F(BoundedFileTest, IncludedFiles) {
  std::string pipe = fifo("pipe.yaml");
  std::string big = sparse("big.yaml", file_kind::kInclude.max_bytes + 1);
  std::string main = write("main.yaml", "include: [pipe.yaml, big.yaml, /dev/null]\n");
  EXPECT_EQ(loadErrors(main),
            main + ":1:11: include[0]: included file '" + pipe +
                "' is not a regular file (it is a FIFO)\n" + main +
                ":1:22: include[1]: included file '" + big +
                "' is larger than the 16 MiB limit for included files\n" + main +
                ":1:32: include[2]: included file '/dev/null' is not a regular file (it is a "
                "character device)");
}

TEST_F(BoundedFileTest, ZoneFiles) {
  std::string pipe = fifo("pipe.zone");
  std::string big = sparse("big.zone", file_kind::kZone.max_bytes + 1);
  std::string main = write("main.yaml",
                           "zones:\n  - { name: a.test, file: pipe.zone }\n"
                           "  - { name: b.test, file: big.zone }\n");
  auto started = Clock::now();
  EXPECT_EQ(loadErrors(main), main + ":2:27: zones[0].file: zone file '" + pipe +
                                  "' is not a regular file (it is a FIFO)\n" + main +
                                  ":3:27: zones[1].file: zone file '" + big +
                                  "' is larger than the 1 GiB limit for zone files");
  // The size is known from the open: nothing of the 1 GiB is read.
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(2));
}

TEST_F(BoundedFileTest, TokenAndCaFiles) {
  std::string pipe = fifo("pipe");
  std::string big_token = sparse("big.token", file_kind::kToken.max_bytes + 1);
  std::string big_ca = sparse("big.pem", file_kind::kCa.max_bytes + 1);
  std::string main = write("main.yaml",
                           "control: { token_file: pipe }\n"
                           "checks:\n"
                           "  a: { type: https, ca_file: pipe }\n"
                           "  b: { type: https, ca_file: big.pem }\n"
                           "  c: { type: https, ca_file: pipe }\n");  // checked once, both told
  EXPECT_EQ(loadErrors(main), main + ":1:24: control.token_file: token file '" + pipe +
                                  "' is not a regular file (it is a FIFO)\n" + main +
                                  ":3:30: checks.a.ca_file: CA file '" + pipe +
                                  "' is not a regular file (it is a FIFO)\n" + main +
                                  ":4:30: checks.b.ca_file: CA file '" + big_ca +
                                  "' is larger than the 1 MiB limit for CA files\n" + main +
                                  ":5:30: checks.c.ca_file: CA file '" + pipe +
                                  "' is not a regular file (it is a FIFO)");
  main = write("main.yaml", "control: { token_file: big.token }\n");
  EXPECT_EQ(loadErrors(main), main + ":1:24: control.token_file: token file '" + big_token +
                                  "' is larger than the 4 KiB limit for token files");
}

}  // namespace
}  // namespace understudy
