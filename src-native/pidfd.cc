// pidfd_open / pidfd_getfd socket inspection and netns file reads: the raw
// helpers (see pidfd.h), then the thin N-API glue.
#include "pidfd.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "args.h"
#include "syscalls.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef CLONE_NEWNET
#define CLONE_NEWNET 0x40000000
#endif

namespace tv {
namespace {

constexpr int kTcpListen = 10;  // TCP_LISTEN in include/net/tcp_states.h
constexpr size_t kAddrBytes = 32;
constexpr size_t kFixedBytes = 64;  // the int32/uint64 fields before the addresses

// The fixed fields are built in this aligned local and copied out with
// memcpy: `out` is any Uint8Array, at any byte offset (a Buffer slice).
struct alignas(8) Fixed {
  int32_t h[kFixedBytes / 4];
};

int ReadInt(int fd, int level, int name, int32_t* out) {
  int v = 0;
  int r = GetSockOpt(fd, level, name, &v, sizeof v);
  if (r < 0) return r;
  *out = v;
  return 0;
}

// Everything but tcp_info and the type check, from a TCP socket fd: the fixed
// fields into `fixed`, the addresses into rec.
int ReadRecord(int fd, uint8_t* rec, int info_len, Fixed* fixed) {
  int32_t* h = fixed->h;
  const bool listening = info_len > 0 && rec[kInspectHeader] == kTcpListen;
  int32_t flags = 0;
  if (!listening) {
    int v = 0;
    if (ioctl(fd, SIOCOUTQ, &v) != 0) return -errno;
    h[2] = v;
    if (ioctl(fd, SIOCOUTQNSD, &v) != 0) return -errno;
    h[3] = v;
    if (ioctl(fd, SIOCINQ, &v) != 0) return -errno;
    h[4] = v;
    flags |= kInspectQueues;
  }
  int r;
  if ((r = ReadInt(fd, SOL_SOCKET, SO_KEEPALIVE, &h[5])) < 0) return r;
  if ((r = ReadInt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &h[6])) < 0) return r;
  if ((r = ReadInt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &h[7])) < 0) return r;
  if ((r = ReadInt(fd, IPPROTO_TCP, TCP_KEEPCNT, &h[8])) < 0) return r;
  if ((r = ReadInt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &h[9])) < 0) return r;
  if ((r = ReadInt(fd, IPPROTO_TCP, TCP_SYNCNT, &h[10])) < 0) return r;
  if ((r = ReadInt(fd, IPPROTO_TCP, TCP_NODELAY, &h[11])) < 0) return r;
  uint64_t cookie = 0;
  if ((r = ReadCookie(fd, &cookie)) < 0) return r;
  std::memcpy(&h[12], &cookie, sizeof cookie);
  h[14] = -1;
  r = ReadInt(fd, IPPROTO_TCP, TCP_RTO_MAX_MS, &h[14]);
  if (r < 0 && r != -ENOPROTOOPT) return r;
  socklen_t len = kAddrBytes;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(rec + 64), &len) != 0) return -errno;
  len = kAddrBytes;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(rec + 96), &len) == 0) {
    flags |= kInspectPeer;
  } else {
    std::memset(rec + 96, 0, kAddrBytes);  // listening or not connected (ENOTCONN)
  }
  h[15] = flags;
  return 0;
}

}  // namespace

int PidfdOpen(int pid) {
  long r = syscall(SYS_pidfd_open, pid, 0);
  return r < 0 ? -errno : static_cast<int>(r);
}

void InspectFds(int pidfd, const int32_t* fds, size_t count, uint8_t* out, size_t stride) {
  const size_t info_cap = stride - kInspectHeader;
  for (size_t i = 0; i < count; i++) {
    uint8_t* rec = out + i * stride;
    std::memset(rec, 0, stride);
    Fixed fixed = {};
    int32_t* h = fixed.h;
    long dup = syscall(SYS_pidfd_getfd, pidfd, fds[i], 0);
    if (dup < 0) {
      h[1] = errno;
      std::memcpy(rec, &fixed, sizeof fixed);
      continue;
    }
    const int fd = static_cast<int>(dup);
    int r = CheckTcp(fd);
    int info_len = 0;
    if (r == 0) r = info_len = ReadTcpInfo(fd, rec + kInspectHeader, info_cap);
    if (r >= 0) r = ReadRecord(fd, rec, info_len, &fixed);
    close(fd);  // the duplicate only; the target's descriptor is untouched
    if (r < 0) {
      std::memset(rec, 0, stride);
      fixed = Fixed{};
      h[1] = -r;
    } else {
      h[0] = info_len;
    }
    std::memcpy(rec, &fixed, sizeof fixed);
  }
}

