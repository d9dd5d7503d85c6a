// Loopback socket helpers for the [server] tests: a raw TCP client (the server's HTTP is Beast's; the
// tests speak bytes so they can send what no HTTP library would: half requests, bad framing).
#pragma once
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace vkf::test {

// A connected socket to 127.0.0.1:port with a receive timeout; -1 on failure. The caller closes it.
inline int connect_loopback(uint16_t port, int recv_timeout_s = 5) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{recv_timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

inline bool send_all(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += size_t(n);
  }
  return true;
}

// Everything the peer sends until it closes (or the receive timeout).
inline std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  return out;
}

// Sends `bytes`, half-closes, and returns the whole reply.
inline std::string exchange(uint16_t port, const std::string& bytes) {
  int fd = connect_loopback(port);
  if (fd < 0) return "";
  send_all(fd, bytes);
  ::shutdown(fd, SHUT_WR);
  std::string out = read_all(fd);
  ::close(fd);
  return out;
}

}  // namespace vkf::test
