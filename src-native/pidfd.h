// Reading another process's sockets from the outside: pidfd_open(2) +
// pidfd_getfd(2) (Linux 5.6+), and reading files inside another network
// namespace. Raw helpers: plain C++, no N-API, -errno on failure.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tv {

// pidfd_open(pid, 0): a new fd referring to the process, or -errno
// (-ESRCH: no such process; -ENOSYS: kernel before 5.3).
int PidfdOpen(int pid);

// Fixed-stride record written by InspectFds, one per target fd:
//   [0]   int32  tcp_info length (0 unless errno == 0)
//   [4]   int32  errno (0 ok; EOPNOTSUPP not a TCP socket; EBADF the fd is
//                gone; EPERM no ptrace rights over the process)
//   [8]   int32  SIOCOUTQ      [12] int32 SIOCOUTQNSD   [16] int32 SIOCINQ
//                (0 for a listening socket, see flags)
//   [20]  int32  SO_KEEPALIVE  [24] TCP_KEEPIDLE (s)  [28] TCP_KEEPINTVL (s)
//   [32]  int32  TCP_KEEPCNT   [36] TCP_USER_TIMEOUT (ms) [40] TCP_SYNCNT
//   [44]  int32  TCP_NODELAY
//   [48]  uint64 SO_COOKIE
//   [56]  int32  TCP_RTO_MAX_MS (-1 where the kernel has no such option)
//   [60]  int32  flags: bit 0 queues read, bit 1 peer address read
//   [64]  32 bytes getsockname (struct sockaddr_in / sockaddr_in6)
//   [96]  32 bytes getpeername
//   [128] tcp_info, (stride - 128) bytes
constexpr size_t kInspectHeader = 128;
constexpr int32_t kInspectQueues = 1;
constexpr int32_t kInspectPeer = 2;

// For each fds[i] of the process behind pidfd: duplicates it with
// pidfd_getfd, reads the record above from the duplicate and closes it at
// once. Read-only: getsockopt, getsockname/getpeername and the queue ioctls;
// never setsockopt, never a write.
void InspectFds(int pidfd, const int32_t* fds, size_t count, uint8_t* out, size_t stride);

// Reads each of `paths` (at most 4095 bytes each) from inside the network
// namespace `ns_path` (e.g. /proc/PID/ns/net): the calling thread enters it
// with setns(2), opens and reads the files, and returns to its own namespace
// before returning. errs[i] is 0 or the errno of that file. Returns 0 or
// -errno when the namespace cannot be entered (-EPERM without CAP_SYS_ADMIN).
int ReadFilesInNetns(const char* ns_path, const std::vector<std::string>& paths,
                     std::vector<std::string>* contents, std::vector<int>* errs);

}  // namespace tv
