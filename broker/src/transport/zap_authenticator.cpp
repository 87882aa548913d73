#include "transport/zap_authenticator.hpp"

#include <array>
#include <string>
#include <zmq_addon.hpp>

#include "ccmesh/common/config_loader.hpp"
#include "ccmesh/common/curve_keys.hpp"
#include "ccmesh/common/socket_io.hpp"

namespace ccmesh::broker {
namespace {

// Frames of a ZAP request received on a ROUTER, routing id and delimiter included.
constexpr std::size_t kRequestFrames = 9;

// The first characters of a key, enough to tell keys apart in a log.
std::string keyPrefix(const std::string& key) { return key.substr(0, 8) + "..."; }

}  // namespace

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context, const AccessControl& access,
                                   OnRefused on_refused, RateLimitedLog& warnings,
                                   std::shared_ptr<spdlog::logger> logger)
    : access_(access),
      on_refused_(std::move(on_refused)),
      warnings_(warnings),
      logger_(std::move(logger)),
      socket_(context, zmq::socket_type::router) {
  socket_.set(zmq::sockopt::linger, 0);
  try {
    socket_.bind(kEndpoint);
  } catch (const zmq::error_t& e) {
    throw ConfigError(std::string("cannot start the ZAP handler on ") + kEndpoint + ": " +
                      e.what());
  }
}

void ZapAuthenticator::drain(int budget) {
  for (int i = 0; i < budget; ++i) {
    bool oversized = false;
    if (!receiveMessage(socket_, frames_, oversized)) return;
    // libzmq itself is the only peer of this inproc socket: its requests are well formed.
    if (frames_.size() < kRequestFrames) continue;
    answer(frames_);
  }
}

void ZapAuthenticator::answer(std::vector<zmq::message_t>& frames) {
  const std::string domain = frames[4].to_string();
  const std::string address = frames[5].to_string();
  const std::string mechanism = frames[7].to_string();
  std::string key;
  if (mechanism == "CURVE" && frames[8].size() == 32) key = curveKeyToText(frames[8].to_string());
  std::optional<std::string> user_id;
  if (frames[2].to_string_view() == "1.0" && !key.empty()) {
    user_id = access_.authenticate(domain, key);
  }
  const char* port = domain == kWorkersZapDomain ? "workers" : "clients";
  if (user_id) {
    logger_->debug("[zap] {} key {} from {} accepted on the {} port", mechanism, keyPrefix(key),
                   address, port);
  } else {
    on_refused_(std::string(address));
    warnings_.warn("[zap] {} key {} from {} refused on the {} port: not in --{}-allow", mechanism,
                   key.empty() ? std::string("(none)") : keyPrefix(key), address, port, port);
  }
  const std::string status = user_id ? "200" : "400";
  const std::string text = user_id ? "OK" : "key not allowed";
  const std::string user = user_id.value_or("");
  std::array<zmq::const_buffer, 8> reply{
      zmq::buffer(frames[0].data(), frames[0].size()),
      zmq::const_buffer(nullptr, 0),
      zmq::str_buffer("1.0"),
      zmq::buffer(frames[3].data(), frames[3].size()),
      zmq::buffer(status),
      zmq::buffer(text),
      zmq::buffer(user),
      zmq::const_buffer(nullptr, 0),
  };
  try {
    (void)zmq::send_multipart(socket_, reply, zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    warnings_.warn("[zap] cannot answer a handshake request: {}", e.what());
  }
}

}  // namespace ccmesh::broker
