#include "cpm/rt/rtp_stream.hpp"

#include <cstring>
#include <fmt/format.h>

#include "cpm/rt/guard.hpp"
#include "cpm/rt/loop.hpp"
#include "cpm/rt/re.hpp"
#include "cpm/rt/re_ptr.hpp"

namespace cpm::media {

struct RtpStream::Impl {
  re_ptr<struct rtp_sock> rs;
  std::string host;
  uint16_t port = 0;
  std::string cname;
  struct sa remote {};
  bool connected = false;
  Codec codec = Codec::Pcmu;
  bool marker = true;
  uint32_t ts = 0;
  Counters counters;
  FrameHandler on_frame;
  sip::Diag diag;

  static void on_rtp(const struct sa*, const struct rtp_header* hdr, struct mbuf* mb,
                     void* arg) noexcept
  {
    auto& self = *static_cast<Impl*>(arg);
    sip::guarded(self.diag, "rtp", [&] {
      auto received = codec_by_payload_type(hdr->pt);
      if (!received) {
        // Comfort noise (13), telephone-event or anything else: not audio we mix.
        ++self.counters.bad;
        return;
      }
      ++self.counters.received;
      self.counters.last_rx_ms = sip::jiffies();
      Frame frame{};
      const size_t n = std::min(mbuf_get_left(mb), k_samples);
      decode(*received, mbuf_buf(mb), n, frame.data());
      if (self.on_frame)
        self.on_frame(hdr->seq, frame);
    });
  }

  static void on_rtcp(const struct sa*, struct rtcp_msg*, void* arg) noexcept
  {
    auto& self = *static_cast<Impl*>(arg);
    ++self.counters.rtcp;
  }
};

RtpStream::RtpStream() : m(std::make_unique<Impl>()) {}

RtpStream::~RtpStream() = default;

Result<std::unique_ptr<RtpStream>> RtpStream::open(const std::string& host, uint16_t min_port,
                                                   uint16_t max_port, std::string cname)
{
  std::unique_ptr<RtpStream> s(new RtpStream());
  struct sa ip;
  if (sa_set_str(&ip, host.c_str(), 0))
    return fail(fmt::format("RTP: {} is not an IP address", host), 2);
  if (min_port >= max_port)
    return fail(fmt::format("RTP: empty port range {}-{}", min_port, max_port), 2);
  int err = rtp_listen(re_out(s->m->rs), IPPROTO_UDP, &ip, min_port, max_port, true, Impl::on_rtp,
                       Impl::on_rtcp, s->m.get());
  if (err)
    return fail(fmt::format("RTP: cannot bind {} ports {}-{}: {}", host, min_port, max_port,
                            std::strerror(err)),
                3);
  s->m->host = host;
  s->m->port = sa_port(rtp_local(s->m->rs.get()));
  s->m->cname = cname.empty() ? fmt::format("cpm@{}", host) : std::move(cname);
  s->m->ts = rand_u32();
  rtcp_set_srate(s->m->rs.get(), k_rate, k_rate);
  return s;
}

const std::string& RtpStream::host() const
{
  return m->host;
}

uint16_t RtpStream::port() const
{
  return m->port;
}

Result<void> RtpStream::connect(const std::string& host, uint16_t port, Codec codec)
{
  if (!m->rs)
    return fail("RTP: stream stopped", 3);
  struct sa dst, rtcp;
  if (sa_set_str(&dst, host.c_str(), port) || port == 0)
    return fail(fmt::format("RTP: bad remote {}:{}", host, port), 2);
  rtcp = dst;
  sa_set_port(&rtcp, static_cast<uint16_t>(port + 1));
  const bool changed = !m->connected || !sa_cmp(&dst, &m->remote, SA_ALL) || codec != m->codec;
  m->remote = dst;
  m->codec = codec;
  m->connected = true;
  if (changed)
    m->marker = true;
  rtcp_start(m->rs.get(), m->cname.c_str(), &rtcp);
  return {};
}

bool RtpStream::connected() const
{
  return m->connected;
}

Codec RtpStream::codec() const
{
  return m->codec;
}

Result<void> RtpStream::send(const Frame& frame)
{
  if (!m->rs || !m->connected)
    return {};
  re_ptr<struct mbuf> mb(mbuf_alloc(RTP_HEADER_SIZE + k_samples));
  if (!mb)
    return fail("RTP: out of memory", 3);
  mb->pos = RTP_HEADER_SIZE;
  mb->end = RTP_HEADER_SIZE + k_samples;
  encode(m->codec, frame, mb->buf + RTP_HEADER_SIZE);
  int err =
      rtp_send(m->rs.get(), &m->remote, false, m->marker, payload_type(m->codec), m->ts, mb.get());
  m->ts += static_cast<uint32_t>(k_samples);
  if (err)
    return fail(fmt::format("RTP: send: {}", std::strerror(err)), 3);
  m->marker = false;
  ++m->counters.sent;
  return {};
}

void RtpStream::on_frame(FrameHandler fn)
{
  m->on_frame = std::move(fn);
}

void RtpStream::on_diag(std::function<void(const std::string&)> fn)
{
  m->diag = std::move(fn);
}

const RtpStream::Counters& RtpStream::counters() const
{
  return m->counters;
}

void RtpStream::stop()
{
  m->rs.reset();
  m->connected = false;
}

} // namespace cpm::media
