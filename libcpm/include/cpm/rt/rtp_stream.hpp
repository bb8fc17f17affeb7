#pragma once
// One audio stream over RTP with RTCP (RFC 3550) on libre's rtp: bound on an even port
// (RTCP on the next), sending 20 ms frames in the negotiated codec (G.711, or Opus with its
// encoder and decoder state kept for the stream's life) to the remote of the SDP, and
// decoding what arrives by its payload type.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "cpm/base/error.hpp"
#include "cpm/media/audio.hpp"
#include "cpm/media/coder.hpp"

namespace cpm::media {

class RtpStream {
public:
  // Counters of the stream (libre's RTCP keeps the reports).
  struct Counters {
    uint64_t sent = 0;     // RTP packets sent
    uint64_t received = 0; // RTP packets received and decoded
    uint64_t bad = 0;  // received with a payload type we do not decode, or undecodable (dropped)
    uint64_t rtcp = 0; // RTCP packets received
    uint64_t last_rx_ms = 0; // jiffies() of the last RTP packet received, 0 before any
  };
  using FrameHandler = std::function<void(uint16_t seq, const Frame&)>;

  // Bind RTP and RTCP on `host` (an IP address), on a random even port of
  // [min_port, max_port) and the next one; `cname` is RTCP's CNAME ("" = user@host made up).
  static Result<std::unique_ptr<RtpStream>> open(const std::string& host, uint16_t min_port = 20000,
                                                 uint16_t max_port = 39998, std::string cname = {});
  ~RtpStream();
  RtpStream(const RtpStream&) = delete;
  RtpStream& operator=(const RtpStream&) = delete;

  // The bound address (for the SDP's c= and m=audio port).
  const std::string& host() const;
  uint16_t port() const;
  // Send to `host`:`port` (RTCP to port+1) in `format` (the codec and the payload type the
  // SDP gave it); again after a re-INVITE changes the remote or the codec (the next packet
  // carries the marker bit; a new codec starts a new encoder).
  Result<void> connect(const std::string& host, uint16_t port, Format format);
  // The same with the codec at the payload type we offer it with.
  Result<void> connect(const std::string& host, uint16_t port, Codec codec)
  {
    return connect(host, port, media::format(codec));
  }
  bool connected() const;
  Codec codec() const;
  Format format() const;
  // Encode and send one frame (timestamp + timestamp_step: 160 for G.711, 960 for Opus's
  // 48 kHz clock); nothing when not connected.
  Result<void> send(const Frame& frame);
  // Every received frame, decoded by its payload type (PCMU 0, PCMA 8, or the connected
  // format's: Opus); a payload of another length than 20 ms is cut or padded with silence
  // to one frame.
  void on_frame(FrameHandler fn);
  // Diagnostics (stderr with the program's prefix when unset).
  void on_diag(std::function<void(const std::string&)> fn);
  const Counters& counters() const;
  // Close both sockets; nothing is sent or received after.
  void stop();

private:
  RtpStream();
  struct Impl;
  std::unique_ptr<Impl> m;
};

} // namespace cpm::media
