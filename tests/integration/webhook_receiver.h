#pragma once
// A webhook receiver on 127.0.0.1 for integration tests: records every request and answers
// with a status the test may change to make deliveries fail.
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace netledger::it {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// A webhook receiver on 127.0.0.1: records every request and answers with `status_` (which a
// test may change to make deliveries fail).
class Receiver {
 public:
  struct Hit {
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
  };

  Receiver() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Receiver() {
    stopping_ = true;
    boost::system::error_code ec;
    acceptor_.close(ec);
    // Unblock accept() by connecting once.
    tcp::socket s(io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  void setStatus(unsigned s) { status_ = s; }

  // Waits (bounded) until at least `n` requests arrived; returns them all.
  std::vector<Hit> waitFor(std::size_t n,
                           std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return hits_.size() >= n; });
    return hits_;
  }

 private:
  void run() {
    while (!stopping_) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      boost::beast::flat_buffer buffer;
      while (true) {
        bhttp::request<bhttp::string_body> req;
        bhttp::read(socket, buffer, req, ec);
        if (ec) break;
        Hit hit;
        for (const auto& f : req) {
          std::string name(f.name_string());
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          hit.headers[name] = std::string(f.value());
        }
        hit.body = req.body();
        // Decided before the hit is visible, so a test changing the status after seeing the
        // hit cannot change this answer.
        const unsigned code = status_.load();
        {
          std::lock_guard lock(mu_);
          hits_.push_back(std::move(hit));
        }
        cv_.notify_all();
        bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(code), 11};
        res.body() = "ok";
        res.prepare_payload();
        res.keep_alive(req.keep_alive());
        bhttp::write(socket, res, ec);
        if (ec || !req.keep_alive()) break;
      }
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = acceptor_.local_endpoint().port();
  std::atomic<bool> stopping_{false};
  std::atomic<unsigned> status_{200};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Hit> hits_;
};

}  // namespace netledger::it
