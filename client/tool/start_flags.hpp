#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>

#include "ccmesh/common/session_options.hpp"

// The flags of `ccmesh start`: each sets one SessionOptions key through
// SessionOptions::set(), so the tool accepts exactly what a sessions file accepts.
namespace ccmesh::client {

// Adds --system-prompt, --model, --cwd, ... to a command's options.
void addStartFlags(boost::program_options::options_description& options);

// Applies the flags present in `vm` to `options`, then validates them. Relative --cwd and
// --add-dir paths are made absolute against `working_directory`. Returns the message of
// the first bad option (naming it), or nothing.
std::optional<std::string> readStartFlags(const boost::program_options::variables_map& vm,
                                          const std::string& working_directory,
                                          SessionOptions& options);

}  // namespace ccmesh::client
