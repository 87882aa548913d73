#pragma once

#include <boost/program_options.hpp>
#include <istream>
#include <optional>
#include <ostream>
#include <string>

#include "ccmesh/client/client.hpp"
#include "command_line.hpp"

namespace ccmesh::client {

// How `query` and `pool query` answer the tool questions of a session started with
// permission_handler=client (docs/SESSIONS.md "Tool approval").

// Adds --approve, --approve-all and --deny-all.
void addApprovalFlags(boost::program_options::options_description& options);
// Reads them into `approval`; an error message when more than one is given.
std::optional<std::string> readApproval(const boost::program_options::variables_map& vm,
                                        Approval& approval);

// The handler for `approval`. kAsk shows each question on `err` and reads y/n from `in`
// (end of input: deny); kNone denies each with a note on `err` saying how to decide them.
PermissionHandler approvalHandler(Approval approval, std::istream& in, std::ostream& err);

}  // namespace ccmesh::client
