#include "etcd_gateway.hpp"

#include <httplib.h>

#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/binary_from_base64.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <nlohmann/json.hpp>

namespace ccmesh::broker {
namespace {

using nlohmann::json;

std::string toBase64(const std::string& bytes) {
  using namespace boost::archive::iterators;
  using Encoder = base64_from_binary<transform_width<std::string::const_iterator, 6, 8>>;
  std::string text(Encoder(bytes.begin()), Encoder(bytes.end()));
  text.append((3 - bytes.size() % 3) % 3, '=');
  return text;
}

std::string fromBase64(std::string text) {
  using namespace boost::archive::iterators;
  using Decoder = transform_width<binary_from_base64<std::string::const_iterator>, 8, 6>;
  std::size_t padding = 0;
  while (!text.empty() && text.back() == '=') {
    text.pop_back();
    ++padding;
  }
  // The decoder reads the padding bits as zeros; the '=' only say how many bytes are real.
  try {
    return std::string(Decoder(text.begin()), Decoder(text.end()));
  } catch (const std::exception&) {
    return {};
  }
}

// A 64-bit number of the gateway's JSON: a string of digits, or absent (0).
int64_t number(const json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end()) return 0;
  if (it->is_string()) return std::stoll(it->get<std::string>());
  if (it->is_number_integer()) return it->get<int64_t>();
  return 0;
}

EtcdKeyValue keyValue(const json& kv) {
  return EtcdKeyValue{fromBase64(kv.value("key", "")), fromBase64(kv.value("value", "")),
                      number(kv, "create_revision"), number(kv, "lease")};
}

// The end of the range of every key starting with `prefix`: its last byte plus one.
std::string prefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last < 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::string(1, '\0');  // every key
}

}  // namespace

EtcdGateway::EtcdGateway(std::vector<std::string> endpoints, Millis timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout) {}

std::optional<std::string> EtcdGateway::post(const std::string& path, const std::string& body) {
  for (std::size_t tried = 0; tried < endpoints_.size(); ++tried) {
    const std::size_t index = (current_ + tried) % endpoints_.size();
    httplib::Client client(endpoints_[index]);
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout_);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout_ - seconds);
    client.set_connection_timeout(seconds.count(), micros.count());
    client.set_read_timeout(seconds.count(), micros.count());
    client.set_write_timeout(seconds.count(), micros.count());
    auto answer = client.Post(path.c_str(), body, "application/json");
    if (!answer || answer->status != 200) continue;
    current_ = index;
    return std::move(answer->body);
  }
  return std::nullopt;
}

std::optional<std::pair<int64_t, int64_t>> EtcdGateway::grantLease(int64_t ttl_seconds) {
  auto answer = post("/v3/lease/grant", json{{"TTL", ttl_seconds}}.dump());
  if (!answer) return std::nullopt;
  const json reply = json::parse(*answer, nullptr, false);
  if (reply.is_discarded() || number(reply, "ID") == 0) return std::nullopt;
  return std::make_pair(number(reply, "ID"), number(reply, "TTL"));
}

std::optional<int64_t> EtcdGateway::keepAlive(int64_t lease) {
  auto answer = post("/v3/lease/keepalive", json{{"ID", std::to_string(lease)}}.dump());
  if (!answer) return std::nullopt;
  const json reply = json::parse(*answer, nullptr, false);
  if (reply.is_discarded() || !reply.contains("result")) return std::nullopt;
  return number(reply["result"], "TTL");  // absent: the lease has expired
}

bool EtcdGateway::revoke(int64_t lease) {
  return post("/v3/lease/revoke", json{{"ID", std::to_string(lease)}}.dump()).has_value();
}

std::optional<EtcdCreated> EtcdGateway::createIfAbsent(const std::string& key,
                                                       const std::string& value, int64_t lease) {
  const std::string encoded = toBase64(key);
  const json request{
      {"compare",
       {{{"key", encoded}, {"result", "EQUAL"}, {"target", "CREATE"}, {"create_revision", "0"}}}},
      {"success",
       {{{"request_put",
          {{"key", encoded}, {"value", toBase64(value)}, {"lease", std::to_string(lease)}}}}}},
      {"failure", {{{"request_range", {{"key", encoded}}}}}}};
  auto answer = post("/v3/kv/txn", request.dump());
  if (!answer) return std::nullopt;
  const json reply = json::parse(*answer, nullptr, false);
  if (reply.is_discarded() || !reply.contains("header")) return std::nullopt;
  EtcdCreated created;
  created.created = reply.value("succeeded", false);
  if (created.created) {
    // The transaction's revision is the key's create revision.
    created.holder = EtcdKeyValue{key, value, number(reply["header"], "revision"), lease};
    return created;
  }
  for (const auto& response : reply.value("responses", json::array())) {
    const json range = response.value("response_range", json::object());
    for (const auto& kv : range.value("kvs", json::array())) created.holder = keyValue(kv);
  }
  // Gone between the compare and the range: nobody holds it; the caller tries again.
  return created;
}

bool EtcdGateway::put(const std::string& key, const std::string& value, int64_t lease) {
  json request{{"key", toBase64(key)}, {"value", toBase64(value)}};
  if (lease != 0) request["lease"] = std::to_string(lease);
  return post("/v3/kv/put", request.dump()).has_value();
}

bool EtcdGateway::deleteIfCreatedAt(const std::string& key, int64_t create_revision) {
  const std::string encoded = toBase64(key);
  const json request{{"compare",
                      {{{"key", encoded},
                        {"result", "EQUAL"},
                        {"target", "CREATE"},
                        {"create_revision", std::to_string(create_revision)}}}},
                     {"success", {{{"request_delete_range", {{"key", encoded}}}}}}};
  return post("/v3/kv/txn", request.dump()).has_value();
}

bool EtcdGateway::writeIfCreatedAt(const std::string& guard, int64_t revision,
                                   std::span<const EtcdWrite> writes, bool& applied) {
  json operations = json::array();
  for (const auto& write : writes) {
    operations.push_back(
        write.value ? json{{"request_put",
                            {{"key", toBase64(write.key)}, {"value", toBase64(*write.value)}}}}
                    : json{{"request_delete_range", {{"key", toBase64(write.key)}}}});
  }
  const json request{{"compare",
                      {{{"key", toBase64(guard)},
                        {"result", "EQUAL"},
                        {"target", "CREATE"},
                        {"create_revision", std::to_string(revision)}}}},
                     {"success", std::move(operations)}};
  auto answer = post("/v3/kv/txn", request.dump());
  if (!answer) return false;
  const json reply = json::parse(*answer, nullptr, false);
  if (reply.is_discarded() || !reply.contains("header")) return false;
  applied = reply.value("succeeded", false);
  return true;
}

std::optional<std::vector<EtcdKeyValue>> EtcdGateway::range(const std::string& key, bool prefix) {
  json request{{"key", toBase64(key)}};
  if (prefix) request["range_end"] = toBase64(prefixEnd(key));
  auto answer = post("/v3/kv/range", request.dump());
  if (!answer) return std::nullopt;
  const json reply = json::parse(*answer, nullptr, false);
  if (reply.is_discarded() || !reply.contains("header")) return std::nullopt;
  std::vector<EtcdKeyValue> found;
  for (const auto& kv : reply.value("kvs", json::array())) found.push_back(keyValue(kv));
  return found;
}

}  // namespace ccmesh::broker
