#pragma once
// libre's socket addresses (struct sa) as our text.
#include <memory>
#include <string>
#include <string_view>

struct sa;

namespace cpm {

// An address with its port ("127.0.0.1:5060", "[::1]:5060").
std::string sa_str(const struct sa& a);

// The text of the addresses seen last, kept: a proxy writes the same few peers' addresses
// into several headers of every request (Via, Record-Route, the source its routing reads),
// and formatting one (inet_ntop through re_snprintf) costs more than finding it here. The
// last 16 (address, form) pairs are kept.
class SaText {
public:
  SaText();
  ~SaText();
  SaText(const SaText&) = delete;
  SaText& operator=(const SaText&) = delete;
  // "127.0.0.1", "::1" (libre's %j).
  std::string_view host(const struct sa& a) { return get(a, false); }
  // "127.0.0.1:5060", "[::1]:5060" (libre's %J, sa_str).
  std::string_view host_port(const struct sa& a) { return get(a, true); }
  // Each view is valid until 16 other (address, form) pairs have been asked for.

private:
  std::string_view get(const struct sa& a, bool port);
  struct Impl;
  std::unique_ptr<Impl> m;
};

} // namespace cpm
