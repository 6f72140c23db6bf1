// Raw syscall helpers: plain C++, no N-API. Every function returns a
// non-negative result on success and -errno on failure, and never touches
// memory outside the (pointer, length) it is given.
#pragma once
#include <cstddef>
#include <cstdint>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

// Kernel ABI numbers newer than some build hosts' headers, defined here once
// for every source file (the values are the kernel's, not this host's).
#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif
#ifndef SIOCOUTQNSD
#define SIOCOUTQNSD 0x894B
#endif
#ifndef SO_MAX_PACING_RATE
#define SO_MAX_PACING_RATE 47
#endif
#ifndef TCP_USER_TIMEOUT
#define TCP_USER_TIMEOUT 18
#endif
#ifndef TCP_NOTSENT_LOWAT
#define TCP_NOTSENT_LOWAT 25
#endif
#ifndef TCP_RTO_MAX_MS
#define TCP_RTO_MAX_MS 44
#endif
#ifndef TCP_RTO_MIN_US
#define TCP_RTO_MIN_US 45
#endif
#ifndef TCP_DELACK_MAX_US
#define TCP_DELACK_MAX_US 46
#endif

namespace tv {

// getsockopt into buf[0..cap); returns the length the kernel wrote.
int GetSockOpt(int fd, int level, int name, void* buf, size_t cap);
// setsockopt from buf[0..len); returns 0.
int SetSockOpt(int fd, int level, int name, const void* buf, size_t len);
// 0 when fd is a TCP socket, -ENOTSOCK / -EOPNOTSUPP (or the getsockopt
// error) otherwise. The queue ioctls use this: SIOCOUTQ is TIOCOUTQ and
// SIOCINQ is FIONREAD, which would happily answer for a tty, pipe or UDP
// socket and so report some other object's queue.
int CheckTcp(int fd);
// SIOCOUTQ, SIOCOUTQNSD and SIOCINQ of a TCP socket (bytes).
struct Queues { int32_t send_queue; int32_t unsent; int32_t receive_queue; };
int ReadQueues(int fd, Queues* out);
// TCP_INFO into buf[0..cap), zeroed first; returns the kernel's length.
int ReadTcpInfo(int fd, void* buf, size_t cap);
// SO_COOKIE (0 where the kernel has none to give).
int ReadCookie(int fd, uint64_t* cookie);

// Fixed-stride record written by ReadBatch, one per fd (little-endian host):
//   [0]  int32  tcp_info length (0 when errno != 0)
//   [4]  int32  errno (0 = ok; ESTALE = cookie mismatch, fd reused)
//   [8]  int32  SIOCOUTQ   bytes (unacked + unsent, +1 for a queued FIN)
//   [12] int32  SIOCOUTQNSD bytes (never sent)
//   [16] 16 bytes reserved (zero)
//   [32] tcp_info, (stride - 32) bytes
constexpr size_t kRecordHeader = 32;
// struct tcp_info facts the batch read relies on (kernel ABI, not this host's
// headers): the shortest struct any Linux returns (2.6: 104 bytes) and the
// offset of tcpi_notsent_bytes (4.6+), which equals SIOCOUTQNSD.
constexpr size_t kTcpInfoMinLength = 104;
constexpr size_t kTcpInfoNotsentOffset = 144;
// Reads count fds into out (count * stride bytes). cookies may be null; a
// non-zero expected cookie is compared with SO_COOKIE before anything else is
// read, so a reused fd number is never reported as the old socket.
void ReadBatch(const int32_t* fds, const uint64_t* cookies, size_t count,
               uint8_t* out, size_t stride);

}  // namespace tv

namespace tv {

// Options protect() puts on a socket, as the kernel takes them. rto_max_ms 0
// = leave TCP_RTO_MAX_MS alone (it exists from 6.15; older kernels refuse it
// with ENOPROTOOPT, which is not an error here).
struct ProtectOptions {
  int user_timeout_ms;
  int keep_idle_s;
  int keep_intvl_s;
  int keep_cnt;
  int rto_max_ms;
};
// SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT, TCP_USER_TIMEOUT (and TCP_RTO_MAX_MS
// where the kernel has it): 0 or the first -errno.
int ApplyProtectOptions(int fd, const ProtectOptions& o);
// epoll_create1(EPOLL_CLOEXEC): the fd or -errno.
int EpollCreate();
// Adds fd to epfd for EPOLLERR|EPOLLHUP, one-shot, with data = tag: 0 or -errno.
int EpollAddDeathwatch(int epfd, int fd, uint64_t tag);
// Non-blocking epoll_wait; each event as (tag, revents). Returns the count or -errno.
int EpollDrain(int epfd, uint64_t* tags, uint32_t* revents, int max);

}  // namespace tv
