#pragma once
// WAV files as 20 ms frames, on librem's aufile: what a participant says (--audio-in) and
// what it hears (--audio-out).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cpm/base/error.hpp"
#include "cpm/media/audio.hpp"

namespace cpm::media {

// Frames from a WAV file: 16-bit PCM or G.711 (A-law, u-law), mono or stereo, at 8 kHz or
// a rate librem's auresamp turns into 8 kHz (an integer multiple: 16, 24, 32, 48 kHz);
// another format is refused by open() with an error naming it.
class WavReader {
public:
  ~WavReader();
  WavReader(WavReader&&) noexcept;
  WavReader& operator=(WavReader&&) noexcept;
  // `loop`: start again at the end (a file with no samples is an error then).
  static Result<WavReader> open(const std::string& path, bool loop);
  // The next frame; the last one is padded with silence. False at the end when not
  // looping (or on a read error, kept in error()).
  bool next(Frame& frame);
  // The file's format as read ("16000 Hz, 2 channels, S16LE").
  const std::string& format() const;
  // A read error met by next(), or "".
  const std::string& error() const;

private:
  struct Impl;
  explicit WavReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

// Frames into a new WAV file (8 kHz mono 16-bit PCM); librem writes the header's sizes
// when the writer is destroyed (or close() is called).
class WavWriter {
public:
  ~WavWriter();
  WavWriter(WavWriter&&) noexcept;
  WavWriter& operator=(WavWriter&&) noexcept;
  static Result<WavWriter> create(const std::string& path);
  Result<void> write(const Frame& frame);
  // Finish the file now (its header's sizes); later writes fail.
  void close();
  // Frames written so far.
  uint64_t frames() const;

private:
  struct Impl;
  explicit WavWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m;
};

// Every frame of a WAV file (not looping), for tests and tools.
Result<std::vector<Frame>> read_wav(const std::string& path);

} // namespace cpm::media
