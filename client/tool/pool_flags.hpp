#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>

#include "command_line.hpp"

// The `ccmesh pool SUBCOMMAND` commands: their flags and the positional arguments they take
// after NAME (the pool).
namespace ccmesh::client {

// True for kPoolCreate .. kPoolDelete.
bool isPoolCommand(CommandKind kind);

// Adds a pool command's flags: create --size, --members, --strategy and every `start` flag;
// query --stream; checkout --lease; checkin --lease-id.
void addPoolFlags(CommandKind kind, boost::program_options::options_description& options);

// Adds the positional arguments after NAME: query PROMPT, checkin MEMBER, resize N.
void addPoolPositionals(CommandKind kind, boost::program_options::options_description& all,
                        boost::program_options::positional_options_description& positional);

// Reads a pool command's arguments and flags into `command` and checks them; relative
// --cwd / --add-dir paths are made absolute against `working_directory`. Returns the first
// problem, or nothing.
std::optional<std::string> readPoolFlags(const boost::program_options::variables_map& vm,
                                         const std::string& working_directory, Command& command);

// What `ccmesh pool SUBCOMMAND --help` says after the summary.
std::string poolCommandNotes(CommandKind kind);

}  // namespace ccmesh::client
