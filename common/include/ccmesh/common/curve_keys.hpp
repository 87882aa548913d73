#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <zmq.hpp>

namespace ccmesh {

// Length of a CURVE key written in Z85 (32 bytes of key).
inline constexpr std::size_t kCurveKeyTextBytes = 40;

// ZMQ_ZAP_ENFORCE_DOMAIN: only declared in the draft part of zmq.h, accepted at run time by
// libzmq 4.3. With it set, a CURVE server whose ZAP handler is missing accepts nobody
// instead of everybody.
inline constexpr int kZapEnforceDomainOption = 93;

// A CURVE key pair in Z85 text.
struct CurveKeyPair {
  std::string public_key;  // may be handed to anyone
  std::string secret_key;  // never leaves its owner
};

// What a connecting socket (a client or a worker) needs to talk CURVE to the broker.
struct CurveClientKeys {
  std::string server_public;  // the broker's public key
  CurveKeyPair own;           // this peer's key pair
};

// True if libzmq was built with CURVE (Debian's is, with libsodium).
bool curveAvailable();

// A fresh key pair (zmq_curve_keypair). Throws ConfigError if CURVE is unavailable.
CurveKeyPair generateCurveKeyPair();

// True if `text` is exactly 40 characters of valid Z85.
bool isCurveKey(std::string_view text);

// The Z85 text of a 32-byte binary key (as ZAP hands credentials over).
std::string curveKeyToText(std::string_view binary_key);

// The public key belonging to a secret key (zmq_curve_public). Throws ConfigError.
std::string curvePublicKeyOf(const std::string& secret_key);

// Reads a key file: the first word of the first line that is not blank and not a comment
// (a line starting with '#'), which must be a 40-character Z85 key. Throws ConfigError
// naming the file. `check_private`: refuse a file other users may read, as ssh does.
std::string readCurveKeyFile(const std::string& path, bool check_private = false);

// Writes `base`.key (the secret, mode 0600) and `base`.pub (the public key), each with a
// comment naming `name`. Refuses to overwrite either file. Throws ConfigError.
void writeCurveKeyFiles(const std::string& base, const CurveKeyPair& pair, const std::string& name);

// Loads what a connecting peer needs: the broker's public key and this peer's secret key
// (its public key is derived from the secret). Throws ConfigError naming the file at fault.
CurveClientKeys loadCurveClientKeys(const std::string& server_key_file,
                                    const std::string& secret_file);

// Makes a socket that is about to connect a CURVE client of the broker.
void applyCurveClient(zmq::socket_t& socket, const CurveClientKeys& keys);

// Makes a socket that is about to bind a CURVE server that asks the ZAP handler about every
// peer of `zap_domain`, and accepts nobody while no handler runs.
void applyCurveServer(zmq::socket_t& socket, const std::string& secret_key,
                      const std::string& zap_domain);

}  // namespace ccmesh
