#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ccmesh {

// A comma-separated list of endpoints (--broker of clients and workers, --ha-etcd) as its
// items, empty ones and surrounding spaces dropped: "tcp://a:1, tcp://b:1" -> {tcp://a:1,
// tcp://b:1}.
std::vector<std::string> splitEndpoints(std::string_view list);

}  // namespace ccmesh
