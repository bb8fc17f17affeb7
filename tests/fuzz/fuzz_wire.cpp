// libFuzzer target for the SIP parser of our own (cpm/grammar/wire.hpp): both framings,
// then every accessor and list walk on the result. Invariants: every view lies inside the
// input, a message never takes more than the input, and a stream that says Ok parses the
// same message again from the bytes it says it took.
// Build: cmake --preset fuzz && cmake --build build/fuzz --target fuzz_wire; run:
// build/fuzz/tests/fuzz_wire -max_total_time=60 tests/data/rfc4475
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cpm/grammar/request.hpp"
#include "cpm/grammar/wire.hpp"

namespace {

using namespace cpm::sip::wire;

// Abort (a finding) when an invariant does not hold.
void require(bool ok)
{
  if (!ok)
    std::abort();
}

void walk(std::string_view in, const Message& m, const Parsed& r)
{
  auto inside = [&](std::string_view v) {
    return v.empty() || (v.data() >= in.data() && v.data() + v.size() <= in.data() + in.size());
  };
  require(r.size <= in.size());
  require(r.verdict == Verdict::Ok || !r.why.empty() || r.verdict == Verdict::Incomplete);
  if (r.verdict == Verdict::Incomplete)
    return;
  for (auto v : {m.raw, m.method, m.ruri, m.reason, m.head, m.body, m.cseq_method, m.call_id,
                 m.via.transport, m.via.host, m.via.sent_by, m.via.branch, m.via.received,
                 m.via.params, m.via.value})
    require(inside(v));
  require(m.max_forwards <= 255);
  require(m.cseq <= 0x7fffffffu);
  for (const auto& f : m.fields) {
    require(inside(f.line) && inside(f.name) && inside(f.value));
    require(header_id(f.name) == f.id);
    require(m.find(f.name) != nullptr);
    Via v;
    if (parse_via(f.value, v))
      require(inside(v.host) && inside(v.branch) && inside(v.params) && !v.host.empty());
    require(inside(addr_spec_of(f.value)) && inside(header_param(f.value, "tag")));
    for_each_element(f.value, [&](std::string_view e) { require(!e.empty() && inside(e)); });
  }
  for (auto id : {Hdr::Via, Hdr::Route, Hdr::RecordRoute, Hdr::Contact, Hdr::AcceptContact,
                  Hdr::PAssertedIdentity}) {
    (void)m.find(id);
    for_each_value(m, id, [&](const Field& f, std::string_view e) {
      require(f.id == id && inside(e));
      require(inside(addr_spec_of(e)));
    });
  }
  for (auto v : {m.from_tag(), m.to_tag(), m.from_uri(), m.to_uri(), m.pai_uri()})
    require(inside(v));
  if (r.verdict == Verdict::Ok) {
    require(!m.call_id.empty() && !m.via.host.empty());
    if (m.request) {
      static cpm::sip::Request req; // reused, as the proxy reuses its own
      cpm::sip::fill_request(m, "fuzz", nullptr, req);
      require(req.headers.size() == m.fields.size());
    }
    require(!m.request || m.cseq_method == m.method);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
  // A copy of its own size, so that a read past the end is caught by ASan.
  const std::string in(reinterpret_cast<const char*>(data), size);
  static Message m;
  auto d = parse(in, m, Framing::Datagram);
  walk(in, m, d);
  auto s = parse(in, m, Framing::Stream);
  walk(in, m, s);
  if (s.verdict == Verdict::Ok) {
    // The bytes a stream message took hold that message and nothing else.
    auto raw_size = m.raw.size();
    const std::string taken = in.substr(0, s.size);
    auto again = parse(taken, m, Framing::Stream);
    require(again.verdict == Verdict::Ok && again.size == s.size && m.raw.size() == raw_size);
  }
  return 0;
}
