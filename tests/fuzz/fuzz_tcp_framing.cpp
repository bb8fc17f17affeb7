// libFuzzer target for rt::SipFramer, SIP over TCP cut into messages: the input is a byte
// stream fed twice, whole and then in pieces whose sizes come from the input itself.
// Invariants: both feedings give the same events (messages with the same bytes, pings,
// the same error), every message is a view inside what was fed and no larger than the
// limit, a message's bytes parse again as that one message, and what stays buffered is
// bounded.
// Build: cmake --preset fuzz && cmake --build build/fuzz --target fuzz_tcp_framing; run:
// build/fuzz/tests/fuzz_tcp_framing -max_total_time=60 tests/data/rfc4475
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cpm/grammar/wire.hpp"
#include "cpm/rt/sip_framer.hpp"

namespace {

using cpm::rt::FramerLimits;
using cpm::rt::SipFramer;
namespace wire = cpm::sip::wire;

void require(bool ok)
{
  if (!ok)
    std::abort();
}

// What one feeding saw, in order: "M" + the message's bytes, "P", "E" + why.
std::vector<std::string> drain(SipFramer& f, std::vector<std::string>& out)
{
  while (true) {
    auto e = f.next();
    if (e == SipFramer::Event::None)
      return out;
    if (e == SipFramer::Event::Ping) {
      out.emplace_back("P");
      continue;
    }
    if (e == SipFramer::Event::Error) {
      require(!f.why().empty() && (f.status() == 400 || f.status() == 513));
      require(f.next() == SipFramer::Event::Error); // broken for good
      out.emplace_back("E" + std::string(f.why()));
      return out;
    }
    auto bytes = f.bytes();
    require(!bytes.empty() && bytes.size() <= f.limits().max_message);
    require(f.parsed().verdict != wire::Verdict::Incomplete);
    require(f.message().content_length >= 0); // required on a stream by default
    // The bytes taken are that message and nothing more.
    static wire::Message again;
    const std::string copy(bytes);
    auto p = wire::parse(copy, again, wire::Framing::Stream);
    require(p.verdict == f.parsed().verdict && p.size == copy.size());
    out.emplace_back("M" + copy);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  // A small limit, so that the fuzzer reaches the oversize paths too.
  FramerLimits limits;
  limits.max_message = 4096;
  const std::string in(reinterpret_cast<const char*>(data), size);

  std::vector<std::string> whole;
  {
    SipFramer f(limits);
    f.feed(in);
    drain(f, whole);
    require(f.buffered() <= in.size());
  }

  // Pieces of 1 to 16 bytes, each size taken from the input's bytes in turn.
  std::vector<std::string> pieces;
  {
    SipFramer f(limits);
    size_t at = 0, k = 0;
    while (at < in.size()) {
      size_t n = 1 + (size > 0 ? data[k++ % size] % 16 : 0);
      n = std::min(n, in.size() - at);
      f.feed(std::string_view(in).substr(at, n));
      at += n;
      drain(f, pieces);
      // At most one message not yet whole (and the piece just fed) is kept.
      require(f.buffered() <= limits.max_message + 16 + 4);
      if (!pieces.empty() && pieces.back()[0] == 'E')
        break;
    }
  }
  require(whole == pieces);
  return 0;
}
