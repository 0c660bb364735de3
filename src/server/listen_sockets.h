// Opening the sockets a Server listens on: SO_REUSEPORT UDP sockets (one per UDP thread) and TCP
// acceptors (one per TCP thread) on each listen address. Failures throw std::runtime_error
// naming the address, for the daemon to report at start.
#pragma once

#include <utility>  // Boost 1.74 Asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <cstdint>
#include <string>

namespace understudy::server {

// "127.0.0.1:53", "[::1]:53"
std::string formatEndpoint(const boost::asio::ip::address& address, uint16_t port);

// For a listen entry with port 0: a port the OS hands out for UDP that is also free for TCP
// (0 if none was found).
uint16_t pickFreePort(const boost::asio::ip::address& address);

// Throws if another socket (not one of ours) already has `address:port`, UDP or TCP.
void ensureNotTaken(const boost::asio::ip::address& address, uint16_t port);

// One of the SO_REUSEPORT UDP sockets on `address:port`, blocking (its thread sleeps in
// recvmmsg). Returns the descriptor; `*bound` is the port it got and `*granted` its receive
// buffer as read back.
int openUdpSocket(const boost::asio::ip::address& address, uint16_t port, int receive_buffer,
                  uint16_t* bound, int* granted);

// Once per listen address at start: what the UDP sockets got, and in words what to do when it
// is less than asked for.
void logReceiveBuffer(const std::string& where, int granted, int asked);

// A listening SO_REUSEPORT TCP acceptor on `address:port`, on `io`.
boost::asio::ip::tcp::acceptor openTcpAcceptor(boost::asio::io_context& io,
                                               const boost::asio::ip::address& address,
                                               uint16_t port);

}  // namespace understudy::server
