#pragma once

#include <cstddef>

// Every size a peer controls has a bound; these are the protocol's defaults.
namespace ccmesh::limits {

inline constexpr std::size_t kMaxFrames = 8;                // frames after routing ids
inline constexpr std::size_t kMaxBodyBytes = 64u << 20;     // one msgpack body
inline constexpr std::size_t kMaxPromptBytes = 1u << 20;    // default prompt bound
inline constexpr std::size_t kMaxSessionNameBytes = 128;    // session and pool names
inline constexpr std::size_t kMaxPoolSize = 1024;           // members of one pool
inline constexpr std::size_t kMaxOptionBytes = 256u << 10;  // one option value
inline constexpr std::size_t kMaxOptionListItems = 256;     // entries of a list option
inline constexpr std::size_t kMaxUnpackItems = 1u << 16;    // arrays and maps in a body
inline constexpr std::size_t kMaxUnpackDepth = 16;          // nesting of a body

}  // namespace ccmesh::limits
