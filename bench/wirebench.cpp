// The parser of our own against libre's decoder on one typical 500-byte MESSAGE (issue 13:
// the proxy parses every datagram). Prints nanoseconds per parse for each; not run by CI,
// built so that it cannot rot. Usage: cpm-wirebench [ITERATIONS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cpm/grammar/wire.hpp"
#include "cpm/rt/mbuf.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/re_ptr.hpp"

namespace {

const std::string k_message =
    "MESSAGE sip:bob@b.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.1.10:5060;branch=z9hG4bK-524287-1---a3f2c1d0e9b8a7f6;rport\r\n"
    "Via: SIP/2.0/UDP 127.0.1.9:5060;branch=z9hG4bK-524287-1---0f1e2d3c4b5a6978\r\n"
    "Record-Route: <sip:127.0.1.9;lr;ftag=8c2e1f0a>\r\n"
    "Route: <sip:127.0.0.1:5060;lr>\r\n"
    "Max-Forwards: 69\r\n"
    "From: \"Alice\" <sip:alice@a.example>;tag=8c2e1f0a\r\n"
    "To: <sip:bob@b.example>\r\n"
    "Call-ID: 4f9c0a2d-7be1-4c3e-9a55-3e0c1b2a9f87@a.example\r\n"
    "CSeq: 17 MESSAGE\r\n"
    "P-Asserted-Identity: <sip:alice@a.example>\r\n"
    "Accept-Contact: *;+g.oma.sip-im\r\n"
    "User-Agent: cpm-send/1.0\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 64\r\n"
    "\r\n"
    "Hello Bob, this is a sixty-four byte message body for the bench.";

template <class F> double ns_per(long n, F&& f)
{
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i)
    f();
  auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / double(n);
}

} // namespace

int main(int argc, char** argv)
{
  long n = argc > 1 ? std::atol(argv[1]) : 200000;
  cpm::sip::wire::Message m;
  long ok = 0;
  double ours = ns_per(
      n, [&] { ok += cpm::sip::wire::parse(k_message, m).verdict == cpm::sip::wire::Verdict::Ok; });
  double libre = ns_per(n / 10 + 1, [&] {
    auto mb = cpm::mbuf_copy(k_message);
    cpm::re_ptr<struct sip_msg> msg;
    ok += sip_msg_decode(cpm::re_out(msg), mb.get()) == 0;
  });
  std::printf("message %zu bytes: wire::parse %.0f ns, libre sip_msg_decode %.0f ns (%ld ok)\n",
              k_message.size(), ours, libre, ok);
  return 0;
}