int ReadFilesInNetns(const char* ns_path, const std::vector<std::string>& paths,
                     std::vector<std::string>* contents, std::vector<int>* errs) {
  // The thread's own namespace (not the process's: setns is per thread).
  int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (own < 0) return -errno;
  int target = open(ns_path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    close(own);
    return -e;
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    int e = errno;
    close(target);
    close(own);
    return -e;
  }
  close(target);
  contents->assign(paths.size(), std::string());
  errs->assign(paths.size(), 0);
  // /proc/sys/net resolves to the namespace of the thread that opens it.
  for (size_t i = 0; i < paths.size(); i++) {
    int fd = open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      (*errs)[i] = errno;
      continue;
    }
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n < 0) (*errs)[i] = errno;
    else (*contents)[i].assign(buf, static_cast<size_t>(n));
    close(fd);
  }
  // Returning cannot fail for a namespace we were in a moment ago; if it did,
  // this thread would open every later socket in the wrong namespace.
  if (setns(own, CLONE_NEWNET) != 0) std::abort();
  close(own);
  return 0;
}

// ------------------------------------------------------------------ N-API

// pidfdOpen(pid) -> fd or -errno.
Napi::Value JsPidfdOpen(const Napi::CallbackInfo& info) {
  RequireArgs(info, 1);
  int32_t pid = ArgInt32(info, 0, "pid");
  if (pid <= 0) throw Napi::RangeError::New(info.Env(), "pid must be > 0");
  return Napi::Number::New(info.Env(), PidfdOpen(pid));
}

// inspectFds(pidfd, fds: Int32Array, count, out: Uint8Array, stride) -> count.
Napi::Value JsInspectFds(const Napi::CallbackInfo& info) {
  RequireArgs(info, 5);
  Napi::Env env = info.Env();
  int pidfd = ArgFd(info, 0);
  Napi::Int32Array fds = ArgInt32Array(info, 1, "fds");
  int32_t count = ArgInt32(info, 2, "count");
  Napi::Uint8Array out = ArgBytes(info, 3, "out");
  int32_t stride = ArgStride(info, 4, kInspectHeader + kTcpInfoMinLength);
  if (count < 0 || static_cast<size_t>(count) > fds.ElementLength() ||
      static_cast<size_t>(count) * static_cast<size_t>(stride) > out.ByteLength())
    throw Napi::RangeError::New(env, "count exceeds fds or out");
  InspectFds(pidfd, reinterpret_cast<const int32_t*>(fds.Data()), static_cast<size_t>(count), out.Data(),
             static_cast<size_t>(stride));
  return Napi::Number::New(env, count);
}

// readFilesInNetns(nsPath, paths: string[]) -> Array<string | number(-errno)>, or -errno.
Napi::Value JsReadFilesInNetns(const Napi::CallbackInfo& info) {
  RequireArgs(info, 2);
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "nsPath must be a string");
  if (!info[1].IsArray()) throw Napi::TypeError::New(env, "paths must be an array of strings");
  std::string ns = info[0].As<Napi::String>().Utf8Value();
  Napi::Array arr = info[1].As<Napi::Array>();
  std::vector<std::string> paths;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value p = arr.Get(i);
    if (!p.IsString()) throw Napi::TypeError::New(env, "paths must be an array of strings");
    paths.push_back(p.As<Napi::String>().Utf8Value());
  }
  std::vector<std::string> contents;
  std::vector<int> errs;
  int r = ReadFilesInNetns(ns.c_str(), paths, &contents, &errs);
  if (r < 0) return Napi::Number::New(env, r);
  Napi::Array result = Napi::Array::New(env, paths.size());
  for (uint32_t i = 0; i < paths.size(); i++) {
    if (errs[i] != 0) result.Set(i, Napi::Number::New(env, -errs[i]));
    else result.Set(i, Napi::String::New(env, contents[i]));
  }
  return result;
}

}  // namespace tv
