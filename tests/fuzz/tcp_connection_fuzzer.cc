// DNS over TCP (RFC 1035 §4.2.2, RFC 7766) through the real TcpServer/TcpConnection: the framing
// itself is fuzzed on bytes alone by tcp_framer_fuzzer.cc; this one checks that the connection
// drives the framer, query::answer and the socket together as it should.
//
// One TcpServer on 127.0.0.1 (port chosen by the OS) and the fuzzer's own client on the same
// io_context, run on this thread. Each input is written as the client's whole byte stream, then
// the client shuts down its sending side and reads until the server closes. The bytes received
// must be exactly the framed answers that query::answer gives for the complete frames sent, in
// order (a prefix of them when a frame shorter than a header makes the server hang up early),
// and the connection must end by itself (a hang is reported by libFuzzer's -timeout).
#include <array>
#include <boost/asio.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "fixture.h"
#include "tcp_server.h"
#include "understudy/dns/types.h"
#include "understudy/query/answer.h"
#include "understudy/zone/snapshot_holder.h"

using namespace understudy;
namespace asio = boost::asio;

namespace {

struct Fixture {
  asio::io_context io;
  zone::SnapshotHolder holder;
  std::unique_ptr<zone::SnapshotHolder::Reader> reader;
  server::ThreadQueryStats stats;
  server::TcpCounters counters;
  std::unique_ptr<server::TcpServer> server;
  asio::ip::tcp::endpoint endpoint;
  std::shared_ptr<const zone::Snapshot> snapshot;

  Fixture() {
    snapshot = fuzz::loadFixture();
    holder.publish(snapshot);
    reader = std::make_unique<zone::SnapshotHolder::Reader>(holder);
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    endpoint = acceptor.local_endpoint();
    server = std::make_unique<server::TcpServer>(io, std::move(acceptor), *reader, stats,
                                                 std::chrono::seconds(5), 8, counters);
    server->start();
  }
};

[[noreturn]] void fail(const char* what, size_t got, size_t want) {
  std::fprintf(stderr, "tcp_connection_fuzzer: %s (received %zu bytes, expected %zu)\n", what, got,
               want);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();  // lives for the process: the server is never torn down
  if (size > 64 * 1024) return -1;

  // What the server must send back: each complete frame answered in order; a frame shorter than
  // a header closes the connection.
  std::vector<uint8_t> expected;
  bool hangs_up_early = false;
  {
    static std::vector<uint8_t> out(query::kMaxResponseSize);
    size_t pos = 0;
    while (pos + 2 <= size) {
      size_t length = (size_t{data[pos]} << 8) | data[pos + 1];
      if (length < dns::kHeaderSize) {
        hangs_up_early = true;
        break;
      }
      if (pos + 2 + length > size) break;  // incomplete: the server waits, then sees EOF
      size_t n = query::answer(std::span<const uint8_t>(data + pos + 2, length), f->snapshot.get(),
                               query::Transport::kTcp, out);
      if (n > 0) {
        expected.push_back(static_cast<uint8_t>(n >> 8));
        expected.push_back(static_cast<uint8_t>(n));
        expected.insert(expected.end(), out.begin(), out.begin() + n);
      }
      pos += 2 + length;
    }
  }

  // Asynchronously, like everything else here: libFuzzer's SIGALRM would interrupt a blocking
  // connect (EINTR) now and then.
  asio::ip::tcp::socket client(f->io);
  boost::system::error_code ec;
  bool connected = false;
  client.async_connect(f->endpoint, [&](const boost::system::error_code& e) {
    ec = e;
    connected = true;
  });
  while (!connected) f->io.run_one();
  if (ec) {
    std::fprintf(stderr, "connect: %s\n", ec.message().c_str());
    fail("cannot connect to our own server", 0, 0);
  }
  // The client closes first, so its side sits in TIME_WAIT; Linux reuses those for new loopback
  // connections (net.ipv4.tcp_tw_reuse = 2, the default), so the ports do not run out.

  std::vector<uint8_t> received;
  std::array<uint8_t, 4096> chunk;
  bool read_done = false, write_done = size == 0;
  boost::system::error_code read_error;
  std::function<void()> doRead = [&] {
    client.async_read_some(asio::buffer(chunk), [&](const boost::system::error_code& e, size_t n) {
      received.insert(received.end(), chunk.begin(), chunk.begin() + n);
      if (e) {
        read_error = e;
        read_done = true;
        return;
      }
      doRead();
    });
  };
  doRead();
  if (size == 0) {
    client.shutdown(asio::socket_base::shutdown_send, ec);
  } else {
    asio::async_write(client, asio::buffer(data, size),
                      [&](const boost::system::error_code&, size_t) {
                        boost::system::error_code ignored;
                        client.shutdown(asio::socket_base::shutdown_send, ignored);
                        write_done = true;
                      });
  }
  while (!read_done || !write_done) f->io.run_one();
  client.close(ec);

  if (received.size() > expected.size() ||
      (!received.empty() && std::memcmp(received.data(), expected.data(), received.size()) != 0)) {
    fail("the server's byte stream is not the framed answers", received.size(), expected.size());
  }
  // A clean end (EOF after our own FIN) must have delivered every answer; after a reset (the
  // server hung up on a short frame while we were still writing) a prefix is all we can demand.
  if (!hangs_up_early && read_error == asio::error::eof && received.size() != expected.size()) {
    fail("answers missing before the server closed", received.size(), expected.size());
  }
  if (!hangs_up_early && read_error != asio::error::eof) {
    fail("the server reset a well-framed connection", received.size(), expected.size());
  }
  // Both sides are closed; let the server drop the connection before the next run.
  while (f->counters.connections.load() != 0) f->io.run_one();
  return 0;
}
