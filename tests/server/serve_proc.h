// A spawned `vkflow serve` (the built binary) for the [server] tests that need a whole process: started on
// 127.0.0.1 with --port 0, its port read from the "listening on" line (bounded wait), plain HTTP requests
// over test::exchange, and SIGTERM (then SIGKILL) when it goes out of scope.
#pragma once
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/server/net_util.h"

namespace vkf::test {

class ServeProc {
 public:
  // `args` follow `vkflow serve --listen 127.0.0.1 --port 0 --quiet`. Check ok() before use.
  explicit ServeProc(const std::vector<std::string>& args) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::close(out[1]);
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      std::vector<std::string> all = {VKFLOW_BINARY, "serve", "--listen", "127.0.0.1", "--port", "0", "--quiet"};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    // "vkflow serve: listening on http://127.0.0.1:PORT (data ...)", within 60 s.
    std::string line;
    const auto t0 = std::chrono::steady_clock::now();
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      char buf[256];
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, size_t(n));
    }
    ::close(out[0]);
    const std::string key = "http://127.0.0.1:";
    auto at = line.find(key);
    if (at != std::string::npos) port_ = static_cast<uint16_t>(std::atoi(line.c_str() + at + key.size()));
  }
  ~ServeProc() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {  // 10 s, then SIGKILL
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  ServeProc(const ServeProc&) = delete;
  ServeProc& operator=(const ServeProc&) = delete;

  bool ok() const { return port_ != 0; }
  uint16_t port() const { return port_; }

  struct Reply {
    int status = 0;
    std::string body;
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  };
  Reply request(const std::string& method, const std::string& target, const std::string& body = "") const {
    std::string raw = vkf::test::exchange(port_, method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                                      "Content-Type: application/json\r\nContent-Length: " +
                                          std::to_string(body.size()) + "\r\n\r\n" + body);
    Reply r;
    if (raw.rfind("HTTP/1.1 ", 0) == 0) r.status = std::atoi(raw.c_str() + 9);
    auto e = raw.find("\r\n\r\n");
    if (e != std::string::npos) r.body = raw.substr(e + 4);
    return r;
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

}  // namespace vkf::test
