#!/usr/bin/env python3
"""Measure or make pure tones in 16-bit PCM WAV files (issue 11's audio tests).

  tones.py [--skip S] [--until S] FILE.wav FREQ...
                                     one line per frequency: "FREQ AMPLITUDE", the tone's
                                     amplitude as a fraction of full scale (a full-scale
                                     sine is 1.0), then "rms RMS" (also of full scale)
  tones.py --make FILE.wav FREQ [SECONDS]
                                     write an 8 kHz mono 16-bit tone, amplitude 0.3
                                     (default 5 s)

The measurement is a Goertzel filter (one DFT bin) over each 20 ms frame after the first
second (skip=1.0, to leave out a jitter buffer's start-up and the time before a stream was
added: --skip S changes it) and up to the end (or to --until S seconds), averaged over the
frames. A frame of N samples holding
A*sin(2*pi*f*t) gives |X(f)| = A*N/2 in its bin, so 2*|X|/N estimates A; 20 ms frames at
8 kHz put the bins 50 Hz apart, so 440 Hz (bin 8.8) leaks a little into the 400 and 450
Hz neighbours and, much less, into 1000 Hz: with 440 and 1000 Hz tones the estimate of an
absent one stays below 2 % of the present one's amplitude (0.0096 beside a 0.5 tone, from
baresip's ausine through G.711), and a present one is within 20 % of its amplitude. So a
test asserts "present" as above 0.1 and "absent" as below 0.05 for tones of 0.3 to 0.5.
Exit status: 0, or 2 for a file that is not a readable 16-bit PCM WAV (or too short).
"""
import math
import struct
import sys
import wave


def goertzel(samples, freq, rate):
    """The amplitude (fraction of full scale) of `freq` in `samples`."""
    n = len(samples)
    w = 2.0 * math.pi * freq / rate
    coef = 2.0 * math.cos(w)
    q1 = q2 = 0.0
    for x in samples:
        q0 = coef * q1 - q2 + x
        q2, q1 = q1, q0
    power = q1 * q1 + q2 * q2 - coef * q1 * q2
    return 2.0 * math.sqrt(max(power, 0.0)) / n / 32768.0


def read(path):
    """(rate, mono samples) of a 16-bit PCM WAV; stereo is averaged."""
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{w.getsampwidth() * 8}-bit samples, not 16-bit")
        rate, ch, n = w.getframerate(), w.getnchannels(), w.getnframes()
        raw = w.readframes(n)
    values = struct.unpack(f"<{len(raw) // 2}h", raw)
    if ch > 1:
        values = [sum(values[i:i + ch]) / ch for i in range(0, len(values), ch)]
    return rate, values


def measure(path, freqs, skip, until=None):
    rate, samples = read(path)
    frame = rate // 50
    start = int(skip * rate)
    end = len(samples) if until is None else min(len(samples), int(until * rate))
    frames = [samples[i:i + frame] for i in range(start, end - frame + 1, frame)]
    if not frames:
        raise ValueError(f"{len(samples)} samples at {rate} Hz: nothing from {skip} s"
                         f" to {until if until is not None else 'the end'}")
    for f in freqs:
        amp = sum(goertzel(fr, f, rate) for fr in frames) / len(frames)
        print(f"{f:g} {amp:.4f}")
    body = samples[start:end]
    rms = math.sqrt(sum(x * x for x in body) / len(body)) / 32768.0
    print(f"rms {rms:.4f}")


def make(path, freq, seconds):
    rate, amp = 8000, 0.3
    n = int(rate * seconds)
    data = struct.pack(f"<{n}h", *(int(round(amp * 32767 * math.sin(2 * math.pi * freq * i / rate)))
                                  for i in range(n)))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data)


def main(argv):
    try:
        if len(argv) >= 3 and argv[0] == "--make":
            make(argv[1], float(argv[2]), float(argv[3]) if len(argv) > 3 else 5.0)
            return 0
        skip, until = 1.0, None
        while len(argv) >= 2 and argv[0] in ("--skip", "--until"):
            if argv[0] == "--skip":
                skip = float(argv[1])
            else:
                until = float(argv[1])
            argv = argv[2:]
        if len(argv) < 2:
            print(__doc__.strip(), file=sys.stderr)
            return 2
        measure(argv[0], [float(f) for f in argv[1:]], skip, until)
        return 0
    except (OSError, ValueError, EOFError, wave.Error, struct.error) as e:
        print(f"tones.py: {argv[1] if argv and argv[0] == '--make' else argv[0]}: {e}",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
