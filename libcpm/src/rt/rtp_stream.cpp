#include "cpm/rt/rtp_stream.hpp"

#include <cstring>
#include <fmt/format.h>
#include <optional>

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
  Format format;
  std::optional<Encoder> encoder;
  // Opus's decoder, made when the stream is first connected in Opus, kept after (G.711
  // needs none).
  std::optional<Decoder> opus;
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
      Frame frame{};
      if (auto g711 = codec_by_payload_type(hdr->pt)) {
        decode(*g711, mbuf_buf(mb), std::min(mbuf_get_left(mb), k_samples), frame.data());
      } else if (self.opus && self.format.codec == Codec::Opus &&
                 hdr->pt == self.format.payload_type) {
        if (!self.opus->decode(mbuf_buf(mb), mbuf_get_left(mb), frame)) {
          ++self.counters.bad;
          return;
        }
      } else {
        // Comfort noise (13), telephone-event or anything else: not audio we mix.
        ++self.counters.bad;
        return;
      }
      ++self.counters.received;
      self.counters.last_rx_ms = sip::jiffies();
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

Result<void> RtpStream::connect(const std::string& host, uint16_t port, Format format)
{
  if (!m->rs)
    return fail("RTP: stream stopped", 3);
  struct sa dst, rtcp;
  if (sa_set_str(&dst, host.c_str(), port) || port == 0)
    return fail(fmt::format("RTP: bad remote {}:{}", host, port), 2);
  rtcp = dst;
  sa_set_port(&rtcp, static_cast<uint16_t>(port + 1));
  if (!m->encoder || m->encoder->codec() != format.codec) {
    auto e = Encoder::create(format.codec);
    if (!e)
      return tl::unexpected(e.error());
    m->encoder.emplace(std::move(*e));
  }
  if (format.codec == Codec::Opus && !m->opus) {
    auto d = Decoder::create(Codec::Opus);
    if (!d)
      return tl::unexpected(d.error());
    m->opus.emplace(std::move(*d));
  }
  const bool changed = !m->connected || !sa_cmp(&dst, &m->remote, SA_ALL) || format != m->format;
  m->remote = dst;
  m->format = format;
  m->connected = true;
  if (changed)
    m->marker = true;
  // RTCP's sender reports give RTP time in the codec's clock (48 kHz for Opus).
  rtcp_set_srate(m->rs.get(), clock_rate(format.codec), clock_rate(format.codec));
  rtcp_start(m->rs.get(), m->cname.c_str(), &rtcp);
  return {};
}

bool RtpStream::connected() const
{
  return m->connected;
}

Codec RtpStream::codec() const
{
  return m->format.codec;
}

Format RtpStream::format() const
{
  return m->format;
}

Result<void> RtpStream::send(const Frame& frame)
{
  if (!m->rs || !m->connected)
    return {};
  re_ptr<struct mbuf> mb(mbuf_alloc(RTP_HEADER_SIZE + k_max_payload));
  if (!mb)
    return fail("RTP: out of memory", 3);
  auto n = m->encoder->encode(frame, mb->buf + RTP_HEADER_SIZE);
  if (!n)
    return tl::unexpected(n.error());
  mb->pos = RTP_HEADER_SIZE;
  mb->end = RTP_HEADER_SIZE + *n;
  int err =
      rtp_send(m->rs.get(), &m->remote, false, m->marker, m->format.payload_type, m->ts, mb.get());
  m->ts += timestamp_step(m->format.codec);
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
