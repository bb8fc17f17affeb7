#pragma once
// cpm-invite's audio stream: one RtpStream while the session carries audio, fed every 20 ms
// from --audio-in (or silence) while we send, and what arrives written to --audio-out while
// we receive.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cpm/base/error.hpp"
#include "cpm/media/audio.hpp"
#include "cpm/media/wav.hpp"
#include "cpm/rt/media_clock.hpp"
#include "cpm/rt/rtp_stream.hpp"
#include "cpm/ua/log.hpp"

namespace cpm::invite {

class Audio {
public:
  explicit Audio(const ua::Log& log) : m_log(log) {}
  // Open the files (at startup: a bad file is a usage error).
  Result<void> open_files(const std::string& in, bool once, const std::string& out);
  // Bind the RTP socket on `host` when it is not bound; its port.
  Result<uint16_t> bind(const std::string& host);
  bool bound() const { return static_cast<bool>(m_rtp); }
  uint16_t port() const;
  // Stream to `host`:`port` in `format`, sending and/or receiving.
  Result<void> start(const std::string& host, uint16_t port, media::Format format, bool send,
                     bool receive);
  // The stream is gone (port 0, the session's end): the socket is closed.
  void stop();
  bool active() const { return m_active; }
  media::Codec codec() const { return m_format.codec; }

private:
  void tick();

  ua::Log m_log;
  std::optional<media::WavReader> m_in;
  bool m_in_ended = false;
  std::optional<media::WavWriter> m_out;
  std::unique_ptr<media::RtpStream> m_rtp;
  std::unique_ptr<media::Ticker> m_ticker;
  media::Format m_format;
  bool m_active = false, m_send = false, m_receive = false;
};

} // namespace cpm::invite
