#pragma once
// A client's diagnostics on stderr, each line "PROG: text": errors always, the rest unless
// -q, more with -v.
#include <string>

namespace cpm::ua {

struct Log {
  std::string prog;   // "cpm-send"
  bool quiet = false; // -q: no diag() lines
  int verbose = 0;    // -v: note() lines too

  // Always shown: start-up errors, internal errors, a missing password.
  void error(const std::string& text) const;
  // What went wrong or what happened, unless -q.
  void diag(const std::string& text) const;
  // Details, with -v.
  void note(const std::string& text) const;
};

} // namespace cpm::ua
