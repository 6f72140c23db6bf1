// Raw syscall helpers: plain C++, no N-API. Every function returns a
// non-negative result on success and -errno on failure, and never touches
// memory outside the (pointer, length) it is given.
#pragma once
#include <cstddef>
#include <cstdint>

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
