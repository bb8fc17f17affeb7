// Datagrams queued for one sendmmsg.
#include "cpm/rt/datagram_queue.hpp"

#include <cerrno>
#include <cstring>

#include "cpm/rt/re.hpp"

namespace cpm::rt {

DatagramQueue::DatagramQueue(size_t slots, size_t bytes)
    : m_slots(slots ? slots : 1), m_bytes(bytes)
{
}

DatagramQueue::~DatagramQueue() = default;

bool DatagramQueue::push(const struct sa& dst, std::string_view bytes)
{
  if (m_count == m_slots || m_used + bytes.size() > m_bytes)
    return false;
  if (!m_buf) {
    m_buf.reset(new char[m_bytes]); // pages never written stay untouched
    m_msgs.assign(m_slots, mmsghdr{});
    m_iov.assign(m_slots, iovec{});
    m_dst.assign(m_slots, sa{});
  }
  char* p = m_buf.get() + m_used;
  std::memcpy(p, bytes.data(), bytes.size());
  m_used += bytes.size();
  size_t i = m_count++;
  m_dst[i] = dst;
  m_iov[i].iov_base = p;
  m_iov[i].iov_len = bytes.size();
  auto& h = m_msgs[i].msg_hdr;
  h = {};
  h.msg_name = &m_dst[i].u;
  h.msg_namelen = m_dst[i].len;
  h.msg_iov = &m_iov[i];
  h.msg_iovlen = 1;
  return true;
}

DatagramQueue::Flushed
DatagramQueue::flush(int fd, const std::function<void(int err, const struct sa& dst)>& refused)
{
  Flushed f;
  while (m_head < m_count) {
    int n = sendmmsg(fd, &m_msgs[m_head], unsigned(m_count - m_head), 0);
    ++f.calls;
    if (n > 0) {
      m_head += size_t(n);
      f.sent += size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      f.blocked = true; // the kernel's buffer is full
      break;
    }
    // sendmmsg reports the error of the first datagram it could not send: skip that one
    // and go on with the next.
    int err = n < 0 ? errno : EIO;
    if (refused)
      refused(err, m_dst[m_head]);
    ++m_head;
  }
  if (m_head == m_count)
    m_head = m_count = m_used = 0;
  return f;
}

} // namespace cpm::rt
