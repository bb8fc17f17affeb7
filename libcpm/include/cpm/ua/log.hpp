#pragma once
// A client's diagnostics on stderr, each line "PROG: text": errors always, the rest unless
// -q, more with -v.
#include <string>

#include "cpm/rt/guard.hpp"

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
  // Where a client's libre callbacks report an internal error (sip::guarded): the error
  // line (report), or the error line and then the end of the program with status 1 (fatal).
  sip::Diag report() const;
  sip::Diag fatal() const;
};

} // namespace cpm::ua
