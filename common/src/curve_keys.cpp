#include "ccmesh/common/curve_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "ccmesh/common/config_loader.hpp"

namespace ccmesh {
namespace {

// Creates `path` with `mode` and writes `text`, failing if it exists.
void writeNewFile(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    const int error = errno;
    if (error == EEXIST) throw ConfigError(path + " already exists; not overwriting it");
    throw ConfigError("cannot create " + path + ": " + std::strerror(error));
  }
  // O_CREAT honours the umask; the secret's mode must be exactly `mode`.
  ::fchmod(fd, mode);
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      throw ConfigError("cannot write " + path + ": " + std::strerror(error));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) throw ConfigError("cannot write " + path + ": " + std::strerror(errno));
}

}  // namespace

bool curveAvailable() { return zmq_has("curve") == 1; }

CurveKeyPair generateCurveKeyPair() {
  std::array<char, kCurveKeyTextBytes + 1> public_key{};
  std::array<char, kCurveKeyTextBytes + 1> secret_key{};
  if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
    throw ConfigError(std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{public_key.data(), secret_key.data()};
}

bool isCurveKey(std::string_view text) {
  if (text.size() != kCurveKeyTextBytes) return false;
  const std::string copy(text);  // zmq_z85_decode wants a NUL-terminated string
  std::array<uint8_t, 32> binary{};
  return zmq_z85_decode(binary.data(), copy.c_str()) != nullptr;
}

std::string curveKeyToText(std::string_view binary_key) {
  if (binary_key.size() != 32) return {};
  std::array<char, kCurveKeyTextBytes + 1> text{};
  if (zmq_z85_encode(text.data(), reinterpret_cast<const uint8_t*>(binary_key.data()), 32) ==
      nullptr) {
    return {};
  }
  return text.data();
}

std::string curvePublicKeyOf(const std::string& secret_key) {
  if (!isCurveKey(secret_key)) throw ConfigError("not a 40-character Z85 CURVE key");
  std::array<char, kCurveKeyTextBytes + 1> public_key{};
  if (zmq_curve_public(public_key.data(), secret_key.c_str()) != 0) {
    throw ConfigError(std::string("cannot derive the public key: ") + zmq_strerror(zmq_errno()));
  }
  return public_key.data();
}

std::string readCurveKeyFile(const std::string& path, bool check_private) {
  std::ifstream file(path);
  if (!file) throw ConfigError("cannot read key file " + path + ": " + std::strerror(errno));
  if (check_private) {
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && (info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      throw ConfigError("secret key file " + path + " can be read by other users; run chmod 600 " +
                        path);
    }
  }
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    std::istringstream words(line);
    std::string first;
    if (!(words >> first)) continue;
    // Z85 has '#' in its alphabet: a key may start with it, a comment's first word is
    // not a key.
    if (isCurveKey(first)) return first;
    if (first.front() == '#') continue;
    throw ConfigError("key file " + path + " line " + std::to_string(number) +
                      ": expected a 40-character Z85 CURVE key (make one with `ccmesh "
                      "keygen NAME`)");
  }
  throw ConfigError("key file " + path + " holds no key (make one with `ccmesh keygen NAME`)");
}

void writeCurveKeyFiles(const std::string& base, const CurveKeyPair& pair,
                        const std::string& name) {
  const std::string secret_path = base + ".key";
  const std::string public_path = base + ".pub";
  struct stat info {};
  if (::stat(public_path.c_str(), &info) == 0) {
    throw ConfigError(public_path + " already exists; not overwriting it");
  }
  writeNewFile(secret_path,
               "# ccmesh CURVE secret key of \"" + name +
                   "\". Keep it private: whoever holds it is \"" + name +
                   "\" to the broker.\n# Public key: " + pair.public_key + "\n" + pair.secret_key +
                   "\n",
               0600);
  writeNewFile(public_path,
               "# ccmesh CURVE public key of \"" + name +
                   "\": put it in the broker's allow-list (or, for a broker, give it to "
                   "clients and workers).\n" +
                   pair.public_key + "\n",
               0644);
}

CurveClientKeys loadCurveClientKeys(const std::string& server_key_file,
                                    const std::string& secret_file) {
  if (server_key_file.empty() != secret_file.empty()) {
    throw ConfigError("--curve-server-key and --curve-secret go together: give both or neither");
  }
  if (!curveAvailable()) throw ConfigError("this libzmq was built without CURVE support");
  CurveClientKeys keys;
  keys.server_public = readCurveKeyFile(server_key_file);
  keys.own.secret_key = readCurveKeyFile(secret_file, true);
  try {
    keys.own.public_key = curvePublicKeyOf(keys.own.secret_key);
  } catch (const ConfigError& e) {
    throw ConfigError("key file " + secret_file + ": " + e.what());
  }
  return keys;
}

void applyCurveClient(zmq::socket_t& socket, const CurveClientKeys& keys) {
  socket.set(zmq::sockopt::curve_serverkey, keys.server_public);
  socket.set(zmq::sockopt::curve_publickey, keys.own.public_key);
  socket.set(zmq::sockopt::curve_secretkey, keys.own.secret_key);
}

void applyCurveServer(zmq::socket_t& socket, const std::string& secret_key,
                      const std::string& zap_domain) {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, secret_key);
  socket.set(zmq::sockopt::zap_domain, zap_domain);
  const int enforce = 1;
  if (zmq_setsockopt(socket.handle(), kZapEnforceDomainOption, &enforce, sizeof enforce) != 0) {
    throw ConfigError(std::string("cannot enforce ZAP on the CURVE socket: ") +
                      zmq_strerror(zmq_errno()));
  }
}

}  // namespace ccmesh
