#pragma once
// Datagrams queued for one sendmmsg: packed one after another into one buffer allocated once,
// each with its destination. rt::UdpSocket queues what it sends during a receive burst here,
// and so does sip::Stack for the libre sockets whose reads are its own: a burst of requests
// answered and forwarded costs one system call instead of one per datagram.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <sys/socket.h>

struct sa;

namespace cpm::rt {

class DatagramQueue {
public:
  // At most `slots` datagrams and `bytes` bytes at once (`bytes` at least the largest
  // datagram, 65535). Nothing is allocated until the first push.
  DatagramQueue(size_t slots, size_t bytes);
  ~DatagramQueue();
  DatagramQueue(const DatagramQueue&) = delete;
  DatagramQueue& operator=(const DatagramQueue&) = delete;

  // Copy `bytes` for `dst` to the end of the queue; false when it does not fit (flush first).
  bool push(const struct ::sa& dst, std::string_view bytes);

  struct Flushed {
    size_t sent = 0;      // datagrams the kernel took
    size_t calls = 0;     // sendmmsg calls
    bool blocked = false; // EAGAIN: the rest waits until `fd` is writable
  };
  // Send what is queued on `fd` with sendmmsg. A datagram the kernel refuses (an error from
  // an earlier ICMP message, EHOSTUNREACH, ...) goes to `refused` with its errno and is
  // skipped; on EAGAIN the rest stays queued.
  Flushed flush(int fd, const std::function<void(int err, const struct ::sa& dst)>& refused);

  size_t size() const { return m_count - m_head; }
  bool empty() const { return m_count == m_head; }

private:
  size_t m_slots, m_bytes;
  std::unique_ptr<char[]> m_buf;
  size_t m_used = 0;
  std::vector<struct mmsghdr> m_msgs;
  std::vector<struct iovec> m_iov;
  std::vector<struct ::sa> m_dst;
  // [m_head, m_count) are queued and not yet sent.
  size_t m_head = 0;
  size_t m_count = 0;
};

} // namespace cpm::rt
