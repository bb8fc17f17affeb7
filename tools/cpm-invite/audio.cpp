// cpm-invite's audio stream on media::RtpStream, media::Ticker and the WAV files.
#include "cpm-invite/audio.hpp"

#include <fmt/format.h>

namespace cpm::invite {

Result<void> Audio::open_files(const std::string& in, bool once, const std::string& out)
{
  if (!in.empty()) {
    auto r = media::WavReader::open(in, !once);
    if (!r)
      return fail(fmt::format("--audio-in {}: {}", in, r.error().message), 2);
    m_in.emplace(std::move(*r));
  }
  if (!out.empty()) {
    auto w = media::WavWriter::create(out);
    if (!w)
      return fail(fmt::format("--audio-out {}: {}", out, w.error().message), 2);
    m_out.emplace(std::move(*w));
  }
  return {};
}

Result<uint16_t> Audio::bind(const std::string& host)
{
  if (!m_rtp) {
    auto r = media::RtpStream::open(host);
    if (!r)
      return fail(fmt::format("RTP: {}", r.error().message), 3);
    m_rtp = std::move(*r);
    m_rtp->on_diag([this](const std::string& s) { m_log.diag(s); });
    m_rtp->on_frame([this](uint16_t, const media::Frame& f) {
      if (m_receive && m_out)
        if (auto w = m_out->write(f); !w)
          m_log.diag(fmt::format("--audio-out: {}", w.error().message));
    });
  }
  return m_rtp->port();
}

uint16_t Audio::port() const
{
  return m_rtp ? m_rtp->port() : 0;
}

Result<void> Audio::start(const std::string& host, uint16_t port, media::Format format, bool send,
                          bool receive)
{
  if (!m_rtp)
    return fail("no RTP socket", 3);
  if (auto r = m_rtp->connect(host, port, format); !r)
    return r;
  m_format = format;
  m_send = send;
  m_receive = receive;
  m_active = true;
  if (!m_ticker)
    m_ticker = std::make_unique<media::Ticker>([this] { tick(); });
  m_log.note(fmt::format("audio {} {}:{} in {} ({}{})", send ? "to" : "from", host, port,
                         media::name(format.codec), send ? "send" : "", receive ? "recv" : ""));
  return {};
}

void Audio::stop()
{
  m_ticker.reset();
  if (m_rtp)
    m_rtp->stop();
  m_rtp.reset();
  m_active = m_send = m_receive = false;
}

void Audio::tick()
{
  if (!m_active || !m_send)
    return;
  media::Frame f{};
  if (m_in && !m_in_ended && !m_in->next(f)) {
    m_in_ended = true;
    if (!m_in->error().empty())
      m_log.diag(fmt::format("--audio-in: {}", m_in->error()));
    f.fill(0);
  }
  (void)m_rtp->send(f);
}

} // namespace cpm::invite
