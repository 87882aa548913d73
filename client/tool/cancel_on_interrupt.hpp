#pragma once

#include <csignal>

namespace ccmesh::client {

// Turns Ctrl-C into a request to cancel: while one of these exists, the first SIGINT sets a
// flag (that a query's should_cancel reads) and a second one ends the process at once with
// status 130. Only one may exist at a time; the previous handler is restored on
// destruction.
class CancelOnInterrupt {
 public:
  CancelOnInterrupt();
  ~CancelOnInterrupt();
  CancelOnInterrupt(const CancelOnInterrupt&) = delete;
  CancelOnInterrupt& operator=(const CancelOnInterrupt&) = delete;

  // Whether Ctrl-C was pressed since construction.
  bool requested() const;

 private:
  struct sigaction previous_ {};  // the SIGINT handler to restore
};

}  // namespace ccmesh::client
