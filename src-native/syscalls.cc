#include "syscalls.h"

#include <cerrno>
#include <cstring>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace tv {

int GetSockOpt(int fd, int level, int name, void* buf, size_t cap) {
  socklen_t len = static_cast<socklen_t>(cap);
  if (getsockopt(fd, level, name, buf, &len) != 0) return -errno;
  return static_cast<int>(len);
}

int SetSockOpt(int fd, int level, int name, const void* buf, size_t len) {
  if (setsockopt(fd, level, name, buf, static_cast<socklen_t>(len)) != 0) return -errno;
  return 0;
}

int CheckTcp(int fd) {
  int type = 0, protocol = 0;
  int r = GetSockOpt(fd, SOL_SOCKET, SO_TYPE, &type, sizeof type);
  if (r < 0) return r;
  r = GetSockOpt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, sizeof protocol);
  if (r < 0) return r;
  if (type != SOCK_STREAM || protocol != IPPROTO_TCP) return -EOPNOTSUPP;
  return 0;
}

int ReadQueues(int fd, Queues* out) {
  int r = CheckTcp(fd);
  if (r < 0) return r;
  int v = 0;
  if (ioctl(fd, SIOCOUTQ, &v) != 0) return -errno;
  out->send_queue = v;
  if (ioctl(fd, SIOCOUTQNSD, &v) != 0) return -errno;
  out->unsent = v;
  if (ioctl(fd, SIOCINQ, &v) != 0) return -errno;
  out->receive_queue = v;
  return 0;
}

int ReadTcpInfo(int fd, void* buf, size_t cap) {
  // A detached or empty JS buffer arrives as (nullptr, 0): memset(nullptr, 0, 0)
  // is undefined behaviour (UBSan flagged it under the fuzzer).
  if (cap > 0) std::memset(buf, 0, cap);
  return GetSockOpt(fd, IPPROTO_TCP, TCP_INFO, buf, cap);
}

int ReadCookie(int fd, uint64_t* cookie) {
  *cookie = 0;
  int r = GetSockOpt(fd, SOL_SOCKET, SO_COOKIE, cookie, sizeof *cookie);
  return r < 0 ? r : 0;
}

void ReadBatch(const int32_t* fds, const uint64_t* cookies, size_t count,
               uint8_t* out, size_t stride) {
  const size_t info_cap = stride - kRecordHeader;
  for (size_t i = 0; i < count; i++) {
    uint8_t* rec = out + i * stride;
    int32_t header[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const int fd = fds[i];
    int r = 0;
    if (cookies != nullptr && cookies[i] != 0) {
      uint64_t actual = 0;
      r = ReadCookie(fd, &actual);
      if (r == 0 && actual != cookies[i]) r = -ESTALE;
    }
    // TCP_INFO goes first: it fails with EOPNOTSUPP/ENOTSOCK on anything that
    // is not a TCP socket, so the ioctls below only ever see TCP sockets.
    if (r == 0) r = ReadTcpInfo(fd, rec + kRecordHeader, info_cap);
    if (r >= 0) {
      const int info_len = r;
      int v = 0;
      if (ioctl(fd, SIOCOUTQ, &v) != 0) {
        r = -errno;
      } else {
        header[2] = v;
        if (static_cast<size_t>(info_len) >= kTcpInfoNotsentOffset + 4) {
          std::memcpy(&header[3], rec + kRecordHeader + kTcpInfoNotsentOffset, 4);
        } else if (ioctl(fd, SIOCOUTQNSD, &v) == 0) {
          header[3] = v;
        } else {
          r = -errno;
        }
      }
      if (r >= 0) header[0] = info_len;
    }
    if (r < 0) {
      std::memset(header, 0, sizeof header);
      header[1] = -r;
      std::memset(rec + kRecordHeader, 0, info_cap);
    }
    std::memcpy(rec, header, sizeof header);
  }
}

}  // namespace tv


namespace tv {

int ApplyProtectOptions(int fd, const ProtectOptions& o) {
  const int one = 1;
  int r = SetSockOpt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  if (r == 0) r = SetSockOpt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &o.keep_idle_s, sizeof(int));
  if (r == 0) r = SetSockOpt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &o.keep_intvl_s, sizeof(int));
  // With TCP_USER_TIMEOUT set the keepalive timer ignores KEEPCNT (it aborts at
  // the first tick with a probe out and nothing heard for the user timeout):
  // keepCount 0 skips the call.
  if (r == 0 && o.keep_cnt > 0) r = SetSockOpt(fd, IPPROTO_TCP, TCP_KEEPCNT, &o.keep_cnt, sizeof(int));
  if (r == 0) r = SetSockOpt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &o.user_timeout_ms, sizeof(int));
  if (r == 0 && o.rto_max_ms > 0) {
    int q = SetSockOpt(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &o.rto_max_ms, sizeof(int));
    if (q != -ENOPROTOOPT) r = q;
  }
  return r;
}

int EpollCreate() {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int EpollAddDeathwatch(int epfd, int fd, uint64_t tag) {
  struct epoll_event ev;
  std::memset(&ev, 0, sizeof ev);
  ev.events = EPOLLERR | EPOLLHUP | EPOLLONESHOT;
  ev.data.u64 = tag;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0) return 0;
  if (errno != EEXIST) return -errno;
  // The same open file registered again (an fd number the kernel reused after
  // a close we did not see cannot be here: closing removes it). Re-arm.
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == 0) return 0;
  return -errno;
}

int EpollDrain(int epfd, uint64_t* tags, uint32_t* revents, int max) {
  constexpr int kChunk = 64;
  struct epoll_event evs[kChunk];
  int n = epoll_wait(epfd, evs, max < kChunk ? max : kChunk, 0);
  if (n < 0) return errno == EINTR ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    tags[i] = evs[i].data.u64;
    revents[i] = evs[i].events;
  }
  return n;
}

}  // namespace tv
